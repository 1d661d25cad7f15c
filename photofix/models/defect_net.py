"""DefectNet: a small U-Net that marks dust and scratches on the luminance of a scanned print.

Spec
    task: per-pixel defect probabilities (channel 0 dust, channel 1 scratches) at scale 1.
    input: the four feature maps of :func:`input_features` (float32 ``h×w×4``: luminance, the
    noise-normalised top-hat residual, bright and dark line evidence), computed once on the whole
    image, then run tile by tile (any tile size; the runner pads to a multiple of 8 and crops).
    output: float32 ``h×w×2`` probabilities in [0, 1].
    weights: ``photofix/models/weights/defect_net.safetensors`` (inside the package, fp16,
    about 0.1 MB), trained by this project on synthetic damage (``training/train_defect_net.py``
    holds the recipe, the photographs used and the seed), then its dust fine-tuned on real dust
    (``training/finetune_real.py --keep-scratches 2``, then ``3`` from those weights: the
    training split's hand-checked prints and real mark shapes from DustyScans, MIT; scratches
    kept by distillation). Licence: GPL-3.0-or-later, like PhotoFix.
    tiling: fully convolutional; receptive field about 100 px, so tiles need 48 px of context.

The classical features carry what a small network would need many layers to learn: a robust
local noise scale (so film grain and texture are judged against themselves) and a two-sided
oriented line detector (so thin lines crossing the picture stand out). The network learns what
separates damage from real thin structures (catchlights, hair, rims, fine print).

torch is imported only inside :func:`build`, the registry's build hook and :func:`_forward`;
the network runs through the shared model runner like every model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from photofix.models.spec import ModelSpec, PackageWeights, Tiling

MODEL_ID = "defect-net"
WEIGHTS = Path(__file__).resolve().parent / "weights" / "defect_net.safetensors"
LICENCE = (
    "GPL-3.0-or-later (trained by the PhotoFix project on synthetic damage; dust fine-tuned on"
    " real dust shapes from DustyScans, MIT, and the project's hand-checked real prints)"
)
CHANNELS = ("dust", "scratches")
IN_CHANNELS = 4
MULTIPLE = 8
CONTEXT = 48

TOPHAT_SIZE = 11  # square structuring element: the residual keeps structures thinner than ~8 px
BLOCK = 32  # block size of the robust local noise scale
SCALE_FLOOR = 0.004  # noise scale floor (about one 8-bit level)
PIECE = 8  # px at half resolution: a line needs three such pieces in a row
SIDE = 6  # px at half resolution: where a line's two sides are sampled
ORIENTATIONS = 12


# ---- input features (numpy/OpenCV) ---------------------------------------------------------
def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of a float32 HxWx3 [0,1] image, as float32 HxW."""
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    return np.ascontiguousarray(image @ weights, dtype=np.float32)


def local_noise_scale(residual: np.ndarray) -> np.ndarray:
    """Robust local scale (float32 HxW) of a residual map, from the lower quartile of ``|r|`` in
    32×32 blocks (σ for Gaussian noise; up to half a block may be damage), interpolated
    bilinearly and floored at ``SCALE_FLOOR``."""
    return _window_noise_scale(residual, 0, 0, *residual.shape)


def _block_grid(n: int) -> tuple[int, int, int]:
    """(block size, block count, offset of the first block) along an axis of ``n`` px: the
    blocks are centred in the picture."""
    size = min(BLOCK, n)
    count = n // size
    return size, count, (n - count * size) // 2


def _bilinear_taps(
    n_out: int, n_in: int, lo: int = 0, hi: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For output positions ``lo..hi`` of a bilinear resize from ``n_in`` to ``n_out`` samples
    (OpenCV's INTER_LINEAR convention: pixel centres aligned, ends clamped): the lower tap's
    index and its float32 weight, and the upper tap's weight."""
    hi = n_out if hi is None else hi
    f = (np.arange(lo, hi, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    f = np.clip(f, 0.0, n_in - 1)
    i0 = np.minimum(np.floor(f).astype(np.intp), max(n_in - 2, 0))
    w1 = (f - i0).astype(np.float32) if n_in > 1 else np.zeros(len(f), np.float32)
    return i0, 1 - w1, w1


def _blocks_inside(n: int, start: int, length: int) -> tuple[int, int, int, int]:
    """Along an axis of a picture ``n`` px long, the whole-picture blocks lying inside the
    window ``start``..``start + length``: (block size, first, one past the last, the first's
    offset in the window). A window thinner than a block makes one block of its own."""
    size, count, offset = _block_grid(n)
    first = max(0, -((offset - start) // size))
    last = min(count, (start + length - offset) // size)
    if last <= first:  # (never with the halo)
        return min(size, length), 0, 1, 0
    return size, first, last, offset + first * size - start


def _interpolated(
    q: np.ndarray, n: int, count: int, first: int, start: int, length: int, axis: int
) -> np.ndarray:
    """Bilinear interpolation along ``axis`` of block values ``q`` (blocks ``first``.. of the
    ``count`` of a picture ``n`` px long) to the window's ``length`` px from ``start``;
    positions whose blocks are outside the window take the nearest it has."""
    i0, w0, w1 = _bilinear_taps(n, count, start, start + length)
    have = q.shape[axis]
    i0 = np.clip(i0 - first, 0, have - 1)
    i1 = np.minimum(i0 + 1, have - 1)
    shape = [1, 1]
    shape[axis] = length
    return np.take(q, i0, axis) * w0.reshape(shape) + np.take(q, i1, axis) * w1.reshape(shape)


def _window_noise_scale(
    residual: np.ndarray, top: int, left: int, height: int, width: int
) -> np.ndarray:
    """:func:`local_noise_scale` of a window of a ``height``×``width`` picture whose top-left
    pixel is (``top``, ``left``), from ``residual`` (the window's, float32): the blocks lie on
    the whole picture's grid, so a window's values are the whole picture's wherever it holds
    the blocks they need."""
    s, t = residual.shape
    sy, r0, r1, ry = _blocks_inside(height, top, s)
    sx, c0, c1, cx = _blocks_inside(width, left, t)
    nr, nc = r1 - r0, c1 - c0
    window = np.abs(residual[ry : ry + nr * sy, cx : cx + nc * sx])
    flat = window.reshape(nr, sy, nc, sx).transpose(0, 2, 1, 3).reshape(nr, nc, -1)
    k = flat.shape[2] // 4
    q = np.partition(flat, k, axis=2)[:, :, k].astype(np.float32) / np.float32(0.3186)
    bh, bw = _block_grid(height)[1], _block_grid(width)[1]
    across = _interpolated(q, width, bw, c0, left, t, axis=1)
    scale = _interpolated(across, height, bh, r0, top, s, axis=0)
    return np.maximum(scale, SCALE_FLOOR).astype(np.float32)


def _segment_kernel(length: int, theta: float) -> np.ndarray:
    """Normalised anti-aliased line segment of ``length`` px at angle ``theta``, centred."""
    size = length | 1
    c = size // 2
    k = np.zeros((size, size), np.float32)
    dx, dy = np.cos(theta) * (length - 1) / 2, np.sin(theta) * (length - 1) / 2
    p0 = (round((c - dx) * 16), round((c - dy) * 16))
    p1 = (round((c + dx) * 16), round((c + dy) * 16))
    cv2.line(k, p0, p1, 1.0, 1, cv2.LINE_AA, 4)
    return k / k.sum()


def _shift(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` moved by (dx, dy) px (bilinear, mirrored border): out(x) = image(x - d)."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    h, w = image.shape
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def line_response(y: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bright and dark line strength (float32 HxW each, ≥ 0, in noise units) of luminance ``y``.

    For each of 12 orientations, a pixel's two-sided contrast is its value minus the brighter
    (for dark lines: the darker) of the two points ``SIDE`` px away across the line, so an edge
    between two regions scores nothing. That contrast is averaged along three consecutive
    8-px pieces of the line and the weakest piece counts, so a short blob scores nothing either
    (after the line detector of Ricci & Perfetti, 2007, made two-sided and blob-proof). The
    best orientation wins. Computed at half resolution (an area average keeps a thin line's
    signal-to-noise ratio) and interpolated back.
    """
    h, w = y.shape
    size = (max(1, w // 2), max(1, h // 2))
    half = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    hs = cv2.resize(scale, size, interpolation=cv2.INTER_AREA) * 0.5  # noise halves
    best_b = np.zeros(half.shape, np.float32)
    best_d = np.zeros(half.shape, np.float32)
    for i in range(ORIENTATIONS):
        theta = np.pi * i / ORIENTATIONS
        tx, ty = np.cos(theta), np.sin(theta)  # along the line
        nx, ny = -ty, tx  # across it
        a = _shift(half, SIDE * nx, SIDE * ny)
        b = _shift(half, -SIDE * nx, -SIDE * ny)
        kernel = _segment_kernel(PIECE, theta)
        for sign, best in ((1.0, best_b), (-1.0, best_d)):
            side = np.maximum(a, b) if sign > 0 else np.minimum(a, b)
            contrast = sign * (half - side) / hs
            piece = cv2.filter2D(contrast, -1, kernel, borderType=cv2.BORDER_REFLECT)
            weakest = np.minimum(piece, _shift(piece, PIECE * tx, PIECE * ty))
            np.minimum(weakest, _shift(piece, -PIECE * tx, -PIECE * ty), out=weakest)
            np.maximum(best, weakest, out=best)
    up = (w, h)
    return (
        cv2.resize(best_b, up, interpolation=cv2.INTER_LINEAR),
        cv2.resize(best_d, up, interpolation=cv2.INTER_LINEAR),
    )


def input_features(y: np.ndarray) -> np.ndarray:
    """The network's input (float32 HxWx4, each channel in [-1, 1] or [0, 1]) from a luminance
    image ``y`` (float32 HxW in [0, 1]).

    Channels: the luminance; the signed top-hat residual (bright minus dark, 11×11 square, after
    a σ 0.7 Gaussian) divided by its robust local scale, squashed with tanh(x/8); bright and
    dark line evidence of :func:`line_response`, squashed the same way. :class:`TiledFeatures`
    gives the same maps a strip at a time.
    """
    return _window_features(y, 0, 0, y.shape, (slice(0, y.shape[0]), slice(0, y.shape[1])))


FEATURE_HALO = 96
"""Pixels of luminance beyond a strip that its features depend on: the noise blocks (32 px)
and their interpolation, the top-hat and the half-resolution line detector. At 80 px a strip's
features already equal the whole picture's to float rounding (at 64 they differ by 5e-4)."""


def _window_features(
    y: np.ndarray, top: int, left: int, shape: tuple[int, int], inside: tuple[slice, slice]
) -> np.ndarray:
    """Features ``[inside]`` of a window ``y`` of a picture's luminance (float32; its top-left
    pixel is (``top``, ``left``) of a picture of ``shape``)."""
    pad_y, pad_x = y.shape[0] % 2, y.shape[1] % 2  # the line detector halves the resolution:
    if pad_y or pad_x:  # keep rows and columns paired
        y = np.pad(y, ((0, pad_y), (0, pad_x)), mode="edge")
    smooth, residual = _smooth_and_residual(y)
    real = residual[: residual.shape[0] - pad_y, : residual.shape[1] - pad_x]
    scale = _window_noise_scale(real, top, left, *shape)
    if pad_y or pad_x:  # the paired row and column take the scale of the last real ones
        scale = np.pad(scale, ((0, pad_y), (0, pad_x)), mode="edge")
    out = np.empty((*y[inside].shape, IN_CHANNELS), np.float32)
    out[..., 0] = y[inside]
    residual /= scale
    residual /= np.float32(8.0)
    out[..., 1] = np.tanh(residual[inside])
    del residual
    bright, dark = line_response(smooth, scale)
    del smooth, scale
    for channel, evidence in ((2, bright), (3, dark)):
        evidence = evidence[inside]
        evidence /= np.float32(8.0)
        out[..., channel] = np.tanh(evidence)
    return out


def _smooth_and_residual(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The luminance after a σ 0.7 Gaussian, and its signed top-hat residual (bright minus
    dark, ``TOPHAT_SIZE`` square), float32 like ``y``."""
    smooth = cv2.GaussianBlur(y, (0, 0), 0.7, borderType=cv2.BORDER_REFLECT)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (TOPHAT_SIZE, TOPHAT_SIZE))
    # (in place, one window-size temporary at a time)
    residual = cv2.morphologyEx(smooth, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_REFLECT)
    np.subtract(smooth, residual, out=residual)  # bright top-hat
    closed = cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REFLECT)
    np.subtract(closed, smooth, out=closed)  # dark top-hat
    residual -= closed
    return smooth, residual


def grain_scale(y: np.ndarray, rows: int = 512) -> np.ndarray:
    """The robust local grain scale (float32 HxW) of luminance ``y`` that the features are
    normalised by: :func:`local_noise_scale` of the signed top-hat residual, computed in bands
    of ``rows`` rows (each from ``FEATURE_HALO`` more rows around it), so a big scan needs no
    full-size temporaries beyond the result; the same as the whole picture's to float rounding."""
    h, w = y.shape
    out = np.empty((h, w), np.float32)
    for y0 in range(0, h, rows):
        y1 = min(h, y0 + rows)
        top, bottom = max(0, y0 - FEATURE_HALO), min(h, y1 + FEATURE_HALO)
        residual = _smooth_and_residual(y[top:bottom])[1]
        out[y0:y1] = _window_noise_scale(residual, top, 0, h, w)[y0 - top : y1 - top]
    return out


class TiledFeatures:
    """The features of a whole picture as an array the tiler can slice (``[rows, cols]``),
    computed a strip of rows at a time when asked for, from ``FEATURE_HALO`` more rows of the
    picture above and below: a 24-MP scan never holds its four full-size feature maps (384 MB)
    or their temporaries. The tiler asks for the tiles of one row of tiles with the same rows,
    so each strip is computed once, across the whole width (OpenCV is fastest on long rows),
    and kept until the next row of tiles. A strip's features are the whole picture's
    (:func:`input_features`) to float rounding: the noise blocks and the half-resolution grid
    are the whole picture's.
    """

    ndim = 3
    dtype = np.dtype(np.float32)

    def __init__(self, image: np.ndarray) -> None:
        """``image``: float32 H×W×3 RGB or H×W luminance, in [0, 1]."""
        self._image = image
        self.shape = (image.shape[0], image.shape[1], IN_CHANNELS)
        self._rows: tuple[int, int] | None = None
        self._strip: np.ndarray | None = None

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        height, width = self.shape[:2]
        y0, y1, _ = key[0].indices(height)
        if self._rows != (y0, y1):
            self._strip = None  # let the old strip go before the next is made
            top = max(0, y0 - FEATURE_HALO) & ~1  # even, so the half-resolution grid is shared
            window = self._image[top : min(height, y1 + FEATURE_HALO)]
            y = luminance(window) if window.ndim == 3 else np.ascontiguousarray(window, np.float32)
            inside = (slice(y0 - top, y1 - top), slice(0, width))
            self._strip = _window_features(y, top, 0, (height, width), inside)
            self._rows = (y0, y1)
        assert self._strip is not None
        return self._strip[:, key[1]]


# ---- the network (torch) -------------------------------------------------------------------
def build() -> Any:
    """The untrained network (a ``torch.nn.Module``)."""
    import torch
    from torch import nn

    def block(cin: int, cout: int, dilations: tuple[int, ...] = (1, 1)) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i, d in enumerate(dilations):
            layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=d, dilation=d)]
            layers += [nn.ReLU(inplace=True)]
        return nn.Sequential(*layers)

    class DefectNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc0 = block(IN_CHANNELS, 12)
            self.enc1 = block(12, 16)
            self.enc2 = block(16, 32)
            self.enc3 = block(32, 32, (1, 2, 4))
            self.dec2 = block(32 + 32, 32, (1,))
            self.dec1 = nn.Sequential(
                nn.Conv2d(32 + 16, 16, 1), nn.ReLU(inplace=True), *block(16, 16, (1,))
            )
            self.dec0 = nn.Sequential(nn.Conv2d(16 + 12, 16, 1), nn.ReLU(inplace=True))
            self.head = nn.Conv2d(16, len(CHANNELS), 1)
            self.pool = nn.AvgPool2d(2)
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """``x``: N×4×H×W features, H and W multiples of 8 -> N×2×H×W logits."""
            x = torch.cat([x[:, :1] * 2.0 - 1.0, x[:, 1:]], 1)
            e0 = self.enc0(x)
            e1 = self.enc1(self.pool(e0))
            e2 = self.enc2(self.pool(e1))
            e3 = self.enc3(self.pool(e2))
            d2 = self.dec2(torch.cat([self.up(e3), e2], 1))
            d1 = self.dec1(torch.cat([self.up(d2), e1], 1))
            d0 = self.dec0(torch.cat([self.up(d1), e0], 1))
            return self.head(d0)

    return DefectNet()


def _build(spec: ModelSpec) -> Any:
    """The network with the shipped weights, on the CPU (the registry's build hook)."""
    from safetensors.torch import load_file

    (path,) = spec.weights.paths()
    net = build()
    net.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    return net


def _forward(net: Any, x: Any) -> Any:
    """The damage probabilities (the network's logits through a sigmoid)."""
    import torch

    return torch.sigmoid(net(x))


SPEC = ModelSpec(
    id=MODEL_ID,
    title="DefectNet damage detector",
    task="detector",
    scale=1,
    licence=LICENCE,
    weights=PackageWeights("photofix.models", "photofix", ("weights/defect_net.safetensors",)),
    build=_build,
    channels=IN_CHANNELS,
    tiling=Tiling(tile=512, overlap=16, context=CONTEXT, multiple=MULTIPLE, pad_mode="reflect"),
    reduced_precision=False,
    forward=_forward,
    kind="detector",
    clip_output=False,  # probabilities already
    # channels-last: oneDNN's float32 convolutions run this network about 1.6× faster on the CPU
    channels_last=True,
    summary=(
        "Per-pixel dust and scratch probabilities from four classical feature maps (luminance,"
        " top-hat residual, bright and dark line evidence); 70 k params, ships with PhotoFix."
    ),
)
SPECS = (SPEC,)
