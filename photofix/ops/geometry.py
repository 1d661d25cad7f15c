"""Geometry: ``crop``, ``rotate`` (with flips) and ``straighten``.

Every layer follows the image: the image and alpha are resampled with Lanczos (OpenCV's 8x8
``INTER_LANCZOS4``), the mask and colour hints with nearest neighbour so they stay crisp and
valid. Quarter turns and flips are exact array rotations (no resampling: ``rotate:angle=90``
equals ``numpy.rot90`` bit for bit) and crops are plain slices, so bit depth, ICC profile and
metadata survive untouched; a quarter turn swaps the horizontal and vertical DPI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from photofix.core.errors import OperationError
from photofix.ops.registry import Layers, OpContext, Operation, Param

# Print and frame ratios offered by the crop tool, long side : short side ("original" is the
# image's own ratio, "free" none): 5:4 is 8x10 in, 7:5 is 5x7, 3:2 is 4x6 (and 35 mm). The box
# keeps its own orientation.
RATIOS: dict[str, tuple[float, float] | None] = {
    "free": None,
    "original": None,
    "1:1": (1, 1),
    "5:4": (5, 4),
    "4:3": (4, 3),
    "7:5": (7, 5),
    "3:2": (3, 2),
    "16:9": (16, 9),
}
FILLS = ("white", "black", "transparent")
_ALL_LAYERS = ("image", "alpha", "mask", "hints", "hint_mask")


# ---- crop ------------------------------------------------------------------------------------
def ratio_box(
    box: tuple[int, int, int, int], ratio: str, original: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The largest box of ``ratio`` (a :data:`RATIOS` key) centred in ``box`` = (left, top,
    width, height); ``original`` is the image's (width, height) for the "original" ratio."""
    if ratio not in RATIOS:
        raise OperationError(f"unknown crop ratio {ratio!r}; choose from {', '.join(RATIOS)}")
    left, top, w, h = box
    if ratio == "free":
        return box
    long_side, short_side = RATIOS[ratio] or (max(original), min(original))
    # the box keeps its own orientation: landscape boxes get a landscape ratio
    r = long_side / short_side if w >= h else short_side / long_side
    nw, nh = (w, round(w / r)) if w / h <= r else (round(h * r), h)
    nw, nh = max(1, min(nw, w)), max(1, min(nh, h))
    return left + (w - nw) // 2, top + (h - nh) // 2, nw, nh


def crop_box(params: Mapping[str, Any], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(left, top, width, height) asked for by crop's parameters on an image of ``size`` =
    (width, height); width/height default to the rest of the image. Raises OperationError with
    the reason when the box does not lie inside the image."""
    iw, ih = size
    left, top = params.get("left") or 0, params.get("top") or 0
    if left >= iw or top >= ih:
        raise OperationError(f"the crop starts at ({left}, {top}), outside the {iw}x{ih} px image")
    w = params.get("width") or iw - left
    h = params.get("height") or ih - top
    if left + w > iw or top + h > ih:
        raise OperationError(
            f"the crop box {w}x{h} at ({left}, {top}) goes past the edge of the {iw}x{ih} px"
            f" image (at most {iw - left}x{ih - top} from there)"
        )
    return ratio_box((left, top, w, h), params.get("ratio") or "free", size)


def _map_layers(layers: Layers, fn: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _ALL_LAYERS:
        layer = getattr(layers, name)
        out[name] = None if layer is None else np.ascontiguousarray(fn(layer))
    return out


def _run_crop(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    h, w = layers.image.shape[:2]
    left, top, cw, ch = crop_box(params, (w, h))
    return layers.replace(**_map_layers(layers, lambda a: a[top : top + ch, left : left + cw]))


# ---- rotate and flip -------------------------------------------------------------------------
def _quarter_turns(angle: float) -> int | None:
    turns = angle / 90.0
    k = round(turns)
    return k % 4 if abs(turns - k) < 1e-9 else None


def _swap_dpi(layers: Layers) -> Any:
    meta = layers.meta
    if meta is None or meta.dpi is None:
        return meta
    return replace(meta, dpi=(meta.dpi[1], meta.dpi[0]), width=meta.height, height=meta.width)


def rotate_layers(layers: Layers, angle: float, fill: str = "white") -> Layers:
    """All layers turned ``angle`` degrees counter-clockwise on a canvas grown to hold the whole
    turned image; the new corners are ``fill`` (white, black, or transparent: an alpha layer
    is added). Multiples of 90 are exact array rotations."""
    k = _quarter_turns(angle)
    if k is not None:
        if k == 0:
            return layers.replace(**_map_layers(layers, np.copy))
        turned = layers.replace(**_map_layers(layers, lambda a: np.rot90(a, k)))
        return turned.replace(meta=_swap_dpi(layers) if k % 2 else layers.meta)
    if fill not in FILLS:
        raise OperationError(f"unknown fill {fill!r}; choose from {', '.join(FILLS)}")
    h, w = layers.image.shape[:2]
    rad = math.radians(angle)
    c, s = abs(math.cos(rad)), abs(math.sin(rad))
    # a hair under so that exact fits (e.g. 45° of a square) are not rounded up a pixel
    nw, nh = math.ceil(w * c + h * s - 1e-6), math.ceil(w * s + h * c - 1e-6)
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    m[0, 2] += (nw - w) / 2
    m[1, 2] += (nh - h) / 2
    if max(nw, nh) > 32_000:  # OpenCV's remap limit
        raise OperationError(f"the turned image would be {nw}x{nh} px, too large to rotate")

    def warp(a: np.ndarray, interp: int, value: float) -> np.ndarray:
        src = a.view(np.uint8) if a.dtype == np.bool_ else a
        out = cv2.warpAffine(
            src, m, (nw, nh), flags=interp, borderMode=cv2.BORDER_CONSTANT,
            borderValue=(value,) * 4,
        )  # fmt: skip
        if a.dtype == np.bool_:
            return out.astype(bool)
        return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)

    lanczos = cv2.INTER_LANCZOS4
    alpha = layers.alpha
    if fill == "transparent" and alpha is None:
        alpha = np.ones((h, w), np.float32)
    # transparent corners: grey under alpha 0 so the Lanczos edge fades into neutral
    value = {"white": 1.0, "black": 0.0, "transparent": 0.5}[fill]
    return layers.replace(
        image=warp(layers.image, lanczos, value),
        alpha=None
        if alpha is None
        else warp(alpha, lanczos, 0.0 if fill == "transparent" else 1.0),
        mask=None if layers.mask is None else warp(layers.mask, cv2.INTER_NEAREST, 0),
        hints=None if layers.hints is None else warp(layers.hints, cv2.INTER_NEAREST, 0.0),
        hint_mask=None
        if layers.hint_mask is None
        else warp(layers.hint_mask, cv2.INTER_NEAREST, 0),
    )


def flip_layers(layers: Layers, flip: str) -> Layers:
    if flip == "none":
        return layers
    axis = {"horizontal": 1, "vertical": 0}[flip]
    return layers.replace(**_map_layers(layers, lambda a: np.flip(a, axis)))


def _run_rotate(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    ctx.progress.update(0.0, "Rotating")
    out = flip_layers(rotate_layers(layers, params["angle"], params["fill"]), params["flip"])
    ctx.progress.update(1.0, "Rotated")
    return out


# ---- straighten ------------------------------------------------------------------------------
def largest_upright_rect(w: float, h: float, angle: float) -> tuple[float, float]:
    """Width and height of the largest axis-aligned rectangle inside a ``w`` x ``h`` rectangle
    turned by ``angle`` degrees (centred in it)."""
    a = math.radians(angle)
    s, c = abs(math.sin(a)), abs(math.cos(a))
    if s < 1e-12:
        return w, h
    long_side, short_side = (w, h) if w >= h else (h, w)
    if short_side <= 2.0 * s * c * long_side or abs(s - c) < 1e-10:
        x = 0.5 * short_side  # half-constrained: two corners touch the long sides
        return (x / s, x / c) if w >= h else (x / c, x / s)
    cos2 = c * c - s * s
    return (w * c - h * s) / cos2, (h * c - w * s) / cos2


def straighten_layers(layers: Layers, angle: float, mode: str, fill: str) -> Layers:
    h, w = layers.image.shape[:2]
    turned = rotate_layers(layers, angle, fill)
    if mode == "fill" or _quarter_turns(angle) is not None:
        return turned
    rw, rh = largest_upright_rect(w, h, angle)
    th, tw = turned.image.shape[:2]
    # one pixel less each side: the Lanczos kernel reaches past the turned edge
    cw, ch = max(1, math.floor(rw) - 2), max(1, math.floor(rh) - 2)
    left, top = (tw - cw) // 2, (th - ch) // 2
    return turned.replace(**_map_layers(turned, lambda a: a[top : top + ch, left : left + cw]))


def line_angle(x0: float, y0: float, x1: float, y1: float) -> float:
    """The straighten angle that makes the line (x0, y0)-(x1, y1), drawn along something that
    should be level or plumb, exactly horizontal or vertical (whichever it is nearer)."""
    theta = math.degrees(math.atan2(-(y1 - y0), x1 - x0))  # counter-clockwise, y up
    nearest = round(theta / 90.0) * 90.0
    return nearest - theta


def _run_straighten(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    ctx.progress.update(0.0, "Straightening")
    out = straighten_layers(layers, params["angle"], params["mode"], params["fill"])
    ctx.progress.update(1.0, "Straightened")
    return out


CROP = Operation(
    name="crop",
    title="Crop",
    summary="Keep a rectangle of the image (pixels; DPI, profile and metadata kept).",
    params=(
        Param("left", "int", 0, "first column kept", minimum=0),
        Param("top", "int", 0, "first row kept", minimum=0),
        Param("width", "int", None, "columns kept (default: to the right edge)", minimum=1),
        Param("height", "int", None, "rows kept (default: to the bottom edge)", minimum=1),
        Param(
            "ratio",
            "choice",
            "free",
            "shrink the box to this ratio, centred (5:4 = 8x10, 7:5 = 5x7, 3:2 = 4x6)",
            choices=tuple(RATIOS),
        ),
    ),
    run=_run_crop,
    writes=_ALL_LAYERS,
    blendable=False,
)

ROTATE = Operation(
    name="rotate",
    title="Rotate or flip",
    summary="Turn counter-clockwise by degrees (90/180/270 exact) and/or flip.",
    params=(
        Param("angle", "float", 90.0, "degrees, counter-clockwise", minimum=-360, maximum=360),
        Param(
            "flip",
            "choice",
            "none",
            "mirror after turning",
            choices=("none", "horizontal", "vertical"),
        ),
        Param("fill", "choice", "white", "new corners (other angles)", choices=FILLS),
    ),
    run=_run_rotate,
    writes=_ALL_LAYERS,
    blendable=False,
)

STRAIGHTEN = Operation(
    name="straighten",
    title="Straighten",
    summary="Turn by a small angle (Lanczos) and crop to the largest upright rectangle.",
    params=(
        Param("angle", "float", 0.0, "degrees, counter-clockwise", minimum=-45, maximum=45),
        Param(
            "mode",
            "choice",
            "crop",
            "crop the tilted edges away, or fill the corners",
            choices=("crop", "fill"),
        ),
        Param("fill", "choice", "white", "corner colour in fill mode", choices=FILLS),
    ),
    run=_run_straighten,
    writes=_ALL_LAYERS,
    blendable=False,
)
