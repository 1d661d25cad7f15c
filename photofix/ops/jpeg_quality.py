"""How hard a JPEG was compressed, read from its own quantisation tables, and the waifu2x
JPEG-noise level (0–3) that cleans it best.

Almost every encoder (libjpeg/IJG, Pillow, most cameras and editors in "quality" mode) scales
the standard tables of the JPEG specification (ITU-T T.81 Annex K) by the IJG quality law::

    scale = 5000 / q          (q < 50)
    scale = 200 - 2 q         (q ≥ 50)
    table = clamp((std · scale + 50) // 100, 1, 255)

:func:`estimate_jpeg_quality` inverts that law by trying every q in 1..100 against the file's
luminance table (and chrominance table, when present) and keeping the q whose tables are
nearest in the log domain — exact for IJG-made files, and the closest equivalent for custom
tables. :func:`jpeg_noise_level` maps that quality to a waifu2x noise level through thresholds
measured on photographs (``benchmarks/bench_denoise.py``): the level that gives the highest
PSNR against the uncompressed original after ``waifu2x-photo-noiseN`` ×2 and a ×0.5 downscale.
No torch, no Qt.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

# ITU-T T.81 Annex K tables K.1 (luminance) and K.2 (chrominance), in natural (row) order.
STD_LUMINANCE = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.float64,
)
STD_CHROMINANCE = np.array(
    [
        [17, 18, 24, 47, 99, 99, 99, 99],
        [18, 21, 26, 66, 99, 99, 99, 99],
        [24, 26, 56, 99, 99, 99, 99, 99],
        [47, 66, 99, 99, 99, 99, 99, 99],
        [99, 99, 99, 99, 99, 99, 99, 99],
        [99, 99, 99, 99, 99, 99, 99, 99],
        [99, 99, 99, 99, 99, 99, 99, 99],
        [99, 99, 99, 99, 99, 99, 99, 99],
    ],
    dtype=np.float64,
)

# Zig-zag scan order: position k of a DQT segment holds coefficient ZIGZAG[k] in row order.
ZIGZAG = np.array(
    [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
     20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58,
     59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63],
)  # fmt: skip

# Waifu2x level by IJG quality: the level is the number of thresholds the quality is below.
# Measured with ``benchmarks/bench_denoise.py --calibrate jpeg`` on the calibration photos
# (rocket, camera, coins, moon; 128 px crops, 4:2:0 Pillow JPEGs, ×2 then area ×0.5): mean PSNR
# gain over the JPEG of the best level — q10 L1 +0.45 (L3 +0.44), q20–70 L3 +0.75…+0.99 (L1/L2
# 0.05–0.15 dB behind), q80 L0 +0.39 (L1 +0.33, L3 +0.27), q90 L0 +0.16, q95 every level loses
# (L0 −0.63). Levels 1 and 2 are never clearly best; level 1 covers the q75–79 crossover.
LEVEL_THRESHOLDS: tuple[int, int, int] = (80, 75, 75)


def ijg_table(std: np.ndarray, quality: int) -> np.ndarray:
    """libjpeg's ``jpeg_add_quant_table`` at ``quality`` (1..100), baseline-clamped to 255."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return np.clip((std * scale + 50) // 100, 1, 255)


def _row_order(table: Sequence[int]) -> np.ndarray:
    """An 8×8 table in row order from Pillow's ``quantization`` entry.

    Pillow ≥ 8.3 (and libjpeg itself) returns tables in natural row order; the order is checked
    anyway, by which arrangement is nearer to a smooth low-to-high-frequency table."""
    t = np.asarray(table, dtype=np.float64)
    if t.size != 64:
        raise ValueError("a JPEG quantisation table has 64 entries")
    natural = t.reshape(8, 8)
    unzig = np.empty(64)
    unzig[ZIGZAG] = t
    unzig = unzig.reshape(8, 8)

    def roughness(m: np.ndarray) -> float:
        return float(np.abs(np.diff(m, axis=0)).sum() + np.abs(np.diff(m, axis=1)).sum())

    return natural if roughness(natural) <= roughness(unzig) else unzig


def quality_from_tables(tables: Mapping[int, Sequence[int]]) -> int | None:
    """The IJG quality (1..100) whose scaled standard tables best match ``tables``.

    ``tables``: Pillow's ``Image.quantization`` — table id → 64 values. Table 0 is luminance,
    table 1 (if present) chrominance. Matching is in the log domain (a quantiser step of 2 vs 3
    matters as much as 40 vs 60). None when there is no table.
    """
    if not tables:
        return None
    ids = sorted(tables)
    luma = _row_order(tables[ids[0]])
    chroma = _row_order(tables[ids[1]]) if len(ids) > 1 else None
    best_q, best_err = 1, np.inf
    for q in range(1, 101):
        err = np.abs(np.log(ijg_table(STD_LUMINANCE, q)) - np.log(luma)).mean()
        if chroma is not None:
            err = (
                0.75 * err
                + 0.25 * np.abs(np.log(ijg_table(STD_CHROMINANCE, q)) - np.log(chroma)).mean()
            )
        if err < best_err - 1e-12:
            best_q, best_err = q, err
    return best_q


def estimate_jpeg_quality(path: str | os.PathLike[str]) -> int | None:
    """The IJG-equivalent quality (1..100) the JPEG at ``path`` was saved with; None when the
    file is not a JPEG (or has no quantisation tables)."""
    with Image.open(path) as im:
        if im.format != "JPEG":
            return None
        return quality_from_tables(getattr(im, "quantization", None) or {})


def level_for_quality(quality: int) -> int:
    """waifu2x JPEG-noise level 0..3 for an IJG quality (lower quality → higher level)."""
    return sum(quality < t for t in LEVEL_THRESHOLDS)


def jpeg_noise_level(path: str | os.PathLike[str]) -> int | None:
    """The waifu2x photo JPEG-noise level (0..3) that cleans the JPEG at ``path`` best, from
    the quality its quantisation tables reveal; None for a file that is not a JPEG."""
    quality = estimate_jpeg_quality(path)
    return None if quality is None else level_for_quality(quality)
