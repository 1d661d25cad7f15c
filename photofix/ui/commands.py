"""Undoable edits the controller makes on the Document (each becomes one history step).

The Document's :class:`~photofix.core.history.History` is the undo stack (patches of changed
pixels, with a memory budget); these small command objects describe an edit, check that it
still makes sense, and commit it as one step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from photofix.core.document import Document
from photofix.core.history import Step
from photofix.core.mask import grow
from photofix.ops.registry import Layers, Operation


def describe_params(params: dict[str, Any]) -> str:
    """Parameters as the history panel lists them: ``clip 0.5, balance off``."""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "on" if value else "off"
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = str(value)
        parts.append(f"{key.replace('_', ' ')} {text}")
    return ", ".join(parts)


@dataclass
class ApplyResultCommand:
    """Put an operation's result into the document as one undoable step.

    ``result`` holds the layers the operation returned; only ``op.writes`` are committed.
    ``extra`` (strength, mask limit, feather) is recorded with the parameters.
    """

    op: Operation
    params: dict[str, Any]
    result: Layers
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        return self.op.title

    def execute(self, document: Document) -> Step | None:
        layers = {name: getattr(self.result, name) for name in self.op.writes}
        h, w = self.result.image.shape[:2]
        empty = {"mask": (h, w), "hint_mask": (h, w), "hints": (h, w, 3)}
        for name, shape in empty.items():  # these layers always exist in a Document
            if name in layers and layers[name] is None:
                layers[name] = np.zeros(shape, np.float32 if name == "hints" else bool)
        recorded = {**self.params, **self.extra}
        # an operation may change what the file will say (grayscale: one channel; a quarter
        # turn: the DPI swapped); Document.commit keeps it undoably
        meta = self.result.meta
        return document.commit(self.label(), layers, op=self.op.name, params=recorded, meta=meta)


@dataclass
class MaskEditCommand:
    """A whole-mask edit: clear, invert, grow or shrink (one undoable step)."""

    kind: str  # clear | invert | grow
    pixels: int = 0

    def label(self) -> str:
        if self.kind == "grow":
            verb = "Grow" if self.pixels > 0 else "Shrink"
            return f"{verb} mask by {abs(self.pixels)} px"
        return {"clear": "Clear mask", "invert": "Invert mask"}[self.kind]

    def execute(self, document: Document) -> Step | None:
        mask = document.mask
        if self.kind == "clear":
            new = np.zeros_like(mask)
        elif self.kind == "invert":
            new = ~mask
        elif self.kind == "grow":
            new = grow(mask, self.pixels)
        else:
            raise ValueError(f"unknown mask edit {self.kind!r}")
        params = {"pixels": self.pixels} if self.kind == "grow" else {}
        return document.commit(self.label(), {"mask": new}, op=f"mask-{self.kind}", params=params)
