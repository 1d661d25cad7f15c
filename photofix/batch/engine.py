"""The batch engine: a recipe over many scans, resumable, with progress and a report.

``run_batch(job, control=None, out=sys.stderr)`` plans the items (:mod:`photofix.batch.plan`),
skips those already finished (:func:`photofix.batch.worker.finished`: the output's record
names this input's SHA-256 and this recipe's SHA-256, and the output still has the SHA-256 its
record gives), runs the rest on a pool of worker processes (or Ray, see
:mod:`photofix.batch.ray_engine`), prints progress with images per minute and an ETA, and
writes ``batch-report.json`` and ``batch-report.html`` in the output folder.

Resuming. An output and then its record are each written atomically, the record last, and the
record carries the output's hash, so a batch stopped at any moment (Ctrl-C, SIGTERM, SIGKILL,
power loss) is resumed by running the same command again: what was finished is skipped, what
was half-done is done again, and nothing half-written is taken as finished. Worker processes
die with the batch (Linux: PR_SET_PDEATHSIG), so no orphan finishes an item behind a rerun.

Memory. Each worker process loads the recipe's models once and handles one image at a time,
so memory does not grow with the number of files. Sizing: on the CPU, workers × torch threads
≤ cores; on a GPU, one worker per GPU (one GPU job at a time).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from photofix.batch.plan import BatchItem, plan_batch
from photofix.batch.report import write_report
from photofix.batch.worker import (
    BatchOptions,
    Outcome,
    finished,
    init_worker,
    load_recipe,
    process_item,
)

__all__ = ["BatchControl", "BatchJob", "BatchResult", "run_batch", "size_workers"]


@dataclass
class BatchJob:
    """What the user asked for (the CLI's ``photofix batch`` arguments, or the Batch dialog)."""

    recipe: Path
    inputs: list[str]
    output_dir: Path
    recursive: bool = False
    workers: int = 0  # 0: size to the machine
    engine: str = "local"  # "local" | "ray"
    address: str | None = None  # Ray cluster address
    options: BatchOptions = field(default_factory=BatchOptions)


class BatchControl:
    """Pause, resume and cancel from another thread (the window); checked between images.

    Cancel lets the images already running finish (each is written whole or not at all) and
    starts no more; a later run resumes where it stopped.
    """

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self.cancelled = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def cancel(self) -> None:
        self.cancelled.set()
        self._running.set()

    def wait_while_paused(self) -> None:
        while not self._running.wait(0.1):
            pass


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    seconds: float
    report_json: Path
    report_html: Path
    cancelled: bool = False

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 only when nothing failed (cancelled counts as not finished: 130)."""
        if self.count("failed"):
            return 1
        return 130 if self.cancelled else 0


def size_workers(requested: int, items: int, device: str, cores: int | None = None):
    """(worker processes, torch threads each): CPU work fills the cores without
    oversubscribing them; accelerator work runs one job at a time per device."""
    cores = cores or os.cpu_count() or 1
    if device in ("cuda", "mps"):
        return 1, max(1, min(4, cores))
    workers = requested if requested > 0 else cores
    workers = max(1, min(workers, items, cores))
    return workers, max(1, cores // workers)


def _device_kind(options: BatchOptions) -> str:
    if options.device != "auto":
        return options.device
    from photofix.inference.device import DevicePolicy

    return DevicePolicy(options.device).resolve().kind


def run_batch(
    job: BatchJob,
    control: BatchControl | None = None,
    out: TextIO | None = None,
    on_outcome: Callable[[Outcome, int, int], None] | None = None,
) -> BatchResult:
    """Run a batch to the end (or to a cancel); see the module docstring."""
    out = out if out is not None else sys.stderr
    control = control or BatchControl()
    recipe, recipe_sha = load_recipe(job.recipe)  # rejects a bad recipe before any image
    items = plan_batch(
        job.inputs, job.output_dir, recursive=job.recursive, output_format=job.options.format
    )
    job.output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, BatchItem]] = []
    for index, item in enumerate(items):
        skipped = finished(item, recipe_sha)
        if skipped is not None:
            outcomes[index] = skipped
        else:
            todo.append((index, item))
    progress = _Progress(len(items), len(outcomes), out)
    progress.start(len(todo))
    for index in sorted(outcomes):
        if on_outcome:
            on_outcome(outcomes[index], len(outcomes), len(items))

    cancelled = False
    if todo:
        runner = _run_ray if job.engine == "ray" else _run_local
        for index, outcome in runner(job, recipe, recipe_sha, todo, control):
            outcomes[index] = outcome
            progress.update(outcome)
            if on_outcome:
                on_outcome(outcome, len(outcomes), len(items))
        cancelled = control.cancelled.is_set() and len(outcomes) < len(items)
    ordered = [outcomes[i] for i in sorted(outcomes)]
    seconds = time.perf_counter() - started
    report_json, report_html = write_report(
        job.output_dir, ordered, job=job, recipe_sha=recipe_sha, seconds=seconds
    )
    result = BatchResult(ordered, seconds, report_json, report_html, cancelled)
    progress.finish(result)
    return result


# ---- engines -----------------------------------------------------------------------------------
def _run_local(job, recipe, recipe_sha, todo, control):
    workers, threads = size_workers(job.workers, len(todo), _device_kind(job.options))
    if workers == 1:
        yield from _run_inline(job, recipe, recipe_sha, todo, control)
        return
    context = multiprocessing.get_context("spawn")  # no forked torch/OpenMP state
    with cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=init_worker,
        initargs=(threads, recipe),
    ) as pool:
        pending: dict[cf.Future, int] = {}
        queue = list(todo)
        by_index = dict(todo)
        try:
            while queue or pending:
                while queue and len(pending) < workers and not control.cancelled.is_set():
                    control.wait_while_paused()
                    if control.cancelled.is_set():
                        break
                    index, item = queue.pop(0)
                    future = pool.submit(process_item, item, recipe_sha, job.options)
                    pending[future] = index
                if not pending:
                    break
                done, _ = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    yield index, _outcome_of(future, by_index[index])
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _run_inline(job, recipe, recipe_sha, todo, control):
    """One worker: in this process (the window's Batch dialog, GPU work, small batches); the
    models stay loaded in this process's runner cache."""
    for index, item in todo:
        control.wait_while_paused()
        if control.cancelled.is_set():
            return
        yield index, process_item(item, recipe_sha, job.options, recipe=recipe)


def _outcome_of(future: cf.Future, item: BatchItem) -> Outcome:
    try:
        return future.result()
    except cf.process.BrokenProcessPool:
        return Outcome.failure(item, "the worker process died (out of memory, or killed)")
    except Exception as exc:  # an error the worker did not turn into an outcome
        return Outcome.failure(item, f"{type(exc).__name__}: {exc}")


def _run_ray(job, recipe, recipe_sha, todo, control):
    from photofix.batch import ray_engine

    yield from ray_engine.run(job, recipe, recipe_sha, todo, control)


# ---- progress ----------------------------------------------------------------------------------
class _Progress:
    """tqdm on a terminal; elsewhere one plain line per image. Rates count only this run's
    work (skipped files are instant), so the ETA is honest on a resumed batch."""

    def __init__(self, total: int, skipped: int, out: TextIO) -> None:
        self.total, self.skipped, self.out = total, skipped, out
        self.done = 0
        self.tty = hasattr(out, "isatty") and out.isatty()
        self._bar: Any = None

    def start(self, todo: int) -> None:
        self.todo, self.t0 = todo, time.perf_counter()
        if self.skipped:
            print(
                f"photofix batch: {self.skipped} of {self.total} already done (skipped), "
                f"{todo} to do",
                file=self.out,
                flush=True,
            )
        if self.tty and todo:
            from tqdm import tqdm

            self._bar = tqdm(total=todo, file=self.out, unit="img", dynamic_ncols=True)

    def _rate(self) -> float:
        elapsed = time.perf_counter() - self.t0
        return 60.0 * self.done / elapsed if elapsed > 0 and self.done else 0.0

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        rate = self._rate()
        left = self.todo - self.done
        eta = _clock(60.0 * left / rate) if rate else "?"
        for note in outcome.notes:
            self._line(f"{outcome.relative}: {note}")
        if outcome.status == "failed":
            self._line(f"{outcome.relative}: error: {outcome.reason}")
        elif outcome.status == "review":
            self._line(f"{outcome.relative}: proposal written for review ({outcome.reason})")
        if self._bar is not None:
            self._bar.set_postfix_str(f"{rate:.1f} img/min", refresh=False)
            self._bar.update(1)
        else:
            self._line(
                f"[{self.done}/{self.todo}] {outcome.status} {outcome.relative} "
                f"({outcome.seconds:.1f} s) {rate:.1f} img/min ETA {eta}"
            )

    def _line(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.out)
        else:
            print(text, file=self.out, flush=True)

    def finish(self, result: BatchResult) -> None:
        if self._bar is not None:
            self._bar.close()
        parts = [
            f"{result.count('done')} done",
            f"{result.count('skipped')} skipped",
            f"{result.count('review')} for review",
            f"{result.count('failed')} failed",
        ]
        rate = self._rate()
        print(
            f"photofix batch: {', '.join(parts)} in {_clock(result.seconds)}"
            + (f" ({rate:.1f} images/minute)" if rate else "")
            + (" — cancelled; run the same command again to resume" if result.cancelled else ""),
            file=self.out,
            flush=True,
        )
        for o in result.outcomes:
            if o.status == "failed":
                print(f"  failed: {o.relative}: {o.reason}", file=self.out)
        print(f"  report: {result.report_html}", file=self.out, flush=True)


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
