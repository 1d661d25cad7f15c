"""The Ray engine: one task per image on a Ray cluster (or a local Ray instance).

The only module that imports ``ray`` (an optional extra: ``pip install photofix[ray]``).
The driver plans, skips finished items and writes the report exactly as the local engine
does; each task runs :func:`photofix.batch.worker.process_item`, so outputs, records and the
resume check are the same. Ray reuses its worker processes, and each keeps the models it
loaded (the runner cache is per process), so models load once per worker. GPU work asks Ray
for one GPU per task: Ray then runs one image per GPU at a time.

Files: every node must see the inputs and the output folder at the same paths (shared
storage); see docs/cluster.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from photofix.batch.plan import BatchItem
from photofix.batch.worker import Outcome, process_item
from photofix.core.errors import PhotoFixError


def _ray():
    try:
        import ray
    except ImportError:
        raise PhotoFixError(
            "the Ray engine needs Ray: pip install 'photofix[ray]' (or use --engine local)"
        ) from None
    return ray


def run(job, recipe, recipe_sha, todo: list[tuple[int, BatchItem]], control) -> Iterator:
    ray = _ray()
    started_here = False
    if not ray.is_initialized():
        kwargs = {"include_dashboard": False, "log_to_driver": False}
        if job.address:
            ray.init(address=job.address, **kwargs)
        else:
            cpus = job.workers if job.workers > 0 else (os.cpu_count() or 1)
            ray.init(num_cpus=cpus, **kwargs)
        started_here = True
    try:
        gpu = job.options.device in ("cuda", "auto") and ray.cluster_resources().get("GPU", 0) > 0
        task = ray.remote(num_cpus=1, num_gpus=1 if gpu else 0, max_retries=0)(_task)
        recipe_ref = ray.put(recipe)
        pending: dict = {}
        queue = list(todo)
        limit = max(1, int(ray.cluster_resources().get("CPU", 1)) * 2)
        by_index = dict(todo)
        while queue or pending:
            while queue and len(pending) < limit and not control.cancelled.is_set():
                control.wait_while_paused()
                if control.cancelled.is_set():
                    break
                index, item = queue.pop(0)
                pending[task.remote(item, recipe_sha, job.options, recipe_ref)] = index
            if not pending:
                break
            done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in done:
                index = pending.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # the task's worker died
                    outcome = Outcome.failure(by_index[index], f"Ray task failed: {exc}")
                yield index, outcome
    finally:
        if started_here:
            ray.shutdown()


def _task(item, recipe_sha, options, recipe) -> Outcome:
    return process_item(item, recipe_sha, options, recipe=recipe)
