"""Operations as plain functions with declared, typed parameters, in one explicit registry.

The CLI (``--op NAME:key=value,...``) and the GUI's operations panel both read the same
:class:`Operation` objects: the GUI builds widgets from :class:`Param`, the CLI parses text with
:meth:`Param.parse`, and both run :func:`run_operation`, which also applies the generic
strength blend and the mask limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from photofix.core.errors import OperationError
from photofix.core.mask import feather_weights
from photofix.core.progress import Progress
from photofix.core.recipe import StepFacts
from photofix.inference.device import DevicePolicy

if TYPE_CHECKING:
    from photofix.core.imageio import ImageMeta

AUTO = "auto"


@dataclass(frozen=True)
class Param:
    """One parameter of an operation.

    ``kind`` is one of ``float``, ``int``, ``choice``, ``bool``, ``str``. Numbers may have a
    ``minimum``/``maximum``; ``choice`` has ``choices``; ``allow_auto`` accepts the word "auto".
    A default of None means "not given" (the operation decides, e.g. one of several sizes).
    """

    name: str
    kind: str
    default: Any = None
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    allow_auto: bool = False

    def parse(self, text: str) -> Any:
        """Turn the CLI's text into a validated value (OperationError with a reason if not)."""
        text = text.strip()
        if self.allow_auto and text.lower() == AUTO:
            return AUTO
        try:
            if self.kind == "float":
                value: Any = float(text)
            elif self.kind == "int":
                value = int(text)
            elif self.kind == "bool":
                low = text.lower()
                if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(text)
                value = low in ("1", "true", "yes", "on")
            else:
                value = text
        except ValueError:
            raise OperationError(
                f"parameter {self.name!r} must be {self._expected()}, not {text!r}"
            ) from None
        return self.validate(value)

    def validate(self, value: Any) -> Any:
        """Check a typed value against the declared range/choices; returns it normalised."""
        if value is None:
            return None
        if self.allow_auto and value == AUTO:
            return AUTO
        if self.kind in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise OperationError(f"parameter {self.name!r} must be {self._expected()}")
            if self.kind == "int":
                if float(value) != int(value):
                    raise OperationError(f"parameter {self.name!r} must be a whole number")
                value = int(value)
            else:
                value = float(value)
                if not math.isfinite(value):
                    raise OperationError(f"parameter {self.name!r} must be a finite number")
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise OperationError(f"parameter {self.name!r} must be {self._expected()}")
        elif self.kind == "choice":
            if value not in self.choices:
                raise OperationError(f"parameter {self.name!r} must be {self._expected()}")
        elif self.kind == "bool":
            value = bool(value)
        return value

    def _expected(self) -> str:
        auto = ' or "auto"' if self.allow_auto else ""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices) + auto
        if self.kind in ("float", "int"):
            noun = "a whole number" if self.kind == "int" else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"{noun} from {self.minimum:g} to {self.maximum:g}{auto}"
            if self.minimum is not None:
                return f"{noun} of at least {self.minimum:g}{auto}"
            return noun + auto
        if self.kind == "bool":
            return "true or false"
        return "text"


@dataclass
class Layers:
    """What an operation reads and returns; see photofix.core.document for the convention.

    ``image`` float32 HxWx3 [0,1]; ``alpha`` float32 HxW or None; ``mask``/``hint_mask`` bool
    HxW or None; ``hints`` float32 HxWx3 or None. ``meta``/``source`` describe the file the image
    came from (read-only; e.g. JPEG quantisation tables for automatic settings).
    """

    image: np.ndarray
    alpha: np.ndarray | None = None
    mask: np.ndarray | None = None
    hints: np.ndarray | None = None
    hint_mask: np.ndarray | None = None
    meta: ImageMeta | None = None
    source: Path | None = None

    def replace(self, **changes: Any) -> Layers:
        return replace(self, **changes)


@dataclass
class OpContext:
    """Per-run services: progress reporting and cancellation, the compute device policy, and
    ``facts``, where the operation reports what it chose (``ctx.facts.resolve("sigma", 12.5)``,
    ``ctx.facts.seed(...)``) for the step record (see :mod:`photofix.ops.steps`)."""

    progress: Progress = field(default_factory=Progress)
    device: DevicePolicy = field(default_factory=DevicePolicy)
    facts: StepFacts = field(default_factory=StepFacts)


OpFunction = Callable[[Layers, Mapping[str, Any], OpContext], Layers]


@dataclass(frozen=True)
class Operation:
    """A user-facing operation.

    ``run(layers, params, ctx)`` returns new Layers (it must not modify its input arrays).
    ``writes`` names the layers it changes, e.g. ("image",) or ("mask",); operations that
    change the image size also return every other layer at the new size.
    ``blendable`` means the result may be blended with the input by strength and mask (same
    size, pixel-wise result). ``review`` (operations that find damage and fill it) lets an
    interactive caller show the mask first and fill it once the user has checked it.
    ``version`` goes into every step record: raise it when the same parameters would give
    different pixels. ``reads`` names the layers besides the image the result depends on
    (e.g. ("mask",) for inpaint), so a record keeps the mask it read. ``preview_whole``: the
    result at a pixel depends on the whole picture (a field fitted to all of it), so a live
    preview computes it on the whole picture and shows the visible part, not a crop's own
    result.
    """

    name: str
    title: str
    summary: str
    params: tuple[Param, ...]
    run: OpFunction
    writes: tuple[str, ...] = ("image",)
    blendable: bool = True
    review: MaskReview | None = None
    version: int = 1
    reads: tuple[str, ...] = ()
    preview_whole: bool = False

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise OperationError(
            f"operation {self.name!r} has no parameter {name!r}"
            f" (it takes: {', '.join(p.name for p in self.params) or 'none'})"
        )

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Complete ``given`` (typed values or CLI text) with defaults, validated."""
        out = {p.name: p.default for p in self.params}
        for key, value in given.items():
            param = self.param(key)
            out[key] = param.parse(value) if isinstance(value, str) else param.validate(value)
        return out


@dataclass(frozen=True)
class MaskReview:
    """An operation run in two halves so the user can check what it will change.

    ``propose(layers, params, ctx)`` returns the layers with ``mask`` set to what the operation
    would fill (it takes the operation's own parameters); ``fill`` then fills the mask as the
    user left it, with the parameters of the same name. Headless, ``Operation.run`` does both.
    """

    propose: OpFunction
    fill: Operation


class OperationRegistry:
    """The explicit, ordered list of operations (no discovery: PyInstaller sees every import)."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._ops: dict[str, Operation] = {}
        for op in operations:
            if op.name in self._ops:
                raise ValueError(f"operation {op.name!r} registered twice")
            self._ops[op.name] = op

    def get(self, name: str) -> Operation:
        try:
            return self._ops[name]
        except KeyError:
            raise OperationError(
                f"unknown operation {name!r}; available: {', '.join(self._ops)}"
            ) from None

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._ops.values())

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def names(self) -> list[str]:
        return list(self._ops)


def parse_op_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``"name:key=value,key=value"`` into the name and a dict of raw strings.

    An item without ``=`` continues the previous value as a list, so
    ``"detect-defects:kinds=dust,scratches,sensitivity=0.6"`` gives ``kinds="dust,scratches"``.
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise OperationError(f"empty operation name in {spec!r}")
    params: dict[str, str] = {}
    last: str | None = None
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq and last is not None:
            # a list value: "kinds=dust,scratches" continues the previous parameter
            params[last] += "," + item
            continue
        if not eq or not key.strip():
            raise OperationError(f"expected key=value in {spec!r}, got {item!r}")
        last = key.strip()
        params[last] = value.strip()
    return name, params


def run_operation(
    op: Operation,
    layers: Layers,
    params: Mapping[str, Any],
    ctx: OpContext | None = None,
    *,
    strength: float = 1.0,
    limit_to_mask: bool = False,
    feather: float = 0.0,
) -> Layers:
    """Run ``op`` and blend its image result with the input.

    ``strength`` in [0, 1] mixes result and input; with ``limit_to_mask`` the change is kept
    only where the mask is set, softened over ``feather`` px. Pixels with zero weight are
    returned bit-identical to the input.
    """
    ctx = ctx or OpContext()
    resolved = op.resolve(params)
    ctx.progress.check()
    result = op.run(layers, resolved, ctx)
    if not (0.0 <= strength <= 1.0):
        raise OperationError("strength must be between 0 and 1")
    if not op.blendable or (strength == 1.0 and not limit_to_mask):
        return result
    if result.image.shape != layers.image.shape:
        raise OperationError(f"{op.title} changes the image size and cannot be blended")
    weight = np.full(layers.image.shape[:2], strength, np.float32)
    if limit_to_mask:
        if layers.mask is None or not layers.mask.any():
            raise OperationError("the mask is empty: paint the area to change first")
        weight *= feather_weights(layers.mask, feather)
    return result.replace(image=blend(layers.image, result.image, weight))


def blend(before: np.ndarray, after: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``before + weight * (after - before)`` per pixel; weight HxW in [0, 1].

    Where the weight is 0 the output equals ``before`` bit for bit; where it is 1, ``after``.
    """
    w = weight[..., None]
    out = before + w * (after - before)
    out[weight >= 1.0] = after[weight >= 1.0]
    out[weight <= 0.0] = before[weight <= 0.0]
    return out.astype(np.float32, copy=False)
