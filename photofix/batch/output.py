"""Running a recipe on one batch image: through the step engine, to an output with its record.

A recipe step marked ``"review": true`` (for example ``detect-defects`` or ``remove-defects``)
stops the image there: the steps before it and its proposal run, the proposed mask is written
beside the output (``<stem>.mask.png``) with a marker naming the input and recipe hashes, and
the file is listed for review. :func:`accept_review` later runs the rest for it with the mask
the curator accepted (edited or not), recorded as that mask.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from photofix.batch.plan import BatchItem
from photofix.batch.worker import (
    BatchOptions,
    Outcome,
    _review_marker,
    _thumb_paths,
    write_thumbnail,
)
from photofix.core.provenance import file_sha256


def _context(options: BatchOptions, notes: list[str]):
    from photofix.core.progress import Progress
    from photofix.inference.device import DevicePolicy
    from photofix.ops.registry import OpContext

    policy = DevicePolicy(options.device, half_precision=not options.exact)
    return OpContext(progress=Progress(notice_callback=notes.append), device=policy)


def _load(item: BatchItem, options: BatchOptions):
    from photofix.core import imageio
    from photofix.ops.registry import Layers

    max_pixels = round(options.max_megapixels * 1e6) if options.max_megapixels > 0 else None
    loaded = imageio.load_image(item.source, max_pixels=max_pixels)
    return loaded, Layers(loaded.rgb, loaded.alpha, meta=loaded.meta, source=item.source)


def review_index(recipe) -> int | None:
    """The first step marked for review, or None."""
    return next((i for i, s in enumerate(recipe.steps) if getattr(s, "review", False)), None)


def _review_head(recipe, at: int) -> list:
    """The steps up to the review step, that step replaced by its proposal when it has one
    (``remove-defects`` -> ``remove-defects.propose``: the mask it would fill)."""
    from photofix.ops.steps import PROPOSE_SUFFIX, find_operation

    steps = list(recipe.steps[:at])
    step = recipe.steps[at]
    op = find_operation(step.op)
    if op.review is not None:
        fill = {p.name for p in op.review.fill.params}
        params = {k: v for k, v in step.params.items() if k not in fill}
        step = replace(step, op=step.op + PROPOSE_SUFFIX, params=params)
    return [*steps, step]


def run_recipe(
    item: BatchItem, recipe, recipe_sha: str, options: BatchOptions, notes: list[str]
) -> Outcome:
    from photofix.core.provenance import now
    from photofix.ops.steps import replay

    started = now()
    source_sha = file_sha256(item.source)
    loaded, layers = _load(item, options)
    ctx = _context(options, notes)
    thumbs = _thumb_paths(item) if options.thumbnails else {}
    outcome = Outcome(item.relative, "done", str(item.target))
    if thumbs:
        write_thumbnail(thumbs["thumb_before"], layers.image)
        outcome.thumb_before = str(thumbs["thumb_before"])
    at = review_index(recipe)
    if at is not None:
        head = _review_head(recipe, at)
        done = replay(head, layers, ctx)
        mask = (
            done.layers.mask
            if done.layers.mask is not None
            else np.zeros(layers.image.shape[:2], bool)
        )
        _write_proposal(item, mask, source_sha, recipe_sha, head[-1].op)
        outcome.status, outcome.reason = "review", head[-1].op
        outcome.proposal = str(item.proposal)
        outcome.steps = [_describe(r) for r in done.records]
        if thumbs:
            write_thumbnail(thumbs["thumb_proposal"], mask)
            outcome.thumb_proposal = str(thumbs["thumb_proposal"])
        return outcome
    done = replay(recipe, layers, ctx)
    _save(item, loaded, done, source_sha, recipe_sha, options, started)
    outcome.steps = [_describe(r) for r in done.records]
    if thumbs:
        write_thumbnail(thumbs["thumb_after"], done.layers.image)
        outcome.thumb_after = str(thumbs["thumb_after"])
    return outcome


def accept_review(
    item: BatchItem, recipe, recipe_sha: str, options: BatchOptions, mask: np.ndarray
) -> Outcome:
    """Finish a reviewed image: the steps before the review step, the accepted ``mask``
    (recorded as a painted mask), the review step's fill if it has one, then the rest."""
    from photofix.core.recipe import RecipeStep
    from photofix.ops.steps import MASK_PAINT, find_operation, replay

    at = review_index(recipe)
    if at is None:
        raise ValueError("this recipe has no review step")
    from photofix.core.provenance import now

    notes: list[str] = []
    started = now()
    source_sha = file_sha256(item.source)
    loaded, layers = _load(item, options)
    step = recipe.steps[at]
    op = find_operation(step.op)
    rest = list(recipe.steps[at + 1 :])
    if op.review is not None:  # remove-defects: its fill runs on the accepted mask
        fill_names = {p.name for p in op.review.fill.params}
        fill_params = {k: v for k, v in step.params.items() if k in fill_names}
        rest.insert(0, RecipeStep(op.review.fill.name, fill_params))
    accepted = RecipeStep(MASK_PAINT.name, {}, per_image="mask", label="Accepted mask (review)")
    steps = [*recipe.steps[:at], accepted, *rest]
    done = replay(
        steps,
        layers,
        _context(options, notes),
        per_image=lambda i, s: np.asarray(mask, bool),
    )
    _save(item, loaded, done, source_sha, recipe_sha, options, started)
    _review_marker(item).unlink(missing_ok=True)
    outcome = Outcome(item.relative, "done", str(item.target), notes=notes)
    outcome.steps = [_describe(r) for r in done.records]
    thumbs = _thumb_paths(item)
    write_thumbnail(thumbs["thumb_after"], done.layers.image)
    outcome.thumb_after = str(thumbs["thumb_after"])
    return outcome


def _describe(record) -> str:
    shown = record.resolved or {}
    params = {**record.params, **shown}
    text = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
    return f"{record.op}({text})" if text else record.op


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _write_proposal(item: BatchItem, mask, source_sha: str, recipe_sha: str, step: str) -> None:
    from photofix.core import imageio

    item.proposal.parent.mkdir(parents=True, exist_ok=True)
    imageio.save_mask(item.proposal, mask)
    marker = {
        "format": "photofix-review",
        "input": {"path": str(item.source), "sha256": source_sha},
        "output": {"path": str(item.proposal), "sha256": file_sha256(item.proposal)},
        "batch": {"recipe_sha256": recipe_sha, "review_step": step},
        "set_pixels": int(np.count_nonzero(mask)),
    }
    _atomic_json(_review_marker(item), marker)


def _save(item, loaded, done, source_sha: str, recipe_sha: str, options: BatchOptions, started):
    """The output with its XMP story, then its record (each atomically, the record last: it is
    the "done" mark), through the same code as ``photofix process``."""
    from photofix.core import provenance

    item.target.parent.mkdir(parents=True, exist_ok=True)
    devices = ", ".join(sorted({m.device for r in done.records for m in r.models})) or "cpu"
    provenance.save_recorded(
        item.target,
        done.layers.image,
        done.records,
        source=item.source,
        alpha=done.layers.alpha,
        meta=done.layers.meta,
        source_sha256=source_sha,
        source_meta=loaded.meta,
        operator=options.operator,
        started=started,
        runtime=provenance.runtime_info(devices, exact=options.exact),
        batch={"recipe_sha256": recipe_sha},
        format=options.format,
        bit_depth=options.bit_depth,
        quality=options.quality,
        protect=[item.source],
    )


def _atomic_json(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
