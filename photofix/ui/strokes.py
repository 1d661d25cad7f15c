"""BrushStrokes: the mask brush, its eraser and the colour-hint brush on the document.

A stroke is one undoable step from press to release. While it lasts no other step may start,
so results of background jobs that arrive mid-stroke wait (:meth:`BrushStrokes.defer`) and are
committed after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from photofix.ui.controller import WorkspaceController


class BrushStrokes(QObject):
    """Turns the canvas's stroke signals into document strokes (see the module's docstring)."""

    def __init__(self, workspace: WorkspaceController) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self._last: QPointF | None = None
        self._erase = False
        self._after: list[Callable[[], None]] = []  # results that arrived mid-stroke

    def radius(self) -> float:
        return max(0.5, self.workspace.settings.brush_size / 2.0)

    def active(self) -> bool:
        return self._last is not None

    def defer(self, commit: Callable[[], None]) -> None:
        """Run ``commit`` once the stroke under way has ended."""
        self._after.append(commit)

    def start(self, pos: QPointF) -> None:
        ws = self.workspace
        doc = ws.document
        if doc is None or self.active():
            return
        tool = ws.view.tool
        if tool not in ("brush", "eraser", "hint"):  # the others: repair_brushes, pick_tools
            return
        alt = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.AltModifier)
        self._erase = (tool == "eraser") != alt
        if tool == "hint":
            colour = QColor(ws.settings.hint_colour)
            rgb = (colour.redF(), colour.greenF(), colour.blueF())
            doc.begin_stroke("hint_mask", hint_colour=rgb)
        else:
            doc.begin_stroke("mask")
            if not ws.settings.overlay_visible:
                ws.set_overlay_visible(True)  # painting blind helps nobody
        self._last = pos
        doc.stroke_to([(pos.x(), pos.y())], self.radius(), erase=self._erase)

    def move(self, pos: QPointF) -> None:
        doc, last = self.workspace.document, self._last
        if doc is None or last is None:
            return
        points = [(last.x(), last.y()), (pos.x(), pos.y())]
        doc.stroke_to(points, self.radius(), erase=self._erase)
        self._last = pos

    def finish(self) -> None:
        doc = self.workspace.document
        if doc is None or self._last is None:
            return
        self._last = None
        doc.end_stroke()
        pending, self._after = self._after, []
        for commit in pending:
            commit()
