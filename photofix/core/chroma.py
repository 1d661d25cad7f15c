"""Luma and chroma: the split colorization works in, so that the photograph's tones never change.

**Which luminance.** PhotoFix's colorization keeps *luma* ``Y'``, the ITU-R BT.601 weighted sum
of the stored (gamma-encoded) R'G'B' values::

    Y' = 0.299·R' + 0.587·G' + 0.114·B'

the same quantity JPEG's YCbCr and OpenCV's ``COLOR_RGB2GRAY`` use; for a gray photograph
(R' = G' = B') it is exactly the gray value, bit for bit (see :func:`luma`). Chroma is the pair
of colour differences ``(B' − Y', R' − Y')`` (unscaled Cb, Cr), so an image is
``R' = Y' + Cr``, ``B' = Y' + Cb``, ``G' = Y' − (0.299·Cr + 0.114·Cb) / 0.587``.

**Gamut.** Adding chroma to a luma can leave the RGB cube. :func:`compose` then shrinks that
pixel's chroma towards gray by the smallest factor that brings all three channels into [0, 1]
— never by clipping channels, which would change the luma. Gray (``Y', Y', Y'``) is always
inside the cube, so a factor in [0, 1] always exists and the luma is kept exactly (up to float32
rounding, ~1e-7). After 8-bit quantisation the luma error is at most 0.5/255.

All arrays are float32; images ``H×W×3`` in [0, 1], luma ``H×W`` in [0, 1], chroma ``H×W×2``
(Cb, Cr) in about [−0.89, 0.89] × [−0.70, 0.70].
"""

from __future__ import annotations

import numpy as np

KR = 0.299
KB = 0.114
KG = 1.0 - KR - KB

__all__ = ["KB", "KG", "KR", "chroma", "compose", "is_gray", "luma"]


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma ``Y'`` of ``rgb`` (float32 ``H×W×3`` [0, 1]) as float32 ``H×W``.

    Written as ``R' + KG·(G' − R') + KB·(B' − R')`` (algebraically the weighted sum, since the
    weights add to 1), so a gray pixel's luma is its gray value exactly.
    """
    rgb = np.asarray(rgb, np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r + np.float32(KG) * (g - r) + np.float32(KB) * (b - r)).astype(np.float32)


def chroma(rgb: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Colour differences ``(B' − Y', R' − Y')`` of ``rgb`` (float32 ``H×W×3``) as ``H×W×2``.

    ``y`` may pass the luma when it is already known.
    """
    rgb = np.asarray(rgb, np.float32)
    if y is None:
        y = luma(rgb)
    return np.stack([rgb[..., 2] - y, rgb[..., 0] - y], axis=-1).astype(np.float32)


def compose(y: np.ndarray, c: np.ndarray, saturation: float = 1.0) -> np.ndarray:
    """RGB (float32 ``H×W×3`` [0, 1]) with luma ``y`` (``H×W``) and chroma ``saturation·c``.

    ``c`` is float32 ``H×W×2`` (Cb, Cr). Pixels whose colour would leave the RGB cube get their
    chroma scaled towards gray just enough to fit (see the module docstring), so the luma of the
    result equals ``y``. Where the chroma is zero the result is ``(y, y, y)`` exactly. Works in
    bands of rows so the temporaries stay in cache (12 MP in about a second).
    """
    y = np.asarray(y, np.float32)
    c = np.asarray(c, np.float32)
    if c.shape != (*y.shape, 2):
        raise ValueError(f"chroma must be H×W×2 matching the luma {y.shape}, got {c.shape}")
    out = np.empty((*y.shape, 3), np.float32)
    band = max(1, (1 << 16) // max(1, y.shape[1]))
    for r0 in range(0, y.shape[0], band):
        _compose_band(y[r0 : r0 + band], c[r0 : r0 + band], saturation, out[r0 : r0 + band])
    return out


def _compose_band(y: np.ndarray, c: np.ndarray, saturation: float, out: np.ndarray) -> None:
    s = np.float32(saturation)
    cb = c[..., 0] * s
    cr = c[..., 1] * s
    dg = (np.float32(-KR / KG) * cr) - (np.float32(KB / KG) * cb)
    headroom = 1.0 - y  # room above, for a positive offset
    # the largest |offset| / room over the three channels: t = 1 / max(1, need)
    need = np.zeros_like(y)
    tmp = np.empty_like(y)
    for d in (cr, dg, cb):
        room = np.where(d > 0, headroom, y)
        np.abs(d, out=tmp)
        np.divide(tmp, room, out=tmp, where=room > 0)
        tmp[(room <= 0) & (d != 0)] = np.inf  # no room at all: the colour must go
        tmp[(room <= 0) & (d == 0)] = 0.0
        np.maximum(need, tmp, out=need)
    np.maximum(need, 1.0, out=need)
    t = np.divide(1.0, need, dtype=np.float32)
    for k, d in enumerate((cr, dg, cb)):
        np.multiply(d, t, out=out[..., k])
        out[..., k] += y
    np.clip(out, 0.0, 1.0, out=out)


def is_gray(rgb: np.ndarray) -> bool:
    """Whether every pixel of ``rgb`` (``H×W×3``) has R' = G' = B'."""
    return bool(
        np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
    )
