"""Canvas tools that set up an operation by pointing: crop (C), straighten (L) and the white
balance eyedropper (I).

- **Crop**: drag a rectangle; on release the image is cropped to it (the Crop form's ratio,
  e.g. 5x7, shapes the box; "free" keeps it as drawn).
- **Straighten**: draw a line along something that should be level or plumb (a horizon, the
  edge of a print); on release the image turns by that angle and is cropped to the largest
  upright rectangle (the Straighten form's mode and fill apply).
- **White balance**: click something that should be neutral grey.

Each runs its operation through the workspace's Apply, as one undoable step with the
parameters recorded, and shows them in the Operations panel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLineF, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsRectItem

from photofix.ops import REGISTRY
from photofix.ops.geometry import line_angle
from photofix.ui.controller import PreviewRequest

if TYPE_CHECKING:
    from photofix.ui.controller import WorkspaceController
    from photofix.ui.panels import OperationsPanel

PICK_TOOLS = ("crop", "straighten", "neutral")


def _pen() -> QPen:
    pen = QPen(QColor(80, 220, 255), 2.0, Qt.PenStyle.DashLine)
    pen.setCosmetic(True)
    return pen


class PickTools(QObject):
    """Crop, straighten and neutral-point tools (see the module docstring)."""

    def __init__(self, workspace: WorkspaceController, panel: OperationsPanel) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.panel = panel
        self.view = workspace.view
        self._start: QPointF | None = None
        self._end: QPointF | None = None
        self.line = QGraphicsLineItem()
        self.line.setPen(_pen())
        self.line.setVisible(False)
        self.rect = QGraphicsRectItem()
        self.rect.setPen(_pen())
        self.rect.setBrush(QColor(80, 220, 255, 40))
        self.rect.setVisible(False)
        self.view.add_overlay(self.line, 58)
        self.view.add_overlay(self.rect, 58)
        self.view.stroke_started.connect(self.start)
        self.view.stroke_moved.connect(self.move)
        self.view.stroke_finished.connect(self.finish)

    def _clamped(self, pos: QPointF) -> QPointF:
        w, h = self.workspace.document.size  # type: ignore[union-attr]
        return QPointF(min(max(pos.x(), 0.0), float(w)), min(max(pos.y(), 0.0), float(h)))

    def start(self, pos: QPointF) -> None:
        if self.view.tool not in PICK_TOOLS or self.workspace.document is None:
            return
        self._start = self._end = self._clamped(pos)
        self._show()

    def move(self, pos: QPointF) -> None:
        if self._start is None:
            return
        self._end = self._clamped(pos)
        self._show()

    def _show(self) -> None:
        a, b = self._start, self._end
        assert a is not None and b is not None
        tool = self.view.tool
        self.line.setVisible(tool == "straighten")
        self.rect.setVisible(tool == "crop")
        if tool == "straighten":
            self.line.setLine(QLineF(a, b))
        elif tool == "crop":
            self.rect.setRect(QRectF(a, b).normalized())

    def finish(self) -> int | None:
        a, b, self._start, self._end = self._start, self._end, None, None
        self.line.setVisible(False)
        self.rect.setVisible(False)
        if a is None or b is None:
            return None
        tool = self.view.tool
        if tool == "neutral":
            return self.apply("white-balance", {"x": int(b.x()), "y": int(b.y())})
        if QLineF(a, b).length() < 3:
            self.workspace.message.emit(
                "Drag a rectangle to crop to." if tool == "crop" else "Draw a longer line."
            )
            return None
        if tool == "straighten":
            angle = line_angle(a.x(), a.y(), b.x(), b.y())
            return self.apply("straighten", {"angle": round(angle, 2)})
        r = QRectF(a, b).normalized()
        left, top = round(r.left()), round(r.top())
        box = {"left": left, "top": top, "width": max(1, round(r.right()) - left),
               "height": max(1, round(r.bottom()) - top)}  # fmt: skip
        return self.apply("crop", box)

    def apply(self, name: str, given: dict[str, Any]) -> int | None:
        """Show ``given`` in the operation's form and apply it with the form's other
        parameters."""
        self.panel.select(name)
        form = self.panel.current_form()
        for key, value in given.items():
            form.fields[key].set_value(value)
        params = {**form.values(), **given}
        return self.workspace.apply_operation(PreviewRequest(REGISTRY.get(name), params))
