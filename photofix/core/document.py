"""The Document: one photograph being restored, with its layers and its undo history.

Layers (the one image convention of the program):

============  ==========================  ==========================================
name          array                       meaning
============  ==========================  ==========================================
``image``     float32 HxWx3 in [0, 1]     the current RGB pixels
``alpha``     float32 HxW in [0, 1]/None  transparency carried beside the RGB
``mask``      bool HxW                    where the user (or a detector) marked damage
``hints``     float32 HxWx3 in [0, 1]     colour hints painted for colorization
``hint_mask`` bool HxW                    where a hint is present
============  ==========================  ==========================================

Every change goes through :meth:`Document.commit` (a whole new state for some layers) or a
brush stroke (:meth:`begin_stroke` / :meth:`stroke_to` / :meth:`end_stroke`), so every change is
one undoable :class:`~photofix.core.history.Step` holding only the changed pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from photofix.core.history import DEFAULT_BUDGET_BYTES, Box, History, Patch, Step, changed_box
from photofix.core.mask import paint_stroke, union_box
from photofix.core.recipe import HintsRef, MaskRef, StepRecord

if TYPE_CHECKING:
    from photofix.core.imageio import ImageMeta, LoadedImage

LAYER_NAMES = ("image", "alpha", "mask", "hints", "hint_mask")
PAINTABLE = ("mask", "hint_mask")

ChangeListener = Callable[[str, "Box | None"], None]
"""Called with (layer name, dirty box or None for the whole layer) after every change."""


@dataclass
class _Stroke:
    layer: str
    before: np.ndarray
    box: Box | None = None
    hint_colour: tuple[float, float, float] | None = None
    hints_before: np.ndarray | None = None


class Document:
    """A photograph under restoration: layers, the original it came from, and its history."""

    def __init__(
        self,
        image: np.ndarray,
        *,
        alpha: np.ndarray | None = None,
        meta: ImageMeta | None = None,
        path: Path | None = None,
        history_budget: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        image = np.ascontiguousarray(image, dtype=np.float32)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError("a Document image is float32 HxWx3")
        h, w = image.shape[:2]
        self.meta = meta
        self.path = path
        self.original = image.copy()
        self.original_alpha = None if alpha is None else alpha.copy()
        self._layers: dict[str, np.ndarray | None] = {
            "image": image,
            "alpha": None if alpha is None else np.ascontiguousarray(alpha, np.float32),
            "mask": np.zeros((h, w), bool),
            "hints": np.zeros((h, w, 3), np.float32),
            "hint_mask": np.zeros((h, w), bool),
        }
        self.history = History(history_budget)
        self._listeners: list[ChangeListener] = []
        self._stroke: _Stroke | None = None
        self.saved_index: int | None = 0

    @classmethod
    def from_loaded(cls, loaded: LoadedImage, **kwargs: Any) -> Document:
        return cls(loaded.rgb, alpha=loaded.alpha, meta=loaded.meta, path=loaded.path, **kwargs)

    # -- layer access (LayerStore protocol) ----------------------------------------------
    def get_layer(self, name: str) -> np.ndarray | None:
        return self._layers[name]

    def set_layer(self, name: str, value: np.ndarray | None) -> None:
        if name not in self._layers:
            raise KeyError(name)
        self._layers[name] = value

    @property
    def image(self) -> np.ndarray:
        return self._layers["image"]  # type: ignore[return-value]

    @property
    def alpha(self) -> np.ndarray | None:
        return self._layers["alpha"]

    @property
    def mask(self) -> np.ndarray:
        return self._layers["mask"]  # type: ignore[return-value]

    @property
    def hints(self) -> np.ndarray:
        return self._layers["hints"]  # type: ignore[return-value]

    @property
    def hint_mask(self) -> np.ndarray:
        return self._layers["hint_mask"]  # type: ignore[return-value]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the current image."""
        h, w = self.image.shape[:2]
        return w, h

    @property
    def journal(self) -> list[StepRecord]:
        """The step records behind the current state, oldest first (never dropped by the undo
        budget); :mod:`photofix.core.provenance` writes them with every saved file."""
        return self.history.journal()

    @property
    def modified(self) -> bool:
        return self.saved_index != self.history.index

    def mark_saved(self) -> None:
        self.saved_index = self.history.index

    # -- observation ---------------------------------------------------------------------
    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def _emit(self, changes: Sequence[tuple[str, Box | None]]) -> None:
        for layer, box in changes:
            for listener in self._listeners:
                listener(layer, box)

    # -- whole-state changes ---------------------------------------------------------------
    def commit(
        self,
        label: str,
        new_layers: Mapping[str, np.ndarray | None],
        *,
        op: str | None = None,
        params: Mapping[str, Any] | None = None,
        record: StepRecord | None = None,
        meta: ImageMeta | None = None,
    ) -> Step | None:
        """Replace some layers with new values as one undoable step.

        Only the changed bounding box of each layer is stored (the whole layer when its size
        changes, e.g. after resizing; then the other layers must be given at the new size too).
        ``record`` (the step engine's) joins the journal; ``meta`` replaces :attr:`meta`
        (undoably; e.g. the DPI after a resize). Returns the step, or None when nothing changed.
        """
        self._require_no_stroke()
        unknown = set(new_layers) - set(LAYER_NAMES)
        if unknown:
            raise KeyError(f"unknown layers: {sorted(unknown)}")
        checked = {
            name: None if value is None else _checked_layer(name, value)
            for name, value in new_layers.items()
        }
        if checked.get("image", self.image) is None:
            raise ValueError("a Document always has an image")
        _check_consistent_size({**self._layers, **checked})
        patches = []
        for name in LAYER_NAMES:
            if name in checked:
                patch = Patch.between(name, self._layers[name], checked[name])
                if patch is not None:
                    patches.append(patch)
        if not patches:
            return None
        step = Step(label, patches, op=op, params=dict(params or {}), record=record)
        if meta is not None and meta != self.meta:
            step.meta = (self.meta, meta)
        changes = step.apply(self)
        self.history.push(step)
        self._emit(changes)
        return step

    def undo(self) -> Step | None:
        self._require_no_stroke()
        step = self.history.undo(self)
        if step is not None:
            self._emit([(p.layer, p.box) for p in step.patches])
        return step

    def redo(self) -> Step | None:
        self._require_no_stroke()
        step = self.history.redo(self)
        if step is not None:
            self._emit([(p.layer, p.box) for p in step.patches])
        return step

    def goto(self, index: int) -> None:
        """Jump to the state after ``index`` steps (0 = as loaded)."""
        self._require_no_stroke()
        self.history.goto(self, index)
        self._emit([(name, None) for name in LAYER_NAMES])

    # -- brush strokes: one stroke = one step ----------------------------------------------
    def begin_stroke(
        self, layer: str = "mask", *, hint_colour: tuple[float, float, float] | None = None
    ) -> None:
        """Start a brush stroke on ``mask`` or ``hint_mask`` (then with ``hint_colour``)."""
        if layer not in PAINTABLE:
            raise ValueError(f"cannot paint on layer {layer!r}")
        self._require_no_stroke()
        if layer == "hint_mask" and hint_colour is None:
            raise ValueError("a hint stroke needs a colour")
        self._stroke = _Stroke(
            layer,
            self._layers[layer].copy(),  # type: ignore[union-attr]
            hint_colour=hint_colour,
            hints_before=self.hints.copy() if layer == "hint_mask" else None,
        )

    def stroke_to(
        self, points: Sequence[tuple[float, float]], radius: float, *, erase: bool = False
    ) -> Box | None:
        """Paint (or erase) the polyline ``points`` ((x, y) pixels) into the stroke's layer."""
        s = self._stroke
        if s is None:
            raise RuntimeError("stroke_to without begin_stroke")
        target = self._layers[s.layer]
        assert target is not None
        if s.layer == "hint_mask" and not erase:
            # paint the colour where this dab covers, via a scratch mask of the dab
            scratch = np.zeros_like(target)
            box = paint_stroke(scratch, points, radius, True)
            if box is not None:
                y0, x0, y1, x1 = box
                hit = scratch[y0:y1, x0:x1]
                self.hints[y0:y1, x0:x1][hit] = np.asarray(s.hint_colour, np.float32)
                target[y0:y1, x0:x1] |= hit
        else:
            box = paint_stroke(target, points, radius, not erase)
        if box is not None:
            s.box = union_box(s.box, box)
            self._emit([(s.layer, box)])
        return box

    def end_stroke(self, label: str | None = None) -> Step | None:
        """Finish the stroke and record it as one undo step (None if it changed nothing)."""
        s = self._stroke
        if s is None:
            raise RuntimeError("end_stroke without begin_stroke")
        self._stroke = None
        if s.box is None:
            return None
        y0, x0, y1, x1 = s.box
        patches = []
        layers = [(s.layer, s.before)]
        if s.hints_before is not None:
            layers.append(("hints", s.hints_before))
        for name, before in layers:
            now = self._layers[name]
            assert now is not None
            old, new = before[y0:y1, x0:x1], now[y0:y1, x0:x1]
            inner = changed_box(old, new)
            if inner is None:
                continue
            iy0, ix0, iy1, ix1 = inner
            box = (y0 + iy0, x0 + ix0, y0 + iy1, x0 + ix1)
            patches.append(
                Patch(
                    name,
                    box,
                    before[box[0] : box[2], box[1] : box[3]].copy(),
                    now[box[0] : box[2], box[1] : box[3]].copy(),
                )
            )
        if not patches:
            return None
        if label is None:
            label = "Hint stroke" if s.layer == "hint_mask" else "Mask stroke"
        name = "hint-paint" if s.layer == "hint_mask" else "mask-paint"
        record = StepRecord(name, 1, label, {}, mask=MaskRef.of(self.mask, "painted"))
        if s.layer == "hint_mask":
            record.mask, record.hints = None, HintsRef.of(self.hints, self.hint_mask)
        step = Step(label, patches, op=name, params={"layer": s.layer}, record=record)
        self.history.push(step)
        return step

    # -- helpers -------------------------------------------------------------------------
    def _require_no_stroke(self) -> None:
        if self._stroke is not None:
            raise RuntimeError("finish the brush stroke first")


def _check_consistent_size(layers: Mapping[str, np.ndarray | None]) -> None:
    image = layers["image"]
    assert image is not None
    h, w = image.shape[:2]
    for name, layer in layers.items():
        if layer is not None and layer.shape[:2] != (h, w):
            raise ValueError(
                f"layer {name!r} is {layer.shape[1]}x{layer.shape[0]} but the image is {w}x{h}"
            )


def _checked_layer(name: str, value: np.ndarray) -> np.ndarray:
    """Validate and normalise a layer's dtype/shape per the image convention."""
    value = np.asarray(value)
    if name in ("mask", "hint_mask"):
        if value.ndim != 2:
            raise ValueError(f"layer {name!r} must be HxW")
        return np.ascontiguousarray(value, dtype=bool)
    if name == "alpha":
        if value.ndim != 2:
            raise ValueError("layer 'alpha' must be HxW")
    elif value.ndim != 3 or value.shape[2] != 3:
        raise ValueError(f"layer {name!r} must be HxWx3")
    return np.ascontiguousarray(value, dtype=np.float32)
