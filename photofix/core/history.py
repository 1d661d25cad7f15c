"""Undo history made of patches: a bounding box plus the old and new values of what changed.

A :class:`Step` is one undoable user action (an operation, a whole brush stroke, a mask
proposal); it holds one :class:`Patch` per layer it changed. :class:`History` is the undo/redo
stack with a byte budget: when the patches it holds exceed the budget, the oldest steps are
dropped (and counted in :attr:`History.dropped`, so the history panel can say so). A step may
carry a :class:`~photofix.core.recipe.StepRecord`; the records of the done steps form the
document's journal (:meth:`History.journal`), and the budget never drops a record: when a step's
pixels are dropped its record is kept.

Layers are named numpy arrays held by a :class:`LayerStore` (the Document is one). Applying or
reverting a patch writes exactly the stored values back, so undo/redo is bit-exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

Box = tuple[int, int, int, int]
"""(y0, x0, y1, x1) in pixels, end-exclusive."""

DEFAULT_BUDGET_BYTES = 2 * 1024**3


class LayerStore(Protocol):
    """Anything that holds named layers (numpy arrays, or None for an absent layer)."""

    def get_layer(self, name: str) -> np.ndarray | None: ...

    def set_layer(self, name: str, value: np.ndarray | None) -> None: ...


def changed_box(old: np.ndarray, new: np.ndarray) -> Box | None:
    """Smallest box containing every pixel where ``old`` and ``new`` differ (None if equal).

    Both arrays have the same shape, HxW or HxWxC.
    """
    diff = old != new
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


@dataclass
class Patch:
    """What one step did to one layer.

    With ``box`` set, ``old`` and ``new`` are the layer's values inside the box (same shape).
    With ``box`` None the whole layer was replaced (its size may change, and ``old``/``new`` may
    be None for a layer that appeared or disappeared).
    """

    layer: str
    box: Box | None
    old: np.ndarray | None
    new: np.ndarray | None

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.old, self.new) if a is not None)

    def apply(self, store: LayerStore) -> Box | None:
        """Write the new values; returns the dirty box (None means the whole layer)."""
        return self._write(store, self.new)

    def revert(self, store: LayerStore) -> Box | None:
        """Write the old values back; returns the dirty box (None means the whole layer)."""
        return self._write(store, self.old)

    def _write(self, store: LayerStore, values: np.ndarray | None) -> Box | None:
        if self.box is None:
            store.set_layer(self.layer, None if values is None else values.copy())
            return None
        target = store.get_layer(self.layer)
        if target is None:
            raise RuntimeError(f"history out of step: layer {self.layer!r} is missing")
        y0, x0, y1, x1 = self.box
        target[y0:y1, x0:x1] = values
        return self.box

    @classmethod
    def between(cls, layer: str, old: np.ndarray | None, new: np.ndarray | None) -> Patch | None:
        """The patch turning ``old`` into ``new``: only the changed box when the shapes match.

        Returns None when nothing changed. The arrays are copied, so the caller may keep
        mutating its own.
        """
        if old is None and new is None:
            return None
        if old is not None and new is not None and old.shape == new.shape:
            box = changed_box(old, new)
            if box is None:
                return None
            y0, x0, y1, x1 = box
            return cls(layer, box, old[y0:y1, x0:x1].copy(), new[y0:y1, x0:x1].copy())
        return cls(
            layer,
            None,
            None if old is None else old.copy(),
            None if new is None else new.copy(),
        )


@dataclass
class Step:
    """One undoable action: a label for the history panel, the operation and its parameters
    (so the history can be replayed as a recipe), and the patches it made."""

    label: str
    patches: list[Patch]
    op: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    record: Any = None
    """The step's :class:`~photofix.core.recipe.StepRecord` (None for steps made without the
    step engine)."""
    meta: tuple[Any, Any] | None = None
    """(before, after) of the store's ``meta`` when the step changed it (e.g. the DPI after a
    resize), or None."""

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.patches)

    def apply(self, store: LayerStore) -> list[tuple[str, Box | None]]:
        if self.meta is not None:
            store.meta = self.meta[1]  # type: ignore[attr-defined]
        return [(p.layer, p.apply(store)) for p in self.patches]

    def revert(self, store: LayerStore) -> list[tuple[str, Box | None]]:
        if self.meta is not None:
            store.meta = self.meta[0]  # type: ignore[attr-defined]
        return [(p.layer, p.revert(store)) for p in reversed(self.patches)]


class History:
    """Undo/redo stack of :class:`Step` with a memory budget.

    ``steps[:index]`` are done (undoable), ``steps[index:]`` are undone (redoable). Pushing a
    new step discards the redoable ones. When the bytes held exceed ``budget_bytes`` the oldest
    steps are dropped, but never the newest one: the last action can always be undone.
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if budget_bytes <= 0:
            raise ValueError("the history budget must be a positive number of bytes")
        self.budget_bytes = budget_bytes
        self.steps: list[Step] = []
        self.index = 0
        self.dropped = 0
        self.kept_records: list[Any] = []
        """Records of done steps whose pixels the budget dropped (oldest first)."""
        self._listeners: list[Callable[[], None]] = []

    # -- observation ---------------------------------------------------------------------
    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change of the stack (push, undo, redo, drop)."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.steps)

    @property
    def can_undo(self) -> bool:
        return self.index > 0

    @property
    def can_redo(self) -> bool:
        return self.index < len(self.steps)

    def done_steps(self) -> list[Step]:
        """The steps that produced the current state, oldest first."""
        return self.steps[: self.index]

    def journal(self) -> list[Any]:
        """The records of every step that produced the current state, oldest first, including
        those of steps the memory budget dropped (records are small and never dropped)."""
        done = [s.record for s in self.done_steps() if s.record is not None]
        return [*self.kept_records, *done]

    # -- changes ------------------------------------------------------------------------
    def push(self, step: Step) -> None:
        """Record a step that has already been applied to the store."""
        del self.steps[self.index :]
        self.steps.append(step)
        self.index = len(self.steps)
        self._enforce_budget()
        self._notify()

    def undo(self, store: LayerStore) -> Step | None:
        if not self.can_undo:
            return None
        self.index -= 1
        step = self.steps[self.index]
        step.revert(store)
        self._notify()
        return step

    def redo(self, store: LayerStore) -> Step | None:
        if not self.can_redo:
            return None
        step = self.steps[self.index]
        step.apply(store)
        self.index += 1
        self._notify()
        return step

    def goto(self, store: LayerStore, index: int) -> None:
        """Undo or redo until ``index`` steps are done (history panel: click on a step)."""
        if not 0 <= index <= len(self.steps):
            raise IndexError(f"history has no position {index}")
        while self.index > index:
            self.index -= 1
            self.steps[self.index].revert(store)
        while self.index < index:
            self.steps[self.index].apply(store)
            self.index += 1
        self._notify()

    def clear(self) -> None:
        self.steps.clear()
        self.index = 0
        self.dropped = 0
        self.kept_records.clear()
        self._notify()

    def set_budget(self, budget_bytes: int) -> None:
        if budget_bytes <= 0:
            raise ValueError("the history budget must be a positive number of bytes")
        self.budget_bytes = budget_bytes
        self._enforce_budget()
        self._notify()

    def _enforce_budget(self) -> None:
        total = self.nbytes
        # Redo steps beyond the cursor go first, then the oldest done steps; the newest done
        # step always stays.
        while total > self.budget_bytes and len(self.steps) > self.index:
            total -= self.steps.pop().nbytes
        while total > self.budget_bytes and self.index > 1:
            step = self.steps.pop(0)
            total -= step.nbytes
            if step.record is not None:
                self.kept_records.append(step.record)
            self.index -= 1
            self.dropped += 1


def patches_between(
    names: Iterable[str],
    old: Callable[[str], np.ndarray | None],
    new: Callable[[str], np.ndarray | None],
) -> list[Patch]:
    """Patches for every named layer whose value differs between two states."""
    patches = []
    for name in names:
        patch = Patch.between(name, old(name), new(name))
        if patch is not None:
            patches.append(patch)
    return patches
