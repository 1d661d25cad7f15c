"""``split-scan``: a flatbed scan holding several prints becomes one upright, cropped image each.

Detection (on a copy at most ``DETECT_SIDE`` px long): the scanner's backdrop colour is the
median of the page's outer frame; a pixel belongs to a print where it differs from that colour
by more than a threshold (Otsu's on the difference, unless given), closed and hole-filled so
that light areas inside a print stay in it. Every outer contour larger than ``min_size`` of the
page is a print; its minimum-area rectangle gives the centre, size and tilt. Each print is then
cut out of the full-resolution page with one Lanczos warp (turned upright and cropped in one
resampling), ``inset`` px inside its edge so no backdrop shows. Prints come in reading order
(rows from the top, then left to right); DPI, ICC profile and bit depth follow the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from photofix.core.errors import OperationError
from photofix.ops.registry import AUTO, Layers, OpContext, Operation, Param

DETECT_SIDE = 2000
_FRAME = 0.02  # outer share of the page that shows the backdrop


@dataclass(frozen=True)
class PrintBox:
    """One detected print on the page: centre (x, y) and size (w, h) in page pixels, and the
    tilt in degrees counter-clockwise (what the print must turn clockwise to stand upright)."""

    cx: float
    cy: float
    width: float
    height: float
    angle: float

    def corners(self) -> np.ndarray:
        """The 4 corners (x, y) on the page, clockwise from the top left of the print."""
        a = math.radians(self.angle)
        ux = np.array([math.cos(a), -math.sin(a)])  # the print's x axis, on the page
        uy = np.array([math.sin(a), math.cos(a)])
        c = np.array([self.cx, self.cy])
        hw, hh = self.width / 2, self.height / 2
        return np.array(
            [
                c - hw * ux - hh * uy,
                c + hw * ux - hh * uy,
                c + hw * ux + hh * uy,
                c - hw * ux + hh * uy,
            ]
        )


@dataclass
class SplitLayers(Layers):
    """What ``split-scan`` returns: the page unchanged as ``image`` and one Layers per print in
    ``parts`` (callers that write files write the parts)."""

    parts: tuple[Layers, ...] = ()
    boxes: tuple[PrintBox, ...] = ()


def _backdrop_difference(small: np.ndarray) -> np.ndarray:
    h, w = small.shape[:2]
    fy, fx = max(1, round(h * _FRAME)), max(1, round(w * _FRAME))
    frame = np.concatenate(
        [small[:fy].reshape(-1, 3), small[-fy:].reshape(-1, 3),
         small[:, :fx].reshape(-1, 3), small[:, -fx:].reshape(-1, 3)]
    )  # fmt: skip
    backdrop = np.median(frame, axis=0).astype(np.float32)
    diff = np.abs(small - backdrop).max(axis=2)
    return cv2.GaussianBlur(diff, (3, 3), 0)


def find_prints(
    image: np.ndarray, threshold: float | None = None, min_size: float = 0.02
) -> list[PrintBox]:
    """The prints on a flatbed page (float32 HxWx3 [0,1]), in reading order.

    ``threshold`` is the backdrop difference (0..1) that counts as print, None for Otsu's;
    ``min_size`` the smallest print as a share of the page's area."""
    h, w = image.shape[:2]
    f = min(1.0, DETECT_SIDE / max(h, w))
    small = (
        image
        if f == 1.0
        else cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    )
    diff = _backdrop_difference(small)
    d8 = np.clip(diff * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if threshold is None:
        level, _ = cv2.threshold(d8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        level = max(level, 8.0)  # noise alone never counts as a print
    else:
        level = threshold * 255.0
    binary = (d8 > level).astype(np.uint8)
    k = max(3, round(min(small.shape[:2]) * 0.004) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel)
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    min_area = min_size * small.shape[0] * small.shape[1]
    boxes = []
    for contour in contours:
        if cv2.contourArea(contour) < min_area:
            continue
        hull = cv2.convexHull(contour).reshape(-1, 2).astype(np.float32)
        # contour points are pixel centres of the outermost print pixels: their hull is half
        # a pixel inside the print's true edge; scale to page pixels from pixel centres
        hull = (hull + 0.5) / f - 0.5
        (cx, cy), (rw, rh), a = cv2.minAreaRect(hull)
        boxes.append(_upright_box(cx, cy, rw + 1.0 / f, rh + 1.0 / f, a))
    return _reading_order(boxes)


def _upright_box(cx: float, cy: float, rw: float, rh: float, a: float) -> PrintBox:
    """OpenCV's rectangle (angle clockwise on screen, any quarter) as the smallest tilt."""
    tilt = -a  # OpenCV turns clockwise on screen (y down); PhotoFix counts counter-clockwise
    while tilt <= -45.0:
        tilt += 90.0
        rw, rh = rh, rw
    while tilt > 45.0:
        tilt -= 90.0
        rw, rh = rh, rw
    return PrintBox(float(cx), float(cy), float(rw), float(rh), float(tilt))


def _reading_order(boxes: list[PrintBox]) -> list[PrintBox]:
    rows: list[list[PrintBox]] = []
    for box in sorted(boxes, key=lambda b: b.cy):
        if rows and abs(box.cy - np.mean([b.cy for b in rows[-1]])) < 0.5 * min(
            box.height, min(b.height for b in rows[-1])
        ):
            rows[-1].append(box)
        else:
            rows.append([box])
    return [b for row in rows for b in sorted(row, key=lambda b: b.cx)]


def extract(layers: Layers, box: PrintBox, inset: float = 1.0) -> Layers:
    """One print cut out of the page's layers, turned upright, ``inset`` px inside its edge."""
    out_w = max(1, math.floor(box.width - 2 * inset))
    out_h = max(1, math.floor(box.height - 2 * inset))
    # page -> print: turn clockwise by the tilt about the print's centre, centre to the middle
    m = cv2.getRotationMatrix2D((box.cx, box.cy), -box.angle, 1.0)
    m[0, 2] += (out_w - 1) / 2 - box.cx
    m[1, 2] += (out_h - 1) / 2 - box.cy

    def warp(a: np.ndarray | None, interp: int) -> np.ndarray | None:
        if a is None:
            return None
        src = a.view(np.uint8) if a.dtype == np.bool_ else a
        res = cv2.warpAffine(src, m, (out_w, out_h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
        if a.dtype == np.bool_:
            return res.astype(bool)
        return np.clip(res, 0.0, 1.0).astype(np.float32, copy=False)

    lanczos, nearest = cv2.INTER_LANCZOS4, cv2.INTER_NEAREST
    return Layers(
        image=warp(layers.image, lanczos),
        alpha=warp(layers.alpha, lanczos),
        mask=warp(layers.mask, nearest),
        hints=warp(layers.hints, nearest),
        hint_mask=warp(layers.hint_mask, nearest),
        meta=layers.meta,
        source=layers.source,
    )


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> SplitLayers:
    ctx.progress.update(0.0, "Finding the prints")
    threshold = None if params["threshold"] == AUTO else params["threshold"]
    boxes = find_prints(layers.image, threshold, params["min_size"] / 100.0)
    if not boxes:
        raise OperationError(
            "no prints were found on the page: the scan must show the scanner's backdrop"
            " around them (try a lower threshold)"
        )
    parts = []
    for i, box in enumerate(boxes):
        ctx.progress.check()
        parts.append(extract(layers, box, params["inset"]))
        ctx.progress.update((i + 1) / len(boxes), f"Cut out print {i + 1} of {len(boxes)}")
    ctx.progress.notice(f"Found {len(boxes)} print{'s' if len(boxes) != 1 else ''}.")
    return SplitLayers(
        image=layers.image.copy(),
        alpha=layers.alpha,
        mask=layers.mask,
        hints=layers.hints,
        hint_mask=layers.hint_mask,
        meta=layers.meta,
        source=layers.source,
        parts=tuple(parts),
        boxes=tuple(boxes),
    )


OPERATION = Operation(
    name="split-scan",
    title="Split a scan of several prints",
    summary="Find each print on a flatbed scan and cut it out upright (one image per print).",
    params=(
        Param(
            "threshold",
            "float",
            AUTO,
            "difference from the backdrop that counts as print",
            minimum=0.01,
            maximum=1.0,
            allow_auto=True,
        ),
        Param("min_size", "float", 2.0, "smallest print, % of the page", minimum=0.01, maximum=90),
        Param("inset", "float", 1.0, "px cut inside each print's edge", minimum=0, maximum=100),
    ),
    run=_run,
    writes=("image",),
    blendable=False,
)
