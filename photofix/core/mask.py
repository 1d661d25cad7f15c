"""Mask rasterisation and editing. Masks are HxW bool; weights derived from them are float32.

Brush strokes are polylines of round dabs (a capsule per segment), drawn in place into a bool
layer; each function returns the dirty box so callers record and repaint only that.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np

from photofix.core.history import Box


def union_box(a: Box | None, b: Box | None) -> Box | None:
    """Smallest box containing both (either may be None)."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def stroke_box(points: Sequence[tuple[float, float]], radius: float, shape: tuple[int, int]) -> Box:
    """Box (clamped to ``shape`` = (H, W)) that a stroke through ``points`` (x, y) can touch."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    r = int(np.ceil(radius)) + 1
    x0 = max(int(np.floor(pts[:, 0].min())) - r, 0)
    y0 = max(int(np.floor(pts[:, 1].min())) - r, 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + r + 1, shape[1])
    y1 = min(int(np.ceil(pts[:, 1].max())) + r + 1, shape[0])
    return y0, x0, max(y1, y0), max(x1, x0)


def paint_stroke(
    mask: np.ndarray, points: Sequence[tuple[float, float]], radius: float, value: bool = True
) -> Box | None:
    """Draw a round brush of ``radius`` px along the polyline ``points`` ((x, y) in pixels).

    ``mask`` is an HxW bool array changed in place (``value`` True paints, False erases).
    Returns the box that may have changed, or None when the stroke lies outside the image.
    """
    if mask.dtype != np.bool_ or mask.ndim != 2:
        raise TypeError("paint_stroke needs an HxW bool mask")
    if not len(points):
        return None
    box = stroke_box(points, radius, mask.shape)
    y0, x0, y1, x1 = box
    if y1 <= y0 or x1 <= x0:
        return None
    # Rasterise into a small uint8 canvas covering the box, then OR/AND it into the mask.
    canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
    shift = 4  # sub-pixel precision for cv2's fixed-point drawing
    scale = 1 << shift
    pts = [(round((x - x0) * scale), round((y - y0) * scale)) for x, y in points]
    r = max(round(radius * scale), 0)
    for p in pts:
        cv2.circle(canvas, p, r, 1, -1, cv2.LINE_8, shift)
    for p, q in itertools.pairwise(pts):
        # a filled quadrilateral joining two consecutive discs makes the capsule
        d = np.array(q, float) - np.array(p, float)
        n = np.hypot(*d)
        if n > 0:
            off = np.array([-d[1], d[0]]) / n * r
            quad = np.array([p + off, q + off, q - off, p - off]).round().astype(np.int32)
            cv2.fillConvexPoly(canvas, quad, 1, cv2.LINE_8, shift)
    region = mask[y0:y1, x0:x1]
    if value:
        region |= canvas.astype(bool)
    else:
        region &= ~canvas.astype(bool)
    return box


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Grow (pixels > 0) or shrink (pixels < 0) a bool mask by a disc; returns a new mask."""
    if pixels == 0:
        return mask.copy()
    u8 = mask.astype(np.uint8)
    op = cv2.dilate if pixels > 0 else cv2.erode
    return op(u8, _disc(abs(int(pixels))), borderType=cv2.BORDER_REPLICATE).astype(bool)


def feather_weights(mask: np.ndarray, radius: float) -> np.ndarray:
    """Float32 HxW weights in [0, 1] from a bool mask, softened over about ``radius`` px.

    With radius 0 the weights are the mask itself. The feather is centred on the mask edge.
    """
    w = mask.astype(np.float32)
    if radius <= 0:
        return w
    sigma = float(radius) / 2.0
    return np.clip(cv2.GaussianBlur(w, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE), 0, 1)
