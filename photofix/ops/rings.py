"""Per-region statistics of a labelled picture, shared by the defect tests
(:mod:`photofix.ops.defects`) and the spot finder (:mod:`photofix.ops.spots`): the mean of a
map inside each region, and the mean and variance of a ring 2-4 px around it.

Computed in bands of ``BAND`` rows (each with the ring's reach above and below), so a big scan
needs no full-size temporaries; the sums are the whole picture's.
"""

from __future__ import annotations

import cv2
import numpy as np

BAND = 256  # rows of the bands the region measures work in


def component_means(values: np.ndarray, comp: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values`` (float HxW) per component of ``comp`` (int32 HxW labels 0..n-1,
    0 = background), float64 (n); 0 for a label with no pixels."""
    inside = comp > 0
    cnt = np.maximum(np.bincount(comp[inside], minlength=n), 1)
    return np.bincount(comp[inside], weights=values[inside].astype(np.float64), minlength=n) / cnt


def ring_means(values: np.ndarray, comp: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Per component of ``comp`` (int32 HxW labels 0..n-1, 0 = background): the mean of
    ``values`` (float HxW) inside, and the mean and variance of a ring 2-4 px around it
    (float64, n each)."""
    k = np.ones((3, 3), np.uint8)
    cnt_c, sum_c = np.zeros(n), np.zeros(n)
    cnt_r, sum_r, sq_r = np.zeros(n), np.zeros(n), np.zeros(n)
    h = comp.shape[0]
    for b0 in range(0, h, BAND):
        b1 = min(h, b0 + BAND)
        t0, t1 = max(0, b0 - 4), min(h, b1 + 4)
        band = comp[t0:t1]
        if not band.any():
            continue
        core = slice(b0 - t0, b1 - t0)
        grown = cv2.dilate(band.astype(np.float32), k, iterations=4)[core].astype(np.int32)
        inner = cv2.dilate((band > 0).view(np.uint8), k, iterations=2)[core]
        ring = (grown > 0) & (inner == 0)
        inside = band[core] > 0
        y = values[b0:b1]
        ids, vals = band[core][inside], y[inside].astype(np.float64)
        cnt_c += np.bincount(ids, minlength=n)
        sum_c += np.bincount(ids, weights=vals, minlength=n)
        rk, rv = grown[ring], y[ring].astype(np.float64)
        cnt_r += np.bincount(rk, minlength=n)
        sum_r += np.bincount(rk, weights=rv, minlength=n)
        sq_r += np.bincount(rk, weights=rv**2, minlength=n)
    mean_c = sum_c / np.maximum(cnt_c, 1)
    cnt_r = np.maximum(cnt_r, 1)
    mean_r = sum_r / cnt_r
    var_r = sq_r / cnt_r - mean_r**2
    return mean_c, mean_r, var_r
