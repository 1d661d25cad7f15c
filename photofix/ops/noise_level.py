"""Noise-level estimation from the image itself, and the σ to hand FFDNet.

Estimator: G. Chen, F. Zhu, P. A. Heng, "An Efficient Statistical Method for Image Noise Level
Estimation", ICCV 2015. Overlapping patches are treated as vectors; for white Gaussian noise of
variance σ², the eigenvalues of their covariance that belong to the noise-only subspace are all
σ² (the image content lives in a low-dimensional subspace). The method sorts the eigenvalues and
takes the largest set of smallest ones whose mean equals their median — a set that is a single
noise cluster — and returns the square root of that mean.

Two things are added for real files:

* 8-bit files are clipped at 0 and 255, where the noise is squashed. When an image has a
  pile-up of values at exactly 0 or 255, only patches whose mean lies more than two estimated
  σ inside (0, 255) are used (re-estimated up to three times as the margin follows the
  estimate). Selecting by the patch mean, not by "no pixel clipped", avoids keeping only the
  patches whose noise happened to be small. On unclipped input this is the plain estimator.
  At high σ few patches are clear of the bounds and the estimate of a clipped image falls
  below the nominal σ (nominal 50 → 43–49 on 128 px photo crops).
* FFDNet given the nominal σ of a clipped 8-bit image is not at its best (FACTS.md: up to 4 dB
  lost on a whole photo). Its best σ, searched in hindsight, turns out to sit where the
  mid-tone estimate lands; :func:`ffdnet_sigma` scales the estimate by a factor measured on a
  calibration set of photographs (``benchmarks/bench_denoise.py --calibrate sigma``; the
  evaluation photos are different ones).

Image contract: float32 (any float dtype) ``H×W`` or ``H×W×C`` (C = 1 or 3) in [0, 1]. Results
are σ in 0..255 units (the scale FFDNet and 8-bit files use). No torch, no Qt.
"""

from __future__ import annotations

import cv2
import numpy as np

PATCH = 7  # patch side; colour patches stack the channels (3·49 = 147 dimensions)
MAX_PATCHES = 20_000  # covariance cost is patches × dims²; more adds nothing measurable
_CLIP_TOL = 1e-3  # in 0..255: a value this close to 0 or 255 counts as clipped


def _patches(image255: np.ndarray, size: int) -> np.ndarray:
    """All overlapping size×size patches as rows (N × size²·C), channels stacked."""
    from numpy.lib.stride_tricks import sliding_window_view

    win = sliding_window_view(image255, (size, size), axis=(0, 1))  # H'×W'×C×s×s
    return win.reshape(win.shape[0] * win.shape[1], -1)


def _chen_sigma(rows: np.ndarray) -> float:
    """Chen et al. 2015, Algorithm 1, on patch vectors (rows). Returns σ (same units)."""
    x = rows.astype(np.float32, copy=True)
    x -= x.mean(axis=0, keepdims=True)
    # xᵀx through OpenCV: numpy's threaded BLAS stalls for seconds on a busy machine here
    cov = cv2.mulTransposed(x, True).astype(np.float64) / max(len(x) - 1, 1)
    eig = np.clip(np.linalg.eigvalsh(cov), 0.0, None)  # ascending
    d = len(eig)
    for i in range(d, 0, -1):
        tail = eig[:i]
        tau = tail.mean()
        # a single cluster: as many eigenvalues above the mean as below it (mean = median)
        if np.count_nonzero(tail > tau) == np.count_nonzero(tail < tau):
            return float(np.sqrt(tau))
    return float(np.sqrt(eig[0]))


def _as_255(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected H×W or H×W×C image, got shape {image.shape}")
    return img[..., :3] * 255.0


def estimate_noise_sigma(image: np.ndarray, *, seed: int = 0) -> float:
    """Standard deviation of the white noise in ``image``, in 0..255 units.

    ``image``: float ``H×W`` or ``H×W×C`` in [0, 1] (alpha, if any, is ignored). A noise-free
    image gives ≈ 0 (an 8-bit file carries its rounding, ≈ 0.3). Patches at or near the clipping
    bounds are excluded, so for a clipped 8-bit image the result is the σ of the noise before
    clipping. Deterministic (patches are subsampled with a fixed ``seed``). Images smaller than
    the 7×7 patch give 0.
    """
    img = _as_255(image)
    h, w = img.shape[:2]
    if h < PATCH or w < PATCH:
        return 0.0
    rows = _patches(img, PATCH)
    if len(rows) > MAX_PATCHES:
        rows = rows[np.random.default_rng(seed).choice(len(rows), MAX_PATCHES, replace=False)]
    sigma = _chen_sigma(rows)
    at_bound = (np.abs(rows) <= _CLIP_TOL) | (np.abs(rows - 255.0) <= _CLIP_TOL)
    if at_bound.mean() < 1e-3:  # not clipped (a float image, or no pile-up at 0 and 255)
        return sigma
    # clipped: keep the patches whose mean lies well inside (0, 255), where the noise is
    # intact; selecting by the mean, not by "no pixel clipped", avoids keeping only the
    # patches whose noise happened to be small. The margin grows with the estimate.
    means = rows.mean(axis=1)
    for _ in range(3):
        margin = 2.0 * sigma
        keep = (means > margin) & (means < 255.0 - margin)
        if keep.sum() < rows.shape[1] * 4:
            break
        sigma = _chen_sigma(rows[keep])
    return sigma


# FFDNet's best input σ relative to the estimate, for clipped 8-bit noisy photos:
# (estimated σ, best σ / estimated σ), medians over the calibration photos (rocket ×2, camera,
# coins, moon; 128 px crops; nominal σ 10/25/35/50; best σ by golden-section search to ~1 %),
# from ``benchmarks/bench_denoise.py --calibrate sigma``. The evaluation photos are others.
# The mid-tone estimate already lands near the best σ (e.g. nominal 50 → estimate 43–49, best
# 43–49 on the same image); this only trims a steady 1–3 % over-estimate.
_FFDNET_RATIO: tuple[tuple[float, float], ...] = (
    (0.0, 0.970),
    (9.96, 0.970),
    (24.55, 0.987),
    (33.78, 0.990),
    (45.58, 0.986),
    (255.0, 0.986),
)


def ffdnet_sigma(image: np.ndarray) -> float:
    """The σ (0..255 units) to give FFDNet to denoise ``image`` best.

    ``image``: float ``H×W`` or ``H×W×C`` in [0, 1], e.g. a noisy photo read from an 8-bit file.
    Estimates the noise with :func:`estimate_noise_sigma` — whose mid-tone estimate on a
    clipped 8-bit image is below the nominal σ, about where FFDNet does best — and scales it by
    a factor (0.97–0.99) measured on calibration photographs with clipped, 8-bit-rounded noise.
    Returns a value in [0, 75].
    """
    est = estimate_noise_sigma(image)
    xs, ys = zip(*_FFDNET_RATIO, strict=True)
    return float(np.clip(est * np.interp(est, xs, ys), 0.0, 75.0))
