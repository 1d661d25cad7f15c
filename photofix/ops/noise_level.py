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

Film and print grain is a third case: it is correlated over a pixel or more (and JPEG removes
its finest detail), the same in every channel, and Chen's estimate misses it (0.3-0.7 on real
prints). :func:`flat_grain` measures its strength and neighbour correlation on the flattest
mid-tone blocks, and :func:`ffdnet_sigma` maps them to FFDNet's best σ with a fit to the
hindsight-best σ of calibration photos, when the evidence says grain (docs/denoise.md).

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
    x = rows.astype(np.float64, copy=True)
    x -= x.mean(axis=0, keepdims=True)
    # xᵀx through OpenCV (numpy's threaded BLAS stalls for seconds on a busy machine here),
    # summed in float64: float32 sums lose the small eigenvalues' digits, and their rounding
    # followed the thread count, so the same file gave another σ on another machine
    cov = cv2.mulTransposed(x, True, dtype=cv2.CV_64F) / max(len(x) - 1, 1)
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
        return _stable(sigma)
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
    return _stable(sigma)


def _stable(sigma: float) -> float:
    """σ to a millionth of a level. LAPACK's and BLAS's threads sum in an order that follows
    their count, so the last digits of an estimate differ between machines (and between the
    window and a batch worker with fewer threads); a recipe's ``auto`` must give the same σ."""
    return round(float(sigma), 6)


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


def white_sigma(image: np.ndarray) -> float:
    """The σ for FFDNet if the noise of ``image`` is white: the estimate scaled by the factor
    measured on calibration photographs with clipped, 8-bit-rounded white noise (0.97–0.99)."""
    est = estimate_noise_sigma(image)
    xs, ys = zip(*_FFDNET_RATIO, strict=True)
    return float(est * np.interp(est, xs, ys))


# FFDNet's best σ for film grain, log σ = a + b·log(std) + c·rho, from the flat blocks' grain
# ``std`` and neighbour correlation ``rho`` (:func:`flat_grain`); least squares on the hindsight
# best σ of the grain calibration photos (rocket, camera, motorcycle_right; grain std 5-12,
# correlation 0.5-1 px, with and without JPEG q90: ``bench_denoise.py --calibrate grain``).
# The evaluation photos are others.
_GRAIN_FIT = (0.081, 1.206, 0.788)
# rho below WHITE_RHO is white noise (then the white estimate is used), above GRAIN_RHO grain;
# in between the two σ are blended linearly
WHITE_RHO, GRAIN_RHO = 0.04, 0.10
# On a colour picture the white estimate (colour patches) over the flat blocks' luminance std
# tells the two apart too: about 1.5-1.8 for white noise in each channel (the luminance averages
# it down), at most 0.7 for grain (the same in every channel, or correlated; Chen's estimate
# misses it). Above CHROMA_Q[1] the white estimate is used whatever rho says (weak white noise
# on texture can read a rho of 0.1-0.3).
CHROMA_Q = (0.7, 1.0)


def grain_sigma(image: np.ndarray) -> float:
    """The σ for FFDNet if ``image`` carries correlated film grain (0..255 units)."""
    std, rho, _ = flat_grain(image)
    if std <= 0:
        return 0.0
    a, b, c = _GRAIN_FIT
    return float(np.exp(a + b * np.log(std) + c * rho))


def ffdnet_sigma(image: np.ndarray) -> float:
    """The σ (0..255 units) to give FFDNet to denoise ``image`` best.

    ``image``: float ``H×W`` or ``H×W×C`` in [0, 1], e.g. a noisy photo read from an 8-bit file.
    Two regimes, told apart by the correlation of neighbouring pixels on the picture's flattest
    parts (:func:`flat_grain`):

    * white noise (sensor noise, rho < 0.04, or on a colour picture a white estimate at least
      as large as the flat blocks' luminance std): :func:`white_sigma`, Chen et al.'s
      estimate (clipping-aware) trimmed by a calibrated factor;
    * film and print grain (rho > 0.10: grain clumps over a pixel or more, and a JPEG of it
      even more): :func:`grain_sigma`, a calibrated function of the flat blocks' grain strength
      and correlation. Correlated grain hides from Chen's estimator (its finest detail is weak:
      0.3-0.7 on real prints) while FFDNet needs a σ well above its standard deviation to see it.

    In between, the two are blended. Returns a value in [0, 75].
    """
    std, rho, _ = flat_grain(image)
    t = float(np.clip((rho - WHITE_RHO) / (GRAIN_RHO - WHITE_RHO), 0.0, 1.0))
    white = white_sigma(image)
    if np.ndim(image) == 3 and np.shape(image)[2] >= 3 and std > 0:
        q = white / std
        t *= float(np.clip((CHROMA_Q[1] - q) / (CHROMA_Q[1] - CHROMA_Q[0]), 0.0, 1.0))
    grain = grain_sigma(image) if t > 0 else 0.0
    return _stable(np.clip((1 - t) * white + t * grain, 0.0, 75.0))


# ---- correlated grain ----------------------------------------------------------------------
GRAIN_SCALES = (1, 2, 4)  # the luminance is measured at full, half and quarter resolution


def _luma01(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 3 and img.shape[2] >= 3:
        return img[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    return img.reshape(img.shape[0], img.shape[1])


def scale_sigmas(image: np.ndarray) -> tuple[float, ...]:
    """The white-noise σ (0..255 units) of the luminance at each of ``GRAIN_SCALES``, measured
    by :func:`estimate_noise_sigma` on the luminance box-averaged over s×s pixels.

    White noise of σ gives σ/s at scale s; grain, whose neighbouring pixels are alike, hides
    from the full-resolution estimate (its finest detail is weak) and shows at coarser scales,
    where averaging barely lowers it. ``s · σ_s`` is therefore flat in s for white noise and
    grows with s for grain."""
    y = _luma01(image)
    out = []
    for s in GRAIN_SCALES:
        h, w = (y.shape[0] // s) * s, (y.shape[1] // s) * s
        ys = y[:h, :w].reshape(h // s, s, w // s, s).mean(axis=(1, 3)) if s > 1 else y
        out.append(estimate_noise_sigma(ys))
    return tuple(out)


GRAIN_BLOCK = 8  # px: blocks whose plane-fit residual is measured
FLAT_SHARE = 0.1  # the flattest tenth of the blocks (at least FLAT_MIN) are taken as grain only
FLAT_MIN = 16
MID_TONES = (40.0, 215.0)  # block means (8-bit levels) where grain is measured


def flat_grain(image: np.ndarray) -> tuple[float, float, float]:
    """Grain strength and correlation on the flattest parts of the luminance.

    ``image``: float ``H×W`` or ``H×W×C`` in [0, 1]. The luminance (0..255) is cut into 8×8
    blocks; each loses its best-fitting plane (shading, vignetting); blocks with a clipped pixel
    (0 or 255) are skipped, and so are blocks outside the mid-tones (mean 40-215) when there are
    enough mid-tone ones. On the flattest tenth of the rest, returns ``(std, rho)``: the
    residual's standard deviation in 8-bit levels, and its correlation between neighbouring
    pixels (mean of the horizontal and vertical lag-1 correlations; 0 for white noise, about
    0.37 / 0.64 / 0.78 for white noise blurred by a Gaussian of 0.5 / 0.75 / 1 px). Returns
    (0, 0) when fewer than 16 blocks are usable. The third value is how busy the picture is
    around that: the median block's residual std over the flat blocks' (1 on an even sky, 3-10
    on foliage, fabric, gravel)."""
    y = _luma01(image).astype(np.float64) * 255.0
    b = GRAIN_BLOCK
    h, w = (y.shape[0] // b) * b, (y.shape[1] // b) * b
    if h == 0 or w == 0:
        return 0.0, 0.0, 1.0
    blocks = y[:h, :w].reshape(h // b, b, w // b, b).transpose(0, 2, 1, 3).reshape(-1, b, b)
    clipped = ((blocks <= _CLIP_TOL) | (blocks >= 255.0 - _CLIP_TOL)).any(axis=(1, 2))
    blocks = blocks[~clipped]
    # grain is squashed in deep shadows and highlights (the print's and the file's tone curve):
    # mid-tone blocks where there are enough of them
    mean = blocks.mean(axis=(1, 2))
    mid = (mean > MID_TONES[0]) & (mean < MID_TONES[1])
    if np.count_nonzero(mid) >= FLAT_MIN / FLAT_SHARE:
        blocks = blocks[mid]
    if len(blocks) < FLAT_MIN:
        return 0.0, 0.0, 1.0
    # least-squares plane a + b·x + c·y per block: the basis is orthogonal on a centred grid
    g = np.arange(b) - (b - 1) / 2
    gx, gy = np.meshgrid(g, g)
    res = blocks - blocks.mean(axis=(1, 2), keepdims=True)
    for basis in (gx, gy):
        coef = (res * basis).sum(axis=(1, 2)) / (basis**2).sum()
        res = res - coef[:, None, None] * basis
    var = (res**2).mean(axis=(1, 2))
    k = max(FLAT_MIN, int(len(var) * FLAT_SHARE))
    flat = res[np.argsort(var)[:k]]
    energy = float((flat**2).sum())
    if energy <= 0:
        return 0.0, 0.0, 1.0
    lag = float((flat[:, :, 1:] * flat[:, :, :-1]).sum() + (flat[:, 1:] * flat[:, :-1]).sum())
    # each lag sum has b·(b-1) pairs per block against b·b squares
    rho = lag / (2 * energy * (b - 1) / b)
    std = float(np.sqrt(energy / flat.size))
    busy = float(np.sqrt(np.median(var))) / max(std, 1e-6)
    return std, float(np.clip(rho, 0.0, 1.0)), busy
