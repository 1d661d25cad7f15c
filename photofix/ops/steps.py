"""The one step engine: run a step, record what it did, commit it, replay a list of steps.

The window, the CLI, recipes and batch runs all go through these functions (no Qt here).

API summary
-----------
``StepRequest(op, params={}, blend=Blend(), label=None, mask=None, hints=None)``
    What to run: an :class:`~photofix.ops.registry.Operation` (or its name, see
    :func:`find_operation`), parameters (typed values or CLI text), the blend
    (:class:`~photofix.core.recipe.Blend`: strength / limit_to_mask / feather). ``mask`` and
    ``hints`` (``(hints, hint_mask)``) are per-image data set *before* the step: a painted mask
    (``mask-paint``), a ``--mask`` file, painted colour hints (``hint-paint``).
``run_step(request, layers, ctx=None) -> StepResult``
    Runs it on :class:`~photofix.ops.registry.Layers` (blend semantics exactly those of
    :func:`~photofix.ops.registry.run_operation`) and returns ``StepResult(op, params, layers,
    record, attachments)``: ``layers`` is every layer after the step, ``record`` the
    :class:`~photofix.core.recipe.StepRecord` (parameters as given / complete / resolved by the
    operation, models with weight SHA-256 and licence, device, dtype, tile, seeds, mask digest,
    notices, timing), ``attachments`` what the operation handed back beside the record
    (``ctx.facts.attach``; never recorded). Safe to call on a worker thread. Raises
    OperationError, ModelMissing, Cancelled as the operation does.
``commit(document, result) -> Step | None``
    Puts the result's ``op.writes`` layers (and a changed ``meta``, e.g. DPI) into the Document
    as one undoable step carrying the record; ``document.journal`` lists the records.
``layers_of(document, op=None, crop=None) -> Layers``
    The Layers an operation reads from a Document (a crop for a live preview).
``replay(steps, layers, ctx=None, *, per_image=None) -> Replay``
    Runs a Recipe, RecipeSteps or StepRecords in order; ``Replay(layers, records)``.
    ``per_image(index, request)`` supplies the painted mask / hints of per-image steps.
``check_steps(steps) -> list[StepRequest]``
    Validates every step (known operation, parameters, blend) before any image is read;
    RecipeError names the step and the reason.
``find_operation(name)``
    The registry's operations plus the engine's own: ``mask-clear``, ``mask-invert``,
    ``mask-grow``, ``mask-paint``, ``hint-paint`` and ``<op>.propose`` (the first half of an
    operation with a review, e.g. ``remove-defects.propose``: a detection that replays as
    detection). ``proposal_operation(op)`` builds the latter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from photofix.core.errors import OperationError
from photofix.core.mask import grow
from photofix.core.recipe import (
    SYNTHESIS_TASKS,
    Blend,
    HintsRef,
    MaskRef,
    Recipe,
    RecipeError,
    RecipeStep,
    StepFacts,
    StepRecord,
    collecting,
)
from photofix.ops.registry import Layers, OpContext, Operation, Param, run_operation

if TYPE_CHECKING:
    from photofix.core.document import Document
    from photofix.core.history import Box, Step

PROPOSE_SUFFIX = ".propose"


# ---- the engine's own operations: mask edits and painted data --------------------------------
def _clear(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    return layers.replace(mask=np.zeros(layers.image.shape[:2], bool))


def _invert(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    mask = layers.mask if layers.mask is not None else np.zeros(layers.image.shape[:2], bool)
    return layers.replace(mask=~mask)


def _grow(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    mask = layers.mask if layers.mask is not None else np.zeros(layers.image.shape[:2], bool)
    return layers.replace(mask=grow(mask, params["pixels"]))


def _painted(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    return layers  # the request set the painted layer before the step


MASK_CLEAR = Operation(
    "mask-clear", "Clear mask", "Clear the mask layer.", (), _clear, ("mask",), False
)
MASK_INVERT = Operation(
    "mask-invert", "Invert mask", "Invert the mask layer.", (), _invert, ("mask",), False,
    reads=("mask",),
)  # fmt: skip
MASK_GROW = Operation(
    "mask-grow",
    "Grow mask",
    "Grow the mask by some pixels (shrink with a negative number).",
    (Param("pixels", "int", 1, "pixels to grow (negative: shrink)", -256, 256),),
    _grow,
    ("mask",),
    False,
    reads=("mask",),
)
MASK_PAINT = Operation(
    "mask-paint",
    "Mask stroke",
    "Set the mask layer to a painted (or loaded) mask; per-image data.",
    (),
    _painted,
    ("mask",),
    False,
)
HINT_PAINT = Operation(
    "hint-paint",
    "Hint stroke",
    "Set the colour hints to painted (or loaded) ones; per-image data.",
    (),
    _painted,
    ("hints", "hint_mask"),
    False,
)
ENGINE_OPERATIONS = {
    op.name: op for op in (MASK_CLEAR, MASK_INVERT, MASK_GROW, MASK_PAINT, HINT_PAINT)
}


def proposal_operation(op: Operation) -> Operation:
    """The first half of an operation with a review: the mask it would fill, as an operation
    of its own (``<name>.propose``), with the parameters the fill does not take."""
    if op.review is None:
        raise OperationError(f"{op.name} has no mask to check first")
    fill_params = {p.name for p in op.review.fill.params}
    return replace(
        op,
        name=op.name + PROPOSE_SUFFIX,
        title=f"{op.title}: mask to check",
        summary=f"The mask {op.name} would fill, to check before filling it.",
        params=tuple(p for p in op.params if p.name not in fill_params),
        run=op.review.propose,
        writes=("mask",),
        blendable=False,
        review=None,
    )


def find_operation(name: str) -> Operation:
    """A registered operation, one of :data:`ENGINE_OPERATIONS`, or ``<op>.propose``."""
    from photofix.ops import REGISTRY

    if name in ENGINE_OPERATIONS:
        return ENGINE_OPERATIONS[name]
    if name.endswith(PROPOSE_SUFFIX) and name[: -len(PROPOSE_SUFFIX)] in REGISTRY:
        return proposal_operation(REGISTRY.get(name[: -len(PROPOSE_SUFFIX)]))
    return REGISTRY.get(name)


def mask_edit_request(kind: str, pixels: int = 0) -> StepRequest:
    """The request for a whole-mask edit: ``clear``, ``invert`` or ``grow`` (by ``pixels``,
    negative to shrink); its label is what the history panel shows."""
    if kind == "grow":
        verb = "Grow" if pixels > 0 else "Shrink"
        return StepRequest(MASK_GROW, {"pixels": pixels}, label=f"{verb} mask by {abs(pixels)} px")
    op = {"clear": MASK_CLEAR, "invert": MASK_INVERT}.get(kind)
    if op is None:
        raise ValueError(f"unknown mask edit {kind!r}")
    return StepRequest(op)


# ---- requests and results ------------------------------------------------------------------
@dataclass
class StepRequest:
    """One step to run (see the module docstring)."""

    op: Operation | str
    params: Mapping[str, Any] = field(default_factory=dict)
    blend: Blend = field(default_factory=Blend)
    label: str | None = None
    mask: np.ndarray | None = None
    hints: tuple[np.ndarray, np.ndarray] | None = None

    def operation(self) -> Operation:
        return find_operation(self.op) if isinstance(self.op, str) else self.op


@dataclass
class StepResult:
    """What :func:`run_step` returns: the operation, its complete parameters, every layer
    after the step, the step's record, and what the operation attached for the caller
    (:meth:`~photofix.core.recipe.StepFacts.attach`: in memory only, not in the record)."""

    op: Operation
    params: dict[str, Any]
    layers: Layers
    record: StepRecord
    before: Layers | None = field(default=None, repr=False)
    attachments: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return self.record.label


def _check_blend(op: Operation, blend: Blend) -> None:
    if not 0.0 <= blend.strength <= 1.0:
        raise OperationError("strength must be between 0 and 1")
    if blend.feather < 0:
        raise OperationError("feather must be 0 or more pixels")
    if not op.blendable and not blend.is_plain:
        raise OperationError(f"{op.title} cannot be blended (strength or mask limit)")


def run_step(request: StepRequest, layers: Layers, ctx: OpContext | None = None) -> StepResult:
    """Run one step on ``layers`` and record it (see the module docstring)."""
    op = request.operation()
    params = op.resolve(request.params)
    blend = request.blend
    _check_blend(op, blend)
    ctx = ctx or OpContext()
    facts = StepFacts()
    ctx = replace(ctx, facts=facts)
    if request.mask is not None:
        layers = layers.replace(mask=np.ascontiguousarray(request.mask, bool))
    if request.hints is not None:
        hints, hint_mask = request.hints
        layers = layers.replace(
            hints=np.ascontiguousarray(hints, np.float32),
            hint_mask=np.ascontiguousarray(hint_mask, bool),
        )
    h, w = layers.image.shape[:2]
    notices_before = len(ctx.progress.notices)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    with collecting(facts):
        result = run_operation(
            op,
            layers,
            params,
            ctx,
            strength=blend.strength,
            limit_to_mask=blend.limit_to_mask,
            feather=blend.feather,
        )
    seconds = time.perf_counter() - t0
    record = StepRecord(
        op=op.name,
        version=op.version,
        label=request.label or op.title,
        params=_plain(params),
        given=_plain({k: params[k] for k in request.params}),
        resolved=dict(facts.resolved),
        blend=blend,
        models=list(facts.models),
        seeds=dict(facts.seeds),
        notices=ctx.progress.notices[notices_before:],
        started=started.isoformat(timespec="seconds"),
        seconds=round(seconds, 3),
        size_before=(w, h),
        size_after=(result.image.shape[1], result.image.shape[0]),
    )
    if facts.models:
        record.device, record.dtype = facts.models[-1].device, facts.models[-1].dtype
        tiles = [m.tile for m in facts.models if m.tile is not None]
        record.tile = min(tiles) if tiles else None
    record.synthesised = any(m.task in SYNTHESIS_TASKS for m in facts.models)
    record.mask = _mask_ref(op, request, blend, layers, result)
    if request.hints is not None:
        record.hints = HintsRef.of(*request.hints)
    return StepResult(
        op, params, result, record, before=layers, attachments=dict(facts.attachments)
    )


def _mask_ref(
    op: Operation, request: StepRequest, blend: Blend, before: Layers, after: Layers
) -> MaskRef | None:
    if request.mask is not None:
        return MaskRef.of(request.mask, "painted")
    if blend.limit_to_mask and before.mask is not None:
        return MaskRef.of(before.mask, "limit")
    if "mask" in op.reads and before.mask is not None:
        return MaskRef.of(before.mask, "read")
    if op.writes == ("mask",) and after.mask is not None and not op.reads:
        return MaskRef.of(after.mask, "proposed")
    return None


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}


# ---- the Document --------------------------------------------------------------------------
def layers_of(
    document: Document, op: Operation | None = None, *, crop: Box | None = None
) -> Layers:
    """What an operation reads from ``document`` (copies, except the whole image, which only
    changes through commits); ``crop`` (y0, x0, y1, x1) for a live preview."""
    doc = document
    sl = (slice(None), slice(None)) if crop is None else np.s_[crop[0] : crop[2], crop[1] : crop[3]]
    image = doc.image[sl]
    if crop is not None:
        image = image.copy()
    alpha = None if doc.alpha is None else doc.alpha[sl].copy()
    hints = hint_mask = None
    if doc.hint_mask.any():
        hints, hint_mask = doc.hints[sl].copy(), doc.hint_mask[sl].copy()
    elif op is not None and {"hints", "hint_mask"} & set(op.writes):
        h, w = image.shape[:2]
        hints, hint_mask = np.zeros((h, w, 3), np.float32), np.zeros((h, w), bool)
    return Layers(
        image=image,
        alpha=alpha,
        mask=doc.mask[sl].copy(),
        hints=hints,
        hint_mask=hint_mask,
        meta=doc.meta,
        source=doc.path,
    )


def history_params(result: StepResult) -> dict[str, Any]:
    """The parameters a history row shows: the complete ones plus a blend that is not plain."""
    out = dict(result.params)
    blend = result.record.blend
    if result.op.blendable and blend.strength != 1.0:
        out["strength"] = blend.strength
    if result.op.blendable and blend.limit_to_mask:
        out.update(mask="limit", feather=blend.feather)
    return out


def commit(document: Document, result: StepResult) -> Step | None:
    """Commit ``result`` into ``document`` as one undoable step carrying its record (None when
    it changed nothing)."""
    layers: dict[str, np.ndarray | None] = {
        name: getattr(result.layers, name) for name in result.op.writes
    }
    h, w = result.layers.image.shape[:2]
    empty = {"mask": (h, w), "hint_mask": (h, w), "hints": (h, w, 3)}
    for name, shape in empty.items():  # these layers always exist in a Document
        if name in layers and layers[name] is None:
            layers[name] = np.zeros(shape, np.float32 if name == "hints" else bool)
    meta = result.layers.meta if result.layers.meta is not document.meta else None
    return document.commit(
        result.label,
        layers,
        op=result.op.name,
        params=history_params(result),
        record=result.record,
        meta=meta,
    )


# ---- many steps ----------------------------------------------------------------------------
StepLike = RecipeStep | StepRecord | StepRequest
PerImage = Callable[[int, "StepRequest"], Any]


@dataclass
class Replay:
    """The layers after every step, and each step's record."""

    layers: Layers
    records: list[StepRecord]


def _as_steps(steps: Recipe | Iterable[StepLike]) -> list[StepLike]:
    return list(steps.steps if isinstance(steps, Recipe) else steps)


def _per_image_kind(step: StepLike) -> str | None:
    if isinstance(step, RecipeStep):
        return step.per_image
    if isinstance(step, StepRecord):
        if step.hints is not None:
            return "hints"
        return "mask" if step.per_image else None
    op = step.operation()  # a request for a painted layer that brings no data
    if op is MASK_PAINT and step.mask is None:
        return "mask"
    if op is HINT_PAINT and step.hints is None:
        return "hints"
    return None


def check_steps(steps: Recipe | Iterable[StepLike]) -> list[StepRequest]:
    """Every step as a validated request, before any image is read. RecipeError names the
    step ("step 2 (denoise): parameter 'sigma' must be ...")."""
    out = []
    for i, step in enumerate(_as_steps(steps), 1):
        name = step.op if isinstance(step.op, str) else step.op.name
        try:
            if isinstance(step, StepRequest):
                request = step
            else:
                request = StepRequest(step.op, dict(step.params), step.blend, step.label)
            op = request.operation()
            op.resolve(request.params)  # validated here; run_step resolves again
            _check_blend(op, request.blend)
            out.append(replace(request, op=op))
        except OperationError as exc:
            raise RecipeError(f"step {i} ({name}): {exc}") from None
        version = getattr(step, "version", op.version)
        if version > op.version:
            raise RecipeError(
                f"step {i} ({name}): recorded with version {version} of the operation, but "
                f"this PhotoFix has version {op.version}; update PhotoFix"
            )
    return out


def replay(
    steps: Recipe | Iterable[StepLike],
    layers: Layers,
    ctx: OpContext | None = None,
    *,
    per_image: PerImage | None = None,
) -> Replay:
    """Run ``steps`` in order on ``layers``; progress is split evenly between the steps.

    Per-image steps (a painted mask or hints) take their data from ``per_image(index,
    request)`` (index from 0, the step's validated StepRequest); without it, a StepRecord uses
    the data it holds in memory, and anything else is refused with the step named."""
    items = _as_steps(steps)
    requests = check_steps(items)
    ctx = ctx or OpContext()
    records = []
    n = len(requests)
    for i, (step, request) in enumerate(zip(items, requests, strict=True)):
        kind = _per_image_kind(step)
        if kind is not None:
            data = per_image(i, request) if per_image is not None else _held(step)
            if data is None:
                raise RecipeError(
                    f"step {i + 1} ({request.operation().name}) needs this image's own"
                    f" painted {kind}"
                )
            if kind == "mask":
                request = replace(request, mask=data)
            else:
                request = replace(request, hints=data)
        sub = replace(ctx, progress=ctx.progress.sub(i / n, (i + 1) / n))
        result = run_step(request, layers, sub)
        layers = result.layers
        records.append(result.record)
    return Replay(layers, records)


def _held(step: StepLike) -> Any:
    if isinstance(step, StepRecord):
        if step.hints is not None and step.hints.hints is not None:
            return step.hints.hints, step.hints.hint_mask
        if step.mask is not None:
            return step.mask.array()
    return None


def requests_from(specs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[StepRequest]:
    """Requests for ``(name, params)`` pairs, e.g. the CLI's ``--op`` list."""
    return [StepRequest(name, dict(params)) for name, params in specs]
