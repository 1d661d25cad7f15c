"""Display buffers for the canvas: 8-bit pyramids that are updated by dirty box, never rebuilt.

An 8000 × 6000 photograph must stay interactive, so the canvas never converts or uploads the
whole image when a part of it changes. :class:`DisplayPyramid` keeps the image as 8-bit BGRX
(QImage ``Format_RGB32``) at full, 1/2, 1/4 … resolution; :meth:`DisplayPyramid.update` converts
only a dirty box of the float image and refreshes the matching boxes of the smaller levels. The
canvas draws the visible part of the level that suits the zoom, so painting costs what is on
screen, whatever the image size. :class:`MaskPyramid` does the same for a bool mask with a
maximum (so thin strokes stay visible when zoomed out).
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from photofix.core.history import Box

MIN_LEVEL_SIDE = 256
"""The pyramid stops at the first level whose longer side is at most this."""

_CHUNK_ROWS = 256  # float → 8-bit conversion in bands, to keep temporaries small


def level_count(width: int, height: int) -> int:
    n = 1
    while max(width, height) > MIN_LEVEL_SIDE:
        width, height = (width + 1) // 2, (height + 1) // 2
        n += 1
    return n


def level_box(box: Box, level: int) -> Box:
    """``box`` (level-0 pixels, end-exclusive) scaled to ``level``, rounded outwards."""
    y0, x0, y1, x1 = box
    f = 1 << level
    return y0 // f, x0 // f, -(-y1 // f), -(-x1 // f)


def _reduce(src: np.ndarray, box: Box, how: str) -> np.ndarray:
    """2×2 reduction of ``src`` for the destination ``box`` (mean of uint8, or maximum)."""
    y0, x0, y1, x1 = box
    region = src[2 * y0 : 2 * y1, 2 * x0 : 2 * x1]
    ph, pw = 2 * (y1 - y0) - region.shape[0], 2 * (x1 - x0) - region.shape[1]
    if ph or pw:  # odd edge of the image: repeat the last row/column
        pad = [(0, ph), (0, pw)] + [(0, 0)] * (region.ndim - 2)
        region = np.pad(region, pad, mode="edge")
    if how == "max":
        a, b = region[0::2, 0::2], region[1::2, 0::2]
        c, d = region[0::2, 1::2], region[1::2, 1::2]
        return np.maximum(np.maximum(a, b), np.maximum(c, d))
    # an exact factor of 2 makes INTER_AREA the rounded mean of each 2×2 block
    return cv2.resize(region, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)


def to_bgrx(rgb: np.ndarray) -> np.ndarray:
    """float32 h×w×3 RGB in [0, 1] → uint8 h×w×4 B, G, R, 255 (rounded, clipped; the
    display's 8-bit view, not for saving — :mod:`photofix.core.imageio` does that)."""
    positive = np.maximum(rgb, 0.0)
    u8 = cv2.convertScaleAbs(positive, alpha=255.0)  # rounds and saturates at 255
    return cv2.cvtColor(u8, cv2.COLOR_RGB2BGRA)


class _Pyramid:
    """Levels of an 8-bit array; level 0 is supplied by the subclass."""

    how = "mean"

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of level 0."""
        h, w = self.levels[0].shape[:2]
        return w, h

    def _allocate(self, level0: np.ndarray) -> None:
        h, w = level0.shape[:2]
        self.levels = [level0]
        for _ in range(1, level_count(w, h)):
            h, w = (h + 1) // 2, (w + 1) // 2
            self.levels.append(np.zeros((h, w, *level0.shape[2:]), np.uint8))

    def _propagate(self, box: Box) -> None:
        for k in range(1, len(self.levels)):
            kb = level_box(box, k)
            y0, x0, y1, x1 = kb
            y1, x1 = min(y1, self.levels[k].shape[0]), min(x1, self.levels[k].shape[1])
            if y1 <= y0 or x1 <= x0:
                return
            self.levels[k][y0:y1, x0:x1] = _reduce(self.levels[k - 1], (y0, x0, y1, x1), self.how)


class DisplayPyramid(_Pyramid):
    """8-bit BGRX copies (QImage ``Format_RGB32``) of a float32 H×W×3 [0, 1] RGB image at full
    and halved resolutions, with a QImage over each level's buffer (no copies)."""

    def __init__(self, rgb: np.ndarray) -> None:
        super().__init__()
        self.qimages: list[QImage] = []
        self.reset(rgb)

    def reset(self, rgb: np.ndarray) -> None:
        """Take a whole new image (any size)."""
        h, w = rgb.shape[:2]
        if not self.levels or self.size != (w, h):
            level0 = np.empty((h, w, 4), np.uint8)
            level0[..., 3] = 255
            self._allocate(level0)
            self.qimages = [
                QImage(lv.data, lv.shape[1], lv.shape[0], lv.strides[0], QImage.Format.Format_RGB32)
                for lv in self.levels
            ]
        self.update(rgb, (0, 0, h, w))

    def update(self, rgb: np.ndarray, box: Box) -> None:
        """Convert the ``box`` (y0, x0, y1, x1) of ``rgb`` and refresh the smaller levels."""
        y0, x0, y1, x1 = box
        level0 = self.levels[0]
        for r in range(y0, y1, _CHUNK_ROWS):
            r1 = min(r + _CHUNK_ROWS, y1)
            level0[r:r1, x0:x1] = to_bgrx(rgb[r:r1, x0:x1])
        self._propagate(box)


class MaskPyramid(_Pyramid):
    """Maximum pyramid (uint8 0/1) of a bool H×W mask; level 0 is a view of the mask itself."""

    how = "max"

    def __init__(self, mask: np.ndarray) -> None:
        super().__init__()
        self.reset(mask)

    def reset(self, mask: np.ndarray) -> None:
        self._allocate(mask.view(np.uint8))
        h, w = mask.shape
        self._propagate((0, 0, h, w))

    def update(self, mask: np.ndarray, box: Box) -> None:
        level0 = self.levels[0]
        if mask.shape != level0.shape or not np.may_share_memory(mask, level0):
            self.reset(mask)  # the document replaced the array (undo of a size change, ...)
            return
        self._propagate(box)
