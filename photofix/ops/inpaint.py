"""``inpaint`` (fill the mask layer) and ``remove-defects`` (detect, then fill), both headless.

``engine=fast`` is OpenCV's Telea fast marching: instant, fine for thin lines and dust, smears
large holes. ``engine=patch`` (:mod:`photofix.ops.patchmatch`) solves cracks, scratches and dust
up to 24 px thick biharmonically (edges continue through them) and fills larger holes by
multi-scale PatchMatch exemplar synthesis (real texture from the rest of the picture). Either
way the pixels outside the mask are returned bit-identical, and the work is confined to crops
around the holes, so the cost follows the mask, not the image size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from photofix.core.errors import OperationError
from photofix.inference.progress import Progress
from photofix.ops import defects
from photofix.ops.defect_choice import RegionChoice
from photofix.ops.patchmatch import inpaint_fast, inpaint_patch
from photofix.ops.registry import Layers, MaskReview, OpContext, Operation, Param

ENGINES = ("fast", "patch")


def inpaint(
    image: np.ndarray, mask: np.ndarray, engine: str = "patch", progress: Progress | None = None
) -> np.ndarray:
    """Fill ``mask`` (bool HxW) in ``image`` (float32 HxWx3 [0,1]) with ``engine``; returns a new
    float32 HxWx3 image, bit-identical to ``image`` outside the mask."""
    if engine == "fast":
        return inpaint_fast(image, mask, progress)
    if engine == "patch":
        return inpaint_patch(image, mask, progress)
    raise OperationError(f"unknown inpainting engine {engine!r}; choose from {', '.join(ENGINES)}")


def _run_inpaint(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    mask = layers.mask
    if mask is None or not mask.any():
        raise OperationError(
            "the mask is empty: paint the damage first, run detect-defects, or give --mask FILE"
        )
    ctx.progress.update(0.0, "Inpainting")
    if params["engine"] == "patch":
        ctx.facts.seed("patchmatch", 0)  # inpaint_patch's fixed default seed
    image = inpaint(layers.image, mask, params["engine"], ctx.progress)
    ctx.progress.update(1.0, "Inpainted")
    return layers.replace(image=image)


FILL_CHOICES = ("confident", "all")


def _propose_remove(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    """The mask ``remove-defects`` fills: the confident detections (``fill=all``: every
    detection) grown by 1 px, inside the alpha. Says what it found and what it leaves, records
    how many regions of each kind it found and proposed, and attaches every region found
    (``regions``: a :class:`~photofix.ops.defect_choice.RegionChoice`) for a GUI to list."""
    kinds = defects.parse_kinds(params["kinds"])
    found = defects.find_regions(
        layers.image, params["sensitivity"], kinds, ctx.progress, ctx.device
    )
    fill_all = params.get("fill", "confident") == "all"
    choice = RegionChoice.of(found, layers.alpha, fill_all)
    chosen = choice.fill_mask()
    taken = np.unique(found.labels[chosen & (found.labels > 0)]).size
    left = len(found.regions) - taken
    held = 0 if fill_all else sum(r.held for r in found.regions)
    lines = 0 if fill_all else sum(r.sure and r.kind in defects.REVIEW_ONLY for r in found.regions)
    crowded = 0 if fill_all else sum(r.sure and r.crowded for r in found.regions)
    for kind in kinds:
        ctx.facts.resolve(f"found_{kind}", sum(r.kind == kind for r in found.regions))
    ctx.facts.resolve("proposed", len(choice.proposed))
    if held:
        ctx.facts.resolve("held", held)
    if crowded:
        ctx.facts.resolve("crowded", crowded)
    ctx.facts.attach("regions", choice)
    message = (
        f"Damage to fill: {taken} region{'s' if taken != 1 else ''},"
        f" {100 * float(chosen.mean()):.3f} % of the pixels."
    )
    if left:
        message += (
            f" {left} region{'s' if left != 1 else ''} left unfilled for review"
            " (detect-defects proposes them)."
        )
    if lines:
        message += (
            f" {lines} of them {'are' if lines != 1 else 'is a'} scratch-like"
            f" line{'s' if lines != 1 else ''} found with confidence, never filled unreviewed:"
            " on real scans such lines were picture content (a pole, a rail, a seam) in every"
            " case measured; accept them in the window, or use fill=all."
        )
    if crowded:
        message += (
            f" {crowded} of them {'are specks' if crowded != 1 else 'is a speck'} found with"
            " confidence among many alike blobs of the picture the detector did not take"
            " (windows, gravel, a crowd), left for review."
        )
    if held:
        message += (
            f" {held} of them {'were' if held != 1 else 'was'} confident but past the one-step"
            f" cap of {100 * defects.ONE_STEP_CAP:g} % of the picture: check them before filling."
        )
    ctx.progress.notice(message)
    return layers.replace(mask=chosen)


def _run_remove(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    find = OpContext(ctx.progress.sub(0.0, 0.4), ctx.device, ctx.facts)
    fill = _propose_remove(layers, params, find).mask
    assert fill is not None
    if not fill.any():
        ctx.progress.notice("No damage was found with confidence; the image is unchanged.")
        return layers.replace(image=layers.image.copy(), mask=fill)
    if params["engine"] == "patch":
        ctx.facts.seed("patchmatch", 0)  # inpaint_patch's fixed default seed
    image = inpaint(layers.image, fill, params["engine"], ctx.progress.sub(0.4, 1.0))
    return layers.replace(image=image, mask=fill)


INPAINT = Operation(
    name="inpaint",
    title="Fill the masked damage",
    summary="Fill the mask layer from its surroundings (fast: Telea; patch: texture synthesis).",
    params=(
        Param("engine", "choice", "patch", "fast preview or texture-aware fill", choices=ENGINES),
    ),
    run=_run_inpaint,
    writes=("image",),
    blendable=False,
    reads=("mask",),
)

REMOVE = Operation(
    name="remove-defects",
    title="Remove dust and scratches",
    summary=(
        "Find dust and scratches and fill the confident dust in one step (scratch lines are"
        " left for review; the mask is kept)."
    ),
    params=(
        Param("sensitivity", "float", 0.5, "higher finds fainter damage", 0.0, 1.0),
        Param(
            "kinds",
            "str",
            ",".join(defects.DEFAULT_KINDS),
            "dust, scratches, tears, spots, film-lines",
        ),
        Param("engine", "choice", "patch", "fast preview or texture-aware fill", choices=ENGINES),
        Param(
            "fill",
            "choice",
            "confident",
            "confident: only damage found with high confidence; all: every detection",
            choices=FILL_CHOICES,
        ),
    ),
    run=_run_remove,
    writes=("image", "mask"),
    blendable=False,
    # in the GUI the mask is shown first, to be checked and edited, then filled
    review=MaskReview(propose=_propose_remove, fill=INPAINT),
)
