"""ImageView: the canvas. Zoom, pan, brush input and the compare split; it emits intents.

The view never changes the document: a brush drag becomes ``stroke_started`` /
``stroke_moved`` / ``stroke_finished`` (image coordinates) for the controller to turn into a
document stroke; dragging the compare split emits ``compare_moved``. What it owns is how things
are seen: zoom, scroll, which side of the split shows the "before" image.

Mouse and keys (the habits of Photoshop, GIMP and Lightroom):
wheel — zoom at the cursor; space + drag or middle drag — pan; left drag — paint with the
current tool (or pan with the hand tool); drag the split line — move the compare split;
hold backslash — show the "before" image everywhere until released.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView

from photofix.ui.canvas_items import BrushCursorItem, ImageLayerItem

MIN_ZOOM = 0.01
MAX_ZOOM = 32.0
WHEEL_STEP = 1.2
SPLIT_GRAB_PX = 8
KNOB_GRAB_PX = 12  # the round handle, 9 px in radius on screen

TOOLS = ("navigate", "brush", "eraser", "hint", "heal", "clone", "crop", "straighten", "neutral")
PAINT_TOOLS = ("brush", "eraser", "hint", "heal", "clone")
DRAG_TOOLS = ("crop", "straighten", "neutral")  # press, drag, release: no brush cursor
COMPARE_MODES = ("off", "vertical", "horizontal", "side")


class ImageView(QGraphicsView):
    """A QGraphicsView over one image: the "after" layers, optionally the "before" layer."""

    stroke_started = Signal(QPointF)
    stroke_moved = Signal(QPointF)
    stroke_finished = Signal()
    cursor_moved = Signal(QPointF)
    cursor_left = Signal()
    zoom_changed = Signal(float)
    view_changed = Signal()
    compare_moved = Signal(float)
    before_held = Signal(bool)
    files_dropped = Signal(list)
    tool_changed = Signal(str)

    def __init__(self, parent=None, *, interactive: bool = True) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor(40, 40, 42)))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self._interactive = interactive

        self.before_item = ImageLayerItem()
        self.before_item.setZValue(0)
        self.before_item.setVisible(False)
        self.image_item = ImageLayerItem()
        self.image_item.setZValue(1)
        self.scene().addItem(self.before_item)
        self.scene().addItem(self.image_item)
        self.brush_cursor = BrushCursorItem()
        self.brush_cursor.setVisible(False)
        self.scene().addItem(self.brush_cursor)

        self._tool = "navigate"
        self._space_held = False
        self._panning: QPointF | None = None
        self._painting = False
        self._dragging_split = False
        self._before_held = False
        self.press_modifiers = Qt.KeyboardModifier.NoModifier
        self.compare_mode = "off"
        self.split = 0.5
        self.preview_label = ""  # shown while a live preview (not yet applied) is on screen
        # the tag in the corner in side-by-side compare: the non-interactive view is the
        # "before" side of the pair, the main view the "after" side
        self.side_label = "" if interactive else "Before"
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    # -- content -----------------------------------------------------------------------------
    def add_overlay(self, item, z: float) -> None:
        item.setZValue(z)
        self.scene().addItem(item)

    def image_rect(self) -> QRectF:
        return self.image_item.mapRectToScene(self.image_item.boundingRect())

    def set_image_size(self, width: int, height: int) -> None:
        """Call after the image changed size (open, resize, upscale): scene rect and split
        follow, and a layer whose pixels have another size (the "before" image of an upscaled
        picture) is stretched over the new size."""
        margin = 0.0
        self.setSceneRect(QRectF(-margin, -margin, width + 2 * margin, height + 2 * margin))
        for item in (self.before_item, self.image_item):
            pyramid = item.pyramid
            if pyramid is None:
                continue
            pw, ph = pyramid.size
            scale = QTransform.fromScale(width / pw, height / ph)
            if item.transform() != scale:
                item.setTransform(scale)
        self._layout_compare()

    # -- zoom --------------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` screen px per image px, keeping the scene point under the viewport
        point ``anchor`` (default: the viewport's centre) where it is."""
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        vp = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        scene_pt = self.mapToScene(vp.toPoint())
        old_anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        # scroll so that scene_pt is under vp again
        moved = self.mapFromScene(scene_pt)
        delta = moved - vp.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())
        self.setTransformationAnchor(old_anchor)
        self._after_zoom()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.zoom() * factor, anchor)

    def fit(self) -> None:
        """Fit the whole image in the view (Ctrl+0)."""
        rect = self.image_rect()
        if rect.isEmpty():
            return
        vp = self.viewport().rect()
        zoom = min((vp.width() - 16) / rect.width(), (vp.height() - 16) / rect.height())
        self.setTransform(QTransform.fromScale(max(MIN_ZOOM, zoom), max(MIN_ZOOM, zoom)))
        self.centerOn(rect.center())
        self._after_zoom()

    def show_area(self, rect: QRectF, share: float = 1 / 3, most: float = 8.0) -> None:
        """Centre ``rect`` (image pixels) in the view. A small one is zoomed in on until it
        fills about ``share`` of the view (at most ``most`` screen px per image px, so a speck
        keeps its surroundings); one too large to be seen whole is zoomed out until it fits."""
        vp = self.viewport().rect()
        if vp.isEmpty() or self.image_rect().isEmpty():
            return
        w, h = max(rect.width(), 1.0), max(rect.height(), 1.0)
        wanted = min(share * vp.width() / w, share * vp.height() / h, most)
        fits = min((vp.width() - 16) / w, (vp.height() - 16) / h)
        zoom = self.zoom()
        if zoom < wanted:
            zoom = wanted
        elif zoom > fits:
            zoom = fits
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        if not math.isclose(zoom, self.zoom()):
            self.setTransform(QTransform.fromScale(zoom, zoom))
        self.centerOn(rect.center())
        self._after_zoom()

    def actual_pixels(self) -> None:
        """100 %: one image pixel per screen pixel (Ctrl+1), keeping the centre."""
        self.set_zoom(1.0)

    def _after_zoom(self) -> None:
        self._keep_split_in_sight()
        self.zoom_changed.emit(self.zoom())
        self.view_changed.emit()

    def _keep_split_in_sight(self) -> None:
        """Zoomed in, the split line at its old place may be off-screen: put it in the middle
        of what is shown (a line the user cannot see compares nothing)."""
        if not self.is_split() or self.image_rect().isEmpty():
            return
        seen = self.visible_image_rect()
        if seen.isEmpty():
            return
        a, _ = self.split_line()  # type: ignore[misc]
        margin = 12.0 / max(self.zoom(), 1e-6)
        if self.compare_mode == "vertical":
            inside = seen.left() + margin <= a.x() <= seen.right() - margin
            centre = QPointF(seen.center().x(), 0)
        else:
            inside = seen.top() + margin <= a.y() <= seen.bottom() - margin
            centre = QPointF(0, seen.center().y())
        if not inside:
            self.set_split(self._split_from(centre))
            self.compare_moved.emit(self.split)

    def visible_image_rect(self) -> QRectF:
        """The part of the image on screen, in image pixels."""
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        return visible.intersected(self.image_rect())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(WHEEL_STEP**steps, event.position())
        event.accept()

    def _on_scrolled(self) -> None:
        self.view_changed.emit()

    # -- tools -------------------------------------------------------------------------------
    @property
    def tool(self) -> str:
        return self._tool

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self._tool = tool
        self._update_cursor()
        self.tool_changed.emit(tool)

    def set_brush_radius(self, radius: float) -> None:
        self.brush_cursor.set_radius(radius)

    def _update_cursor(self) -> None:
        if self._panning is not None:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._space_held or self._tool == "navigate":
            shape = Qt.CursorShape.OpenHandCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        self.viewport().setCursor(shape)
        self.brush_cursor.setVisible(
            self._tool in PAINT_TOOLS
            and not self._space_held
            and self._panning is None
            and self.viewport().underMouse()
        )

    # -- compare -----------------------------------------------------------------------------
    def set_compare(self, mode: str, split: float | None = None) -> None:
        if mode not in COMPARE_MODES:
            raise ValueError(f"unknown compare mode {mode!r}")
        self.compare_mode = mode
        if split is not None:
            self.split = min(1.0, max(0.0, split))
        self._layout_compare()
        self._keep_split_in_sight()

    def set_split(self, split: float) -> None:
        self.split = min(1.0, max(0.0, split))
        self._layout_compare()

    def is_split(self) -> bool:
        return self.compare_mode in ("vertical", "horizontal")

    def split_line(self) -> tuple[QPointF, QPointF] | None:
        """The split line's end points in image coordinates (None when not splitting)."""
        if not self.is_split():
            return None
        r = self.image_rect()
        if self.compare_mode == "vertical":
            x = r.left() + self.split * r.width()
            return QPointF(x, r.top()), QPointF(x, r.bottom())
        y = r.top() + self.split * r.height()
        return QPointF(r.left(), y), QPointF(r.right(), y)

    def _layout_compare(self) -> None:
        r = self.image_rect()
        if self._before_held:
            self.before_item.setVisible(True)
            self.image_item.set_clip(QRectF())
        elif self.is_split() and not r.isEmpty():
            self.before_item.setVisible(True)
            if self.compare_mode == "vertical":
                x = r.left() + self.split * r.width()
                clip = QRectF(x, r.top(), r.right() - x, r.height())
            else:
                y = r.top() + self.split * r.height()
                clip = QRectF(r.left(), y, r.width(), r.bottom() - y)
            self.image_item.set_clip(clip)
        else:
            self.before_item.setVisible(False)
            self.image_item.set_clip(None)
        self.viewport().update()

    def hold_before(self, held: bool) -> None:
        """Show the "before" image everywhere while ``held`` (backslash, as in Lightroom)."""
        if held == self._before_held:
            return
        self._before_held = held
        self._layout_compare()
        self.before_held.emit(held)

    @property
    def before_is_held(self) -> bool:
        return self._before_held

    def split_knob(self) -> QPointF | None:
        """Where the split line's round handle is, in image coordinates: the middle of the
        part of the line on screen."""
        line = self.split_line()
        if line is None:
            return None
        a, b = line
        seen = self.visible_image_rect()
        if seen.isEmpty():
            return (a + b) / 2
        if self.compare_mode == "vertical":
            return QPointF(a.x(), seen.center().y())
        return QPointF(seen.center().x(), a.y())

    def _near_split(self, view_pos: QPointF) -> bool:
        """Whether a press at ``view_pos`` grabs the split line: anywhere along it with the
        hand tool; with a painting tool only on its handle, so strokes next to the line
        paint."""
        line = self.split_line()
        if line is None:
            return False
        if self._tool in PAINT_TOOLS + DRAG_TOOLS and not self._space_held:
            knob = self.split_knob()
            assert knob is not None
            k = QPointF(self.mapFromScene(knob))
            return math.hypot(view_pos.x() - k.x(), view_pos.y() - k.y()) <= KNOB_GRAB_PX
        a, b = (QPointF(self.mapFromScene(p)) for p in line)
        if self.compare_mode == "vertical":
            return abs(view_pos.x() - a.x()) <= SPLIT_GRAB_PX and a.y() <= view_pos.y() <= b.y()
        return abs(view_pos.y() - a.y()) <= SPLIT_GRAB_PX and a.x() <= view_pos.x() <= b.x()

    def _split_from(self, scene_pos: QPointF) -> float:
        r = self.image_rect()
        if self.compare_mode == "vertical":
            return (scene_pos.x() - r.left()) / max(1.0, r.width())
        return (scene_pos.y() - r.top()) / max(1.0, r.height())

    def _draw_tag(self, painter: QPainter, text: str, x: float, y: float) -> QRectF:
        metrics = painter.fontMetrics()
        box = QRectF(x, y, metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(240, 240, 240))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        return box

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self.preview_label and self.image_item.preview_rect() is not None:
            painter.save()
            painter.resetTransform()
            bottom = self.viewport().rect().bottom()
            self._draw_tag(
                painter, self.preview_label, 8, bottom - painter.fontMetrics().height() - 14
            )
            painter.restore()
        if self.compare_mode == "side" or self.side_label:
            painter.save()
            painter.resetTransform()
            self._draw_tag(painter, self.side_label or "After", 8, 8)
            painter.restore()
        line = self.split_line()
        if line is None or self._before_held:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        a, b = line
        for colour, width in ((QColor(0, 0, 0, 160), 4.0), (QColor(255, 255, 255), 2.0)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLine(a, b)
        # a round knob in the middle of the line on screen, a constant size on screen
        mid = self.split_knob() or (a + b) / 2
        r = 9.0 / max(self.zoom(), 1e-6)
        painter.setBrush(QColor(255, 255, 255))
        pen = QPen(QColor(0, 0, 0, 180), 1.5)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawEllipse(mid, r, r)
        # "Before" / "After" tags beside the line, in screen pixels
        pa, pb = self.mapFromScene(a), self.mapFromScene(b)
        painter.resetTransform()
        vertical = self.compare_mode == "vertical"
        view_rect = self.viewport().rect()
        metrics = painter.fontMetrics()
        for text, before_side in (("Before", True), ("After", False)):
            w, h = metrics.horizontalAdvance(text) + 12, metrics.height() + 6
            if vertical:
                x = pa.x() - w - 8 if before_side else pa.x() + 8
                y = max(pa.y(), view_rect.top()) + 8
            else:
                x = max(pa.x(), view_rect.left()) + 8
                y = pa.y() - h - 8 if before_side else pa.y() + 8
            box = QRectF(x, y, w, h)
            if not QRectF(view_rect).contains(box) or (
                not vertical and not (pa.x() <= x <= pb.x())
            ):
                continue
            self._draw_tag(painter, text, x, y)
        painter.restore()

    # -- mouse -------------------------------------------------------------------------------
    def _image_pos(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        self.press_modifiers = event.modifiers()  # e.g. Alt-click sets the clone source
        self.setFocus()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and (self._space_held or self._tool == "navigate")
        ):
            if button == Qt.MouseButton.LeftButton and self._near_split(event.position()):
                self._dragging_split = True
                return
            self._panning = event.position()
            self._update_cursor()
            return
        if button != Qt.MouseButton.LeftButton or not self._interactive:
            return
        if self._near_split(event.position()):
            self._dragging_split = True
            return
        if self._tool in PAINT_TOOLS + DRAG_TOOLS and not self.image_rect().isEmpty():
            self._painting = True
            self.stroke_started.emit(self._image_pos(event))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = self._image_pos(event)
        self.brush_cursor.setPos(pos)
        if not self.brush_cursor.isVisible() and self._tool in PAINT_TOOLS:
            self.brush_cursor.setVisible(not self._space_held and self._panning is None)
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(h.value() - round(delta.x()))
            v.setValue(v.value() - round(delta.y()))
        elif self._dragging_split:
            self.set_split(self._split_from(pos))
            self.compare_moved.emit(self.split)
        elif self._painting:
            self.stroke_moved.emit(pos)
        else:
            near = self._near_split(event.position())
            if near:
                shape = (
                    Qt.CursorShape.SplitHCursor
                    if self.compare_mode == "vertical"
                    else Qt.CursorShape.SplitVCursor
                )
                self.viewport().setCursor(shape)
            else:
                self._update_cursor()
        if self.image_rect().contains(pos):
            self.cursor_moved.emit(pos)
        else:
            self.cursor_left.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._panning = None
            self._update_cursor()
        elif self._dragging_split and event.button() == Qt.MouseButton.LeftButton:
            self._dragging_split = False
        elif self._painting and event.button() == Qt.MouseButton.LeftButton:
            self._painting = False
            self.stroke_finished.emit()

    def leaveEvent(self, event) -> None:
        self.brush_cursor.setVisible(False)
        self.cursor_left.emit()
        super().leaveEvent(event)

    def enterEvent(self, event) -> None:
        self._update_cursor()
        super().enterEvent(event)

    # -- keys --------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.isAutoRepeat() and event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Backslash):
            return
        if event.key() == Qt.Key.Key_Space:
            self._space_held = True
            self._update_cursor()
            return
        if event.key() == Qt.Key.Key_Backslash:
            self.hold_before(True)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.isAutoRepeat():
            return
        if event.key() == Qt.Key.Key_Space:
            self._space_held = False
            self._update_cursor()
            return
        if event.key() == Qt.Key.Key_Backslash:
            self.hold_before(False)
            return
        super().keyReleaseEvent(event)

    # -- drag and drop -----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
        else:
            super().dropEvent(event)

    # -- synchronisation (side-by-side) --------------------------------------------------------
    def centre(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def follow(self, other: ImageView) -> None:
        """Take ``other``'s zoom and centre (side-by-side compare)."""
        if math.isclose(self.zoom(), other.zoom()) and self.centre() == other.centre():
            return
        self.setTransform(other.transform())
        self.centerOn(other.centre())
