"""Graphics items of the canvas: the image layers, the mask and hint overlays, the brush cursor.

Items paint only the exposed part of the scene, from the pyramid level that suits the zoom
(see :mod:`photofix.ui.display`), and are told about changes by dirty box so Qt repaints only
that rectangle. Item coordinates are image pixels (level 0).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from photofix.core.history import Box
from photofix.ui.display import DisplayPyramid, MaskPyramid
from photofix.ui.settings import DEFAULT_MASK_COLOUR

TILE = 256
"""Overlay tiles are this many pixels of their pyramid level on a side."""

MAX_CACHED_TILES = 400


def choose_level(scale: float, n_levels: int) -> int:
    """The pyramid level to draw at ``scale`` screen px per image px: the smallest level that
    is still at least as detailed as the screen."""
    if scale <= 0:
        return n_levels - 1
    k = math.floor(math.log2(1.0 / scale) + 1e-9) if scale < 1 else 0
    return max(0, min(k, n_levels - 1))


def box_rect(box: Box) -> QRectF:
    y0, x0, y1, x1 = box
    return QRectF(x0, y0, x1 - x0, y1 - y0)


class ImageLayerItem(QGraphicsItem):
    """Shows a :class:`DisplayPyramid` (the current image, or the "before" image).

    ``clip`` limits it to a rectangle (the "after" side of the compare split). A preview
    (a QImage over a rectangle of the image) can be laid on top of it; it is clipped alike.
    """

    def __init__(self, pyramid: DisplayPyramid | None = None) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._pyramid = pyramid
        self._clip: QRectF | None = None
        self._preview: tuple[QImage, QRectF] | None = None

    # -- content -----------------------------------------------------------------------------
    @property
    def pyramid(self) -> DisplayPyramid | None:
        return self._pyramid

    def set_pyramid(self, pyramid: DisplayPyramid | None) -> None:
        self.prepareGeometryChange()
        self._pyramid = pyramid
        self._preview = None
        self.update()

    def refresh(self, box: Box | None) -> None:
        """The pyramid changed inside ``box`` (None: everywhere); repaint just that."""
        self.update(self.boundingRect() if box is None else box_rect(box))

    def set_clip(self, clip: QRectF | None) -> None:
        if clip != self._clip:
            self._clip = clip
            self.update()

    def clip(self) -> QRectF | None:
        return self._clip

    def set_preview(self, image: QImage | None, rect: QRectF | None = None) -> None:
        old = self._preview[1] if self._preview else None
        self._preview = None if image is None or rect is None else (image, QRectF(rect))
        for r in (old, rect):
            if r is not None:
                self.update(r)

    def preview_rect(self) -> QRectF | None:
        return self._preview[1] if self._preview else None

    # -- QGraphicsItem ----------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        if self._pyramid is None:
            return QRectF()
        w, h = self._pyramid.size
        return QRectF(0, 0, w, h)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        pyramid = self._pyramid
        if pyramid is None:
            return
        area = option.exposedRect.intersected(self.boundingRect())
        if self._clip is not None:
            area = area.intersected(self._clip)
        if area.isEmpty():
            return
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        level = choose_level(scale, len(pyramid.levels))
        f = 1 << level
        lh, lw = pyramid.levels[level].shape[:2]
        sx0, sy0 = max(0, math.floor(area.left() / f)), max(0, math.floor(area.top() / f))
        sx1, sy1 = min(lw, math.ceil(area.right() / f)), min(lh, math.ceil(area.bottom() / f))
        if sx1 <= sx0 or sy1 <= sy0:
            return
        painter.save()
        painter.setClipRect(area)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale * f < 0.999)
        source = QRectF(sx0, sy0, sx1 - sx0, sy1 - sy0)
        target = QRectF(sx0 * f, sy0 * f, (sx1 - sx0) * f, (sy1 - sy0) * f)
        painter.drawImage(target, pyramid.qimages[level], source)
        if self._preview is not None:
            image, rect = self._preview
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 0.999)
            painter.drawImage(rect, image)
        painter.restore()


class TiledOverlayItem(QGraphicsItem):
    """Base of the overlays: draws cached ARGB tiles rendered by :meth:`render_tile`."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._size = (0, 0)
        self._tiles: OrderedDict[tuple[int, int, int], tuple[np.ndarray, QImage]] = OrderedDict()

    def n_levels(self) -> int:
        return 1

    def render_tile(self, level: int, box: Box) -> np.ndarray:
        """Premultiplied BGRA uint8 (h×w×4) for ``box`` of pyramid ``level``."""
        raise NotImplementedError

    def set_size(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._size = (width, height)
        self.invalidate(None)

    def invalidate(self, box: Box | None) -> None:
        """Forget the tiles touching ``box`` (None: all) and repaint that area."""
        if box is None:
            self._tiles.clear()
            self.update()
            return
        y0, x0, y1, x1 = box
        for key in list(self._tiles):
            level, ty, tx = key
            span = TILE << level
            if ty * span < y1 and (ty + 1) * span > y0 and tx * span < x1 and (tx + 1) * span > x0:
                del self._tiles[key]
        self.update(box_rect(box))

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, *self._size)

    def _tile(self, level: int, ty: int, tx: int) -> QImage:
        key = (level, ty, tx)
        cached = self._tiles.get(key)
        if cached is not None:
            self._tiles.move_to_end(key)
            return cached[1]
        w, h = self._size
        f = 1 << level
        lw, lh = -(-w // f), -(-h // f)
        box = (ty * TILE, tx * TILE, min((ty + 1) * TILE, lh), min((tx + 1) * TILE, lw))
        pixels = np.ascontiguousarray(self.render_tile(level, box))
        image = QImage(
            pixels.data,
            pixels.shape[1],
            pixels.shape[0],
            pixels.strides[0],
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        self._tiles[key] = (pixels, image)
        while len(self._tiles) > MAX_CACHED_TILES:
            self._tiles.popitem(last=False)
        return image

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        w, h = self._size
        area = option.exposedRect.intersected(self.boundingRect())
        if area.isEmpty() or not w or not h:
            return
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        level = choose_level(scale, self.n_levels())
        span = TILE << level
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale * (1 << level) < 1)
        for ty in range(int(area.top()) // span, math.ceil(area.bottom() / span)):
            for tx in range(int(area.left()) // span, math.ceil(area.right() / span)):
                image = self._tile(level, ty, tx)
                target = QRectF(
                    tx * span, ty * span, image.width() << level, image.height() << level
                )
                painter.drawImage(target, image)


class MaskOverlayItem(TiledOverlayItem):
    """The damage mask as a coloured, semi-transparent overlay (opacity = item opacity)."""

    def __init__(self) -> None:
        super().__init__()
        self._pyramid: MaskPyramid | None = None
        self._lut = np.zeros((2, 4), np.uint8)
        self.set_colour(QColor(DEFAULT_MASK_COLOUR))

    def set_colour(self, colour: QColor) -> None:
        self._lut[1] = (colour.blue(), colour.green(), colour.red(), 255)
        self.invalidate(None)

    def set_mask(self, mask: np.ndarray | None) -> None:
        self._pyramid = None if mask is None else MaskPyramid(mask)
        h, w = (0, 0) if mask is None else mask.shape
        self.set_size(w, h)

    def mask_changed(self, mask: np.ndarray, box: Box | None) -> None:
        if self._pyramid is None or box is None or self._size != (mask.shape[1], mask.shape[0]):
            self.set_mask(mask)
            return
        self._pyramid.update(mask, box)
        self.invalidate(box)

    def n_levels(self) -> int:
        return 1 if self._pyramid is None else len(self._pyramid.levels)

    def render_tile(self, level: int, box: Box) -> np.ndarray:
        assert self._pyramid is not None
        y0, x0, y1, x1 = box
        return self._lut[self._pyramid.levels[level][y0:y1, x0:x1]]


class HintOverlayItem(TiledOverlayItem):
    """The colour hints, shown in their own colours where a hint was painted."""

    def __init__(self, layers: Callable[[], tuple[np.ndarray, np.ndarray] | None]) -> None:
        super().__init__()
        self._layers = layers  # () -> (hints float32 HxWx3, hint_mask bool HxW) or None
        self._levels = 1

    def set_levels(self, n: int) -> None:
        self._levels = n

    def n_levels(self) -> int:
        return self._levels

    def render_tile(self, level: int, box: Box) -> np.ndarray:
        y0, x0, y1, x1 = box
        out = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
        layers = self._layers()
        if layers is None:
            return out
        hints, present = layers
        f = 1 << level
        sl = (slice(y0 * f, y1 * f, f), slice(x0 * f, x1 * f, f))
        hit = present[sl]
        colour = np.clip(hints[sl] * 255 + 0.5, 0, 255).astype(np.uint8)
        hh, ww = hit.shape
        region = out[:hh, :ww]
        region[..., :3][hit] = colour[..., ::-1][hit]
        region[..., 3][hit] = 255
        return out


class BrushCursorItem(QGraphicsItem):
    """A circle showing the brush's size where it would paint (black and white, any zoom)."""

    def __init__(self) -> None:
        super().__init__()
        self._radius = 10.0
        self.setZValue(1000)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_radius(self, radius: float) -> None:
        self.prepareGeometryChange()
        self._radius = max(0.5, float(radius))

    def radius(self) -> float:
        return self._radius

    def boundingRect(self) -> QRectF:
        r = self._radius + 2
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for colour, width in ((QColor(0, 0, 0, 200), 3.0), (QColor(255, 255, 255, 230), 1.2)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawEllipse(QPointF(0, 0), self._radius, self._radius)
