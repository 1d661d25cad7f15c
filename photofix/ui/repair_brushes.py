"""The spot healing brush (J) and the clone stamp (S) on the canvas.

Both paint a stroke of their own (shown while it lasts, never put into the mask layer) and,
on release, run their operation on it: ``heal`` fills the stroke from its surroundings,
``clone`` copies into it from the source. The result is one undoable step per stroke, recorded
with its parameters like any operation.

Clone stamp: Alt-click sets the source. *Aligned* (the default) keeps the distance between
the brush and the source from the first stroke after that click for every later stroke, as
in Photoshop; *fixed* starts every stroke from the source point again. A ring shows where the
brush copies from. The brush size is the mask brush's; the Feather setting softens the clone
stamp's edge (inside the stroke only: pixels outside it never change).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from photofix.core.errors import PhotoFixError
from photofix.core.history import Step
from photofix.core.mask import paint_stroke
from photofix.ops import REGISTRY, Layers, OpContext
from photofix.ops.steps import StepRequest, commit, run_step
from photofix.ui.commands import describe_params

if TYPE_CHECKING:
    from photofix.ui.controller import WorkspaceController

REPAIR_TOOLS = ("heal", "clone")


class SourceCursorItem(QGraphicsItem):
    """A ring with a cross at its centre: where the clone stamp copies from."""

    def __init__(self) -> None:
        super().__init__()
        self.radius = 10.0
        self.setZValue(60)
        self.setVisible(False)

    def set_radius(self, radius: float) -> None:
        self.prepareGeometryChange()
        self.radius = max(1.0, radius)

    def boundingRect(self) -> QRectF:
        r = self.radius + 12
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        r = self.radius
        for colour, width in ((QColor(0, 0, 0, 170), 3.0), (QColor(80, 220, 255), 1.5)):
            pen = QPen(colour, width, Qt.PenStyle.DashLine if width < 2 else Qt.PenStyle.SolidLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(0, 0), r, r)
            arm = min(r, 8.0)
            painter.drawLine(QPointF(-arm, 0), QPointF(arm, 0))
            painter.drawLine(QPointF(0, -arm), QPointF(0, arm))


class RepairBrushes(QObject):
    """Heal and clone strokes on the workspace's document (see the module docstring)."""

    source_changed = Signal()

    def __init__(self, workspace: WorkspaceController) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        view = workspace.view
        self.view = view
        self.aligned = True
        self.source: QPointF | None = None
        self.offset: tuple[int, int] | None = None  # source - brush, once a stroke fixed it
        self._mask: np.ndarray | None = None
        self._points: list[QPointF] = []
        self.stroke_item = QGraphicsPathItem()
        self.stroke_item.setZValue(55)
        self.stroke_item.setVisible(False)
        view.add_overlay(self.stroke_item, 55)
        self.source_item = SourceCursorItem()
        view.add_overlay(self.source_item, 60)
        view.stroke_started.connect(self.start)
        view.stroke_moved.connect(self.move)
        view.stroke_finished.connect(self.finish)
        view.cursor_moved.connect(self._on_cursor_moved)
        view.cursor_left.connect(lambda: self.source_item.setVisible(False))
        view.tool_changed.connect(lambda tool: tool == "clone" or self.source_item.hide())
        workspace.document_changed.connect(self.forget_source)

    # -- state -------------------------------------------------------------------------------
    def active(self) -> bool:
        return self._mask is not None

    def forget_source(self) -> None:
        self.source = None
        self.offset = None
        self.source_item.setVisible(False)

    def set_source(self, pos: QPointF) -> None:
        """The clone stamp's source (Alt-click): the next stroke copies from here."""
        self.source = QPointF(round(pos.x() - 0.5) + 0.5, round(pos.y() - 0.5) + 0.5)
        self.offset = None
        self._show_source(pos)
        self.workspace.message.emit(
            f"Clone source set at ({int(self.source.x())}, {int(self.source.y())}): paint where"
            " the copy goes."
        )
        self.source_changed.emit()

    def set_aligned(self, aligned: bool) -> None:
        self.aligned = aligned
        self.offset = None

    def _radius(self) -> float:
        return self.workspace.strokes.radius()

    def _show_source(self, brush: QPointF) -> None:
        if self.view.tool != "clone" or self.source is None:
            self.source_item.setVisible(False)
            return
        self.source_item.set_radius(self._radius())
        if self.offset is not None:
            self.source_item.setPos(brush + QPointF(*self.offset))
        else:
            self.source_item.setPos(self.source)
        self.source_item.setVisible(True)

    def _on_cursor_moved(self, pos: QPointF) -> None:
        if self.view.tool == "clone":
            self._show_source(pos)
        else:
            self.source_item.setVisible(False)

    # -- strokes -----------------------------------------------------------------------------
    def start(self, pos: QPointF) -> None:
        ws = self.workspace
        doc = ws.document
        tool = self.view.tool
        if doc is None or tool not in REPAIR_TOOLS or self.active():
            return
        if tool == "clone":
            alt = Qt.KeyboardModifier.AltModifier
            if (self.view.press_modifiers | QApplication.keyboardModifiers()) & alt:
                self.set_source(pos)
                return
            if self.source is None:
                ws.message.emit("Alt-click the place to copy from first, then paint.")
                return
            if self.offset is None or not self.aligned:
                self.offset = (
                    round(self.source.x() - pos.x()),
                    round(self.source.y() - pos.y()),
                )
        h, w = doc.image.shape[:2]
        self._mask = np.zeros((h, w), bool)
        self._points = [pos]
        paint_stroke(self._mask, [(pos.x(), pos.y())], self._radius())
        self._draw_stroke()

    def move(self, pos: QPointF) -> None:
        if self._mask is None:
            return
        last = self._points[-1]
        paint_stroke(self._mask, [(last.x(), last.y()), (pos.x(), pos.y())], self._radius())
        self._points.append(pos)
        self._draw_stroke()
        if self.view.tool == "clone":
            self._show_source(pos)

    def _draw_stroke(self) -> None:
        path = QPainterPath(self._points[0])
        for p in self._points[1:]:
            path.lineTo(p)
        if len(self._points) == 1:
            path.lineTo(self._points[0] + QPointF(0.01, 0))
        pen = QPen(QColor(255, 190, 40, 120), 2 * self._radius())
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        self.stroke_item.setPen(pen)
        self.stroke_item.setPath(path)
        self.stroke_item.setVisible(True)

    def finish(self) -> Step | None:
        """Run the tool's operation on the stroke: one undoable step (None if nothing
        changed)."""
        mask, self._mask = self._mask, None
        self.stroke_item.setVisible(False)
        ws = self.workspace
        doc = ws.document
        if mask is None or doc is None or not mask.any():
            return None
        tool = self.view.tool
        if tool == "clone":
            assert self.offset is not None
            dx, dy = self.offset
            params: dict[str, Any] = {"dx": dx, "dy": dy, "opacity": 1.0}
            params["soft"] = float(ws.settings.feather)
        else:
            params = {}
        op = REGISTRY.get(tool)
        # the stroke is the step's own painted mask: recorded with it, so a recipe replays it
        request = StepRequest(op, params, label=op.title, mask=mask)
        layers = Layers(image=doc.image, alpha=doc.alpha, meta=doc.meta, source=doc.path)
        # at once, on this thread: the work is confined to a crop around the stroke (a speck
        # heals in tens of milliseconds), and the next stroke then starts from this result
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = run_step(request, layers, OpContext(device=ws.device_policy()))
        except PhotoFixError as exc:
            ws.error.emit(f"{op.title} failed", str(exc))
            return None
        finally:
            QApplication.restoreOverrideCursor()
        step = commit(doc, result)
        if step is not None:
            ws.message.emit(f"{op.title}: {describe_params(result.params) or 'one stroke'}")
        return step
