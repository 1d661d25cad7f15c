"""One image of a batch, in a worker process: skip check, recipe replay, output + record.

Runs in worker processes (local engine) or Ray tasks: everything here is picklable plain data
in, an :class:`Outcome` out; errors about the image become a failed outcome with one reason
(the batch goes on), never an exception that stops the pool.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from photofix.batch.plan import REPORT_DIR, BatchItem
from photofix.core.errors import PhotoFixError
from photofix.core.provenance import file_sha256

THUMB_EDGE = 256
_RECIPE: Any = None  # the recipe, loaded once per worker process (init_worker)


@dataclass(frozen=True)
class BatchOptions:
    """Per-batch output and device choices (the same for every image)."""

    format: str | None = None
    bit_depth: int | None = None
    quality: int = 95
    device: str = "auto"
    exact: bool = False
    max_megapixels: float = 250.0
    operator: str | None = None
    record: bool = True
    thumbnails: bool = True


@dataclass
class Outcome:
    """What happened to one image: ``status`` is done, skipped, review or failed."""

    relative: str
    status: str
    target: str
    reason: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    rss_mb: float = 0.0
    proposal: str | None = None
    thumb_before: str | None = None
    thumb_after: str | None = None
    thumb_proposal: str | None = None

    @classmethod
    def failure(cls, item: BatchItem, reason: str, seconds: float = 0.0) -> Outcome:
        return cls(item.relative, "failed", str(item.target), reason, seconds)

    def to_dict(self, base: Path) -> dict[str, Any]:
        def rel(p: str | None) -> str | None:
            if not p:
                return None
            try:
                return Path(os.path.relpath(p, base)).as_posix()
            except ValueError:  # another drive (Windows)
                return p

        d = asdict(self)
        d["file"] = d.pop("relative")
        d["output"] = rel(self.target) if self.status in ("done", "skipped") else None
        d["record"] = rel(self.target + ".photofix.json") if d["output"] else None
        del d["target"]
        for key in ("proposal", "thumb_before", "thumb_after", "thumb_proposal"):
            d[key] = rel(d[key])
        d["seconds"] = round(self.seconds, 3)
        d["rss_mb"] = round(self.rss_mb, 1)
        return d


# ---- hashes and the finished check -----------------------------------------------------------
def load_recipe(path: Path) -> tuple[Any, str]:
    """The recipe (validated before any image is read) and its SHA-256 over its canonical
    JSON, so a reformatted file is the same recipe and an edited one is not."""
    from photofix.core.recipe import load_recipe as _load
    from photofix.ops.steps import check_steps

    recipe = _load(path)
    check_steps(recipe.steps)
    canonical = json.dumps(recipe.to_dict(), sort_keys=True, separators=(",", ":"))
    return recipe, hashlib.sha256(canonical.encode()).hexdigest()


def finished(item: BatchItem, recipe_sha: str) -> Outcome | None:
    """A skipped outcome if ``item`` is already done with this recipe, else None.

    Done means: the output's record names this input's SHA-256 and this recipe's SHA-256, and
    the output file still has the SHA-256 the record gives. A review item is "done" for this
    stage when its marker names the same input and recipe and its proposal is intact.
    """
    marker = _review_marker(item)
    for path, status in ((item.sidecar, "skipped"), (marker, "review")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        batch = data.get("batch", {})
        if batch.get("recipe_sha256") != recipe_sha:
            continue
        try:
            if data["input"]["sha256"] != file_sha256(item.source):
                continue
            checked = item.target if status == "skipped" else item.proposal
            if data["output"]["sha256"] != file_sha256(checked):
                continue
        except (OSError, KeyError, TypeError):
            continue
        outcome = Outcome(item.relative, status, str(item.target))
        if status == "review":
            outcome.proposal = str(item.proposal)
            outcome.reason = batch.get("review_step", "review")
        thumbs = _thumb_paths(item)
        for key, p in thumbs.items():
            if p.is_file():
                setattr(outcome, key, str(p))
        return outcome
    return None


def _review_marker(item: BatchItem) -> Path:
    return item.target.with_name(item.target.name + ".review.json")


# ---- the worker process ------------------------------------------------------------------------
def init_worker(threads: int, recipe: Any) -> None:
    """Per worker process: torch threads, die with the parent, the recipe kept in memory."""
    global _RECIPE
    _RECIPE = recipe
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    if sys.platform.startswith("linux"):
        try:  # die with the batch, so no orphan finishes an item behind a rerun
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


def process_item(item: BatchItem, recipe_sha: str, options: BatchOptions, recipe=None) -> Outcome:
    """Run the recipe on one image and write its output and record (or its proposal)."""
    from photofix.batch import output as batch_output

    recipe = recipe if recipe is not None else _RECIPE
    started = time.perf_counter()
    notes: list[str] = []
    try:
        outcome = batch_output.run_recipe(item, recipe, recipe_sha, options, notes)
    except PhotoFixError as exc:
        outcome = Outcome.failure(item, str(exc))
    except MemoryError:
        outcome = Outcome.failure(item, "not enough memory for this image")
    except OSError as exc:
        outcome = Outcome.failure(item, f"{exc.strerror or exc} ({exc.filename or item.source})")
    outcome.notes = notes
    outcome.seconds = time.perf_counter() - started
    outcome.rss_mb = _rss_mb()
    return outcome


def _thumb_paths(item: BatchItem) -> dict[str, Path]:
    key = hashlib.sha1(item.relative.encode()).hexdigest()[:16]
    folder = item.target.parents[len(Path(item.relative).parts) - 1] / REPORT_DIR / "thumbs"
    return {
        "thumb_before": folder / f"{key}-before.jpg",
        "thumb_after": folder / f"{key}-after.jpg",
        "thumb_proposal": folder / f"{key}-mask.jpg",
    }


def write_thumbnail(path: Path, rgb: np.ndarray) -> None:
    """A small JPEG of a float RGB (or bool mask) image for the report."""
    from PIL import Image

    if rgb.dtype == bool:
        arr = np.where(rgb, 255, 0).astype(np.uint8)
    else:
        arr = np.clip(np.rint(np.asarray(rgb, np.float32) * 255), 0, 255).astype(np.uint8)
    img = Image.fromarray(arr)
    img.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    img.convert("RGB").save(tmp, "JPEG", quality=80)
    os.replace(tmp, path)


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
