"""Tones and colour: ``levels``, ``curves``, ``exposure``, ``white-balance``, ``grayscale`` and
``tone`` (sepia and other toners).

All work on float samples (no 8-bit lookup tables), so a 16-bit scan keeps its levels.
Exposure and white balance scale light, so they work in linear light (sRGB decoded, scaled,
encoded again); levels and curves act on the stored values, as in other editors.
``grayscale`` returns equal channels and marks the image as gray, so it is saved with one
channel at the source's bit depth.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from photofix.core.errors import OperationError
from photofix.ops.registry import Layers, OpContext, Operation, Param

CHANNELS = ("all", "red", "green", "blue")
_CHANNEL_INDEX = {"red": 0, "green": 1, "blue": 2}
_LUT_SIZE = 4097
LUMA_601 = np.array([0.299, 0.587, 0.114], np.float32)
_Y_709 = np.array([0.2126, 0.7152, 0.0722], np.float32)


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(
        np.float32
    )


def _apply_per_channel(image: np.ndarray, channel: str, fn: Any) -> np.ndarray:
    out = image.copy()
    chans = range(3) if channel == "all" else [_CHANNEL_INDEX[channel]]
    for c in chans:
        out[..., c] = fn(image[..., c], c)
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


# ---- levels ----------------------------------------------------------------------------------
def levels(x: np.ndarray, black: float, white: float, gamma: float) -> np.ndarray:
    """Map ``black``..``white`` to 0..1 (clipped) with a midtone ``gamma`` (>1 lightens)."""
    if white <= black:
        raise OperationError(f"levels: white ({white:g}) must be above black ({black:g})")
    y = np.clip((x - black) / (white - black), 0.0, 1.0)
    return y if gamma == 1.0 else np.power(y, 1.0 / gamma)


def auto_levels(image: np.ndarray, clip_percent: float, per_channel: bool) -> list[tuple]:
    """(black, white) per channel from the darkest/lightest ``clip_percent`` of the pixels;
    the same pair for all three unless ``per_channel`` (which also removes a colour cast)."""
    sample = image[:: max(1, image.shape[0] // 512), :: max(1, image.shape[1] // 512)]
    flat = sample.reshape(-1, 3)
    if per_channel:
        lo = np.percentile(flat, clip_percent, axis=0)
        hi = np.percentile(flat, 100 - clip_percent, axis=0)
        pairs = list(zip(lo.tolist(), hi.tolist(), strict=True))
    else:
        lo, hi = np.percentile(flat, [clip_percent, 100 - clip_percent])
        pairs = [(float(lo), float(hi))] * 3
    return [(b, w) if w - b > 1e-3 else (0.0, 1.0) for b, w in pairs]


def _run_levels(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    image = layers.image
    if params["auto"] != "off":
        pairs = auto_levels(image, params["clip"], params["auto"] == "per-channel")
        b, w = pairs[0]
        ctx.progress.notice(
            "Auto levels: " + ", ".join(f"{lo:.3f}-{hi:.3f}" for lo, hi in pairs)
            if params["auto"] == "per-channel"
            else f"Auto levels: black {b:.3f}, white {w:.3f}"
        )

        def fn(x: np.ndarray, c: int) -> np.ndarray:
            return levels(x, *pairs[c], params["gamma"])
    else:

        def fn(x: np.ndarray, c: int) -> np.ndarray:
            return levels(x, params["black"], params["white"], params["gamma"])

    channel = "all" if params["auto"] != "off" else params["channel"]
    return layers.replace(image=_apply_per_channel(image, channel, fn))


# ---- curves ----------------------------------------------------------------------------------
def parse_points(text: str) -> np.ndarray:
    """``"0:0, 64:50, 255:255"`` (0-255) or ``"0:0, 0.25:0.2, 1:1"`` (0-1) -> Nx2 in 0..1.

    Pairs are input:output, separated by commas or spaces; inputs must differ."""
    items = [s for s in re.split(r"[,\s;]+", text.strip()) if s]
    try:
        pts = np.array([[float(v) for v in item.split(":")] for item in items], np.float64)
    except ValueError:
        pts = np.zeros((0, 3))
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2:
        raise OperationError(
            f"curves points must be at least two input:output pairs such as"
            f" '0:0, 128:150, 255:255', not {text!r}"
        )
    if pts.max() > 1.0:
        pts = pts / 255.0
    if pts.min() < 0.0 or pts.max() > 1.0:
        raise OperationError("curves points must lie in 0..255 (or 0..1)")
    pts = pts[np.argsort(pts[:, 0], kind="stable")]
    if np.any(np.diff(pts[:, 0]) <= 0):
        raise OperationError("curves points need different input values")
    return pts


def curve_lut(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A fine (x, y) table through ``points``: monotone cubic (PCHIP, no overshoot) between
    them, flat outside them."""
    xs = np.linspace(0.0, 1.0, _LUT_SIZE)
    if len(points) == 2:
        ys = np.interp(xs, points[:, 0], points[:, 1])
    else:
        from scipy.interpolate import PchipInterpolator  # 0.2 s to import: not at start-up

        inside = np.clip(xs, points[0, 0], points[-1, 0])
        ys = PchipInterpolator(points[:, 0], points[:, 1])(inside)
    return xs, np.clip(ys, 0.0, 1.0)


def _run_curves(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    xs, ys = curve_lut(parse_points(params["points"]))
    image = _apply_per_channel(
        layers.image, params["channel"], lambda x, c: np.interp(x, xs, ys).astype(np.float32)
    )
    return layers.replace(image=image)


# ---- exposure and white balance --------------------------------------------------------------
def _run_exposure(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    gain = np.float32(2.0 ** params["stops"])
    return layers.replace(image=linear_to_srgb(srgb_to_linear(layers.image) * gain))


def neutral_gains(image: np.ndarray, x: int, y: int, radius: int) -> np.ndarray:
    """Per-channel gains (linear light) that turn the average around (x, y) neutral grey at
    its own brightness."""
    h, w = image.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        raise OperationError(f"the neutral point ({x}, {y}) is outside the {w}x{h} px image")
    patch = image[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1]
    lin = srgb_to_linear(patch).reshape(-1, 3).mean(axis=0)
    if lin.min() < 0.002:
        raise OperationError(
            "the picked point is too dark (or one colour is missing there) to judge its"
            " colour: pick a light or mid grey"
        )
    if patch.max() >= 0.999:
        raise OperationError("the picked point is blown out white: pick a grey that has detail")
    y_lum = float(lin @ _Y_709)
    return (y_lum / lin).astype(np.float32)


def _run_white_balance(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    if params["x"] is None or params["y"] is None:
        raise OperationError("white-balance needs x and y: the pixel of something neutral grey")
    gains = neutral_gains(layers.image, params["x"], params["y"], params["radius"])
    ctx.progress.notice(
        "White balance gains (linear): " + ", ".join(f"{g:.3f}" for g in gains.tolist())
    )
    return layers.replace(image=linear_to_srgb(srgb_to_linear(layers.image) * gains))


# ---- grayscale and toning --------------------------------------------------------------------
GRAY_WEIGHTS = {
    "luminance": LUMA_601,
    "average": np.full(3, 1 / 3, np.float32),
    "red": np.array([1, 0, 0], np.float32),
    "green": np.array([0, 1, 0], np.float32),
    "blue": np.array([0, 0, 1], np.float32),
}


def gray(image: np.ndarray, method: str = "luminance") -> np.ndarray:
    """HxW float32 gray from HxWx3 by ``method`` (a :data:`GRAY_WEIGHTS` key)."""
    return np.clip(image @ GRAY_WEIGHTS[method], 0.0, 1.0).astype(np.float32)


def _gray_meta(layers: Layers) -> Any:
    meta = layers.meta
    if meta is None or meta.grayscale:
        return meta
    mode = "LA" if meta.has_alpha else ("I;16" if meta.bit_depth >= 16 else "L")
    return replace(meta, grayscale=True, source_mode=mode)


def _run_grayscale(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    g = gray(layers.image, params["method"])
    return layers.replace(image=np.repeat(g[..., None], 3, axis=2), meta=_gray_meta(layers))


# Per-channel midtone exponents: black and white stay neutral, the middle tones take the colour.
TONERS = {
    "sepia": (0.80, 0.95, 1.25),
    "selenium": (0.95, 1.0, 1.06),
    "gold": (1.08, 1.0, 0.90),
    "cyanotype": (1.55, 1.1, 0.82),
}


def _run_tone(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    g = gray(layers.image)[..., None]
    toned = np.power(g, np.array(TONERS[params["color"]], np.float32))
    s = np.float32(params["amount"])
    out = g + s * (toned - g)
    return layers.replace(image=np.clip(out, 0.0, 1.0).astype(np.float32))


LEVELS = Operation(
    name="levels",
    title="Levels",
    summary="Set the black and white points and the midtone gamma (per channel or auto).",
    params=(
        Param("black", "float", 0.0, "input value that becomes black", 0.0, 1.0),
        Param("white", "float", 1.0, "input value that becomes white", 0.0, 1.0),
        Param("gamma", "float", 1.0, "midtones: above 1 lightens", 0.1, 10.0),
        Param("channel", "choice", "all", "which channel", choices=CHANNELS),
        Param(
            "auto",
            "choice",
            "off",
            "set black and white from the picture",
            choices=("off", "contrast", "per-channel"),
        ),
        Param("clip", "float", 0.1, "auto: % of pixels let go to black/white", 0.0, 10.0),
    ),
    run=_run_levels,
    preview_whole=True,  # auto: the black and white points of the whole picture
)

CURVES = Operation(
    name="curves",
    title="Curves",
    summary="A tone curve through input:output points (0-255), smooth and monotone.",
    params=(
        Param("points", "str", "0:0, 64:56, 192:200, 255:255", "input:output pairs, 0-255"),
        Param("channel", "choice", "all", "which channel", choices=CHANNELS),
    ),
    run=_run_curves,
)

EXPOSURE = Operation(
    name="exposure",
    title="Exposure",
    summary="Brighten or darken by photographic stops (in linear light).",
    params=(Param("stops", "float", 0.5, "+1 doubles the light, -1 halves it", -5.0, 5.0),),
    run=_run_exposure,
)

WHITE_BALANCE = Operation(
    name="white-balance",
    title="White balance",
    summary="Make a picked neutral point grey (removes a colour cast; in linear light).",
    params=(
        Param("x", "int", None, "column of something neutral grey", minimum=0),
        Param("y", "int", None, "row of something neutral grey", minimum=0),
        Param("radius", "int", 4, "average over this many px around it", 0, 100),
    ),
    run=_run_white_balance,
    preview_whole=True,  # x, y are the whole picture's pixel
)

GRAYSCALE = Operation(
    name="grayscale",
    title="Grayscale",
    summary="Convert to gray; saved with one channel at the source's bit depth.",
    params=(
        Param(
            "method", "choice", "luminance", "how to mix the channels", choices=tuple(GRAY_WEIGHTS)
        ),
    ),
    run=_run_grayscale,
)

TONE = Operation(
    name="tone",
    title="Tone (sepia)",
    summary="Gray with a toner's colour in the midtones (sepia, selenium, gold, cyanotype).",
    params=(
        Param("color", "choice", "sepia", "the toner", choices=tuple(TONERS)),
        Param("amount", "float", 1.0, "0 gray .. 1 full toner", 0.0, 1.0),
    ),
    run=_run_tone,
)
