"""Estimating the blur kernel from the blurred image itself (``deblur:psf=auto``).

Two estimators:

* :func:`estimate_parametric` — a Gaussian (scanner/lens softness) or a defocus disk, from the
  whole picture. Classical blur identification in the frequency domain: the averaged
  periodogram of Hann-windowed blocks is fitted, by Whittle's likelihood (the periodogram's
  own, each ring weighted by the frequencies it holds), as
  ``A·f^−β·|K(f)|² + N`` — a natural image's power-law spectrum seen through the candidate
  kernel plus white noise — over a grid of Gaussian σ and disk radii (the kernels' own discrete
  OTFs, so a disk's spectral zeros are where the pixels put them; a disk seen through the
  photograph's own softness, σ 0.45, as the Gaussians are). The family and size with the
  smallest residual win.
* :func:`estimate_free_kernel` — any kernel (camera shake), from a region the user selects.
  J. Pan, Z. Hu, Z. Su, M.-H. Yang, "Deblurring Text Images via L0-Regularized Intensity and
  Gradient Prior", CVPR 2014 (with the intensity term off, as for natural images, which is
  L. Xu, S. Zheng, J. Jia, "Unnatural L0 Sparse Representation for Natural Image Deblurring",
  CVPR 2013): coarse to fine, alternate an L0-gradient latent image (half-quadratic, FFT) and a
  kernel by conjugate gradients on its support, pruned to its strong values.
* :func:`estimate_shake` — the same, then a choice between that free kernel and the straight
  motion line of its second moments, by how well each re-blurs its own deconvolution of the
  region into the region (the simpler line unless the free kernel explains the region clearly
  better), and "no shake" when the deconvolution is not sharper than the region by
  normalised sparsity (Krishnan et al. 2011).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import scipy  # its submodules load when first used: the command line starts faster

from photofix.ops.deconv import _conv_circ, edge_taper, otf, pad_consistent
from photofix.ops.psf import crop_kernel, disk_psf, gaussian_psf, motion_from_kernel, motion_psf

BLOCK = 128
SIGMAS = np.round(np.arange(0.4, 6.01, 0.05), 3)
RADII = np.round(np.arange(0.8, 9.01, 0.1), 3)
INTRINSIC_SIGMA = 0.45
SALIENT_R = 2.0
PRUNE = 0.25
GAUSSIAN_UNDERSHOOT = 0.85  # calibrated on camera and moon crops (bench_deblur.py)
# a shake's straight line is kept unless the free kernel re-blurs the region this much better
# (mean square; calibrated on camera/moon crops with straight and curved shakes)
LINE_RESIDUAL_RATIO = 1.5
# a straight shake shorter than this (px) is not told from a sharp picture's own softness:
# sharp camera/moon crops come out as 3-px lines, 5-px shakes as 4.7-6 px
MIN_SHAKE = 4.0
# below this share of the region's normalised sparsity, a deconvolution counts as sharper
SHARPER = 0.95


def _gray(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, np.float32)
    return img.mean(axis=2) if img.ndim == 3 else img


def block_spectrum(gray: np.ndarray, block: int = BLOCK, max_blocks: int = 600):
    """Averaged periodogram of Hann-windowed ``block``² tiles; returns (bins f, power per bin)."""
    h, w = gray.shape
    block = min(block, 1 << math.floor(math.log2(max(16, min(h, w)))))
    step = block // 2
    ys = range(0, h - block + 1, step)
    xs = range(0, w - block + 1, step)
    starts = [(y, x) for y in ys for x in xs]
    if len(starts) > max_blocks:
        pick = np.linspace(0, len(starts) - 1, max_blocks).round().astype(int)
        starts = [starts[i] for i in pick]
    win = np.outer(np.hanning(block), np.hanning(block)).astype(np.float32)
    acc = np.zeros((block, block // 2 + 1), np.float64)
    for y, x in starts:
        b = gray[y : y + block, x : x + block]
        b = (b - b.mean()) * win
        acc += np.abs(scipy.fft.rfft2(b)) ** 2
    acc /= len(starts) * float((win**2).sum())
    return _radial(acc, block), block


def _radial(p2: np.ndarray, block: int) -> np.ndarray:
    fy = scipy.fft.fftfreq(block)[:, None]
    fx = scipy.fft.rfftfreq(block)[None, :]
    ring = np.round(np.sqrt(fy**2 + fx**2) * block).astype(int)
    nb = block // 2
    out = np.zeros(nb)
    for r in range(nb):
        sel = ring == r
        out[r] = p2[sel].mean() if sel.any() else np.nan
    return out


def _kernel_gain(k: np.ndarray, block: int) -> np.ndarray:
    """Radially averaged |OTF|² of ``k`` on the same rings as :func:`block_spectrum`."""
    if k.shape[0] > block:
        k = k[(k.shape[0] - block) // 2 :, (k.shape[0] - block) // 2 :][:block, :block]
    return _radial(np.abs(otf(k, (block, block))) ** 2, block)


def estimate_parametric(image: np.ndarray, noise_sigma: float) -> tuple[str, float, float]:
    """(family, size, residual) of the best-fitting family; see :func:`fit_families`."""
    fits = fit_families(image, noise_sigma)
    fam = min(fits, key=lambda f: fits[f][1])
    return fam, fits[fam][0], fits[fam][1]


def fit_families(image: np.ndarray, noise_sigma: float) -> dict[str, tuple[float, float]]:
    """Each family's best fit: ``{"none": (0, res), "gaussian": (σ, res), "disk": (r, res)}``
    (res: Whittle's negative log-likelihood per frequency, lower is better).

    ``image`` float [0,1] HxW or HxWx3; ``noise_sigma`` the white-noise σ in [0,1] units
    (e.g. from :func:`photofix.ops.noise_level.estimate_noise_sigma` / 255).
    """
    spec, block = block_spectrum(_gray(image))
    rings = np.arange(len(spec))
    use = (rings >= 3) & np.isfinite(spec) & (spec > 0)
    f = rings[use] / block
    pw = spec[use]
    logp = np.log(pw)
    fy = scipy.fft.fftfreq(block)[:, None]
    fx = scipy.fft.rfftfreq(block)[None, :]
    cnt = np.bincount(np.round(np.sqrt(fy**2 + fx**2) * block).astype(int).ravel())[rings[use]]
    cands: list[tuple[str, float, np.ndarray]] = [("none", 0.0, np.ones(use.sum()))]
    cands += [("gaussian", s, _kernel_gain(gaussian_psf(s), block)[use]) for s in SIGMAS]
    # a disk is seen through the photograph's own softness too (the Gaussian candidates hold it
    # in their σ, taken out by _intrinsic): without it a small disk's sharp spectral edge fits
    # no real picture and r = 2 was taken for a Gaussian
    soft = _kernel_gain(gaussian_psf(INTRINSIC_SIGMA), block)[use]
    cands += [("disk", r, _kernel_gain(disk_psf(r), block)[use] * soft) for r in RADII]
    gains = np.stack([np.maximum(c[2], 1e-12) for c in cands])  # C×F
    betas = np.arange(0.8, 4.01, 0.1)
    noise = max(noise_sigma, 0.2 / 255.0) ** 2 * np.array([0.5, 0.7, 1.0, 1.4, 2.0])
    shape = gains[:, None, :] * f[None, None, :] ** -betas[None, :, None]  # C×B×F
    # A from the low frequencies (where neither kernel nor noise matters much), then a grid
    a0 = np.median(np.exp(logp[None, None, :5]) / shape[:, :, :5], axis=2)  # C×B
    best = np.full(len(cands), np.inf)
    for n in noise:
        for da in np.exp(np.arange(-2.0, 2.01, 0.1)):
            model = a0[:, :, None] * da * shape + n
            # Whittle's negative log-likelihood of the periodogram (each ring counts as many
            # frequencies as it holds): the marginal likelihood of the blur under a Gaussian
            # power-law image prior plus white noise
            res = (cnt * (pw / model + np.log(model))).sum(axis=2) / cnt.sum()  # C×B
            best = np.minimum(best, res.min(axis=1))
    fams = np.array([c[0] for c in cands])
    out = {}
    for fam in ("none", "gaussian", "disk"):
        idx = np.flatnonzero(fams == fam)
        i = idx[np.argmin(best[idx])]
        out[fam] = (_intrinsic(fam, cands[i][1]), float(best[i]))
    return out


def _intrinsic(fam: str, size: float) -> float:
    if fam == "gaussian":
        # the photographs' own softness adds to the fitted σ in quadrature (sharp crops of the
        # calibration photos fit σ ≈ 0.45); take it out so the blur alone is undone
        size = math.sqrt(max(size**2 - INTRINSIC_SIGMA**2, SIGMAS[0] ** 2))
        # and undershoot: too large a σ rings (−1 to −4 dB), too small only deblurs less
        size *= GAUSSIAN_UNDERSHOOT
    return float(size)


# --- blind kernel estimation (motion) -------------------------------------------------------


def _grad(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.roll(x, -1, axis=1) - x, np.roll(x, -1, axis=0) - x


def _grad_t(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    return (np.roll(gx, 1, axis=1) - gx) + (np.roll(gy, 1, axis=0) - gy)


def _diff_otfs(shape):
    dx = np.zeros(shape, np.float32)
    dx[0, 0], dx[0, -1] = -1.0, 1.0
    dy = np.zeros(shape, np.float32)
    dy[0, 0], dy[-1, 0] = -1.0, 1.0
    fdx, fdy = scipy.fft.rfft2(dx), scipy.fft.rfft2(dy)
    return (np.abs(fdx) ** 2 + np.abs(fdy) ** 2).astype(np.float32)


def l0_latent(y: np.ndarray, k: np.ndarray, lam: float, beta_max: float = 1e5) -> np.ndarray:
    """min ‖k∗x − y‖² + λ‖∇x‖₀ by half-quadratic splitting (Xu et al. 2011/2013)."""
    fk = otf(k, y.shape)
    num1 = np.conj(fk) * scipy.fft.rfft2(y)
    ktk = np.abs(fk) ** 2
    dtd = _diff_otfs(y.shape)
    x = y.copy()
    beta = 2.0 * lam
    while beta < beta_max:
        gx, gy = _grad(x)
        keep = (gx**2 + gy**2) >= lam / beta
        gx, gy = gx * keep, gy * keep
        x = scipy.fft.irfft2(
            (num1 + beta * scipy.fft.rfft2(_grad_t(gx, gy))) / (ktk + beta * dtd), s=y.shape
        ).astype(np.float32)
        beta *= 2.0
    return x


def _salient(
    x: np.ndarray, ks: int, win: np.ndarray, r: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The latent's strongest gradients only (S. Cho, S. Lee, "Fast Motion Deblurring", 2009,
    as in Pan et al.'s code): in each of four orientation bins at least ``r·ks`` pixels are
    kept — weak gradients (texture, noise) mislead the kernel."""
    r = SALIENT_R if r is None else r
    gx, gy = _grad(x)
    mag = np.hypot(gx, gy) * (win > 0.5)
    ang = np.mod(np.arctan2(gy, gx), np.pi)
    bins = np.minimum((ang / (np.pi / 4)).astype(int), 3)
    need = int(r * ks * ks / 4)
    thr = np.inf
    for b in range(4):
        m = mag[bins == b]
        if m.size:
            thr = min(thr, np.partition(m, max(0, m.size - need))[max(0, m.size - need)])
    keep = mag >= thr
    return gx * keep, gy * keep


def _kernel_step(
    x: np.ndarray, y: np.ndarray, k0: np.ndarray, weight: float, win: np.ndarray | None = None
) -> np.ndarray:
    """min Σ‖∂x∗k − ∂y‖² + weight‖k‖² over k on k0's support, by 20 CG steps (Pan's code).

    ``win`` (HxW in [0,1]) weights both gradient images, so padding can be left out of the fit.
    """
    ks = k0.shape[0]
    h = ks // 2
    win = np.ones(x.shape, np.float32) if win is None else win
    fx = [scipy.fft.rfft2(g * win) for g in _salient(x * 1.0, ks, win)]
    fy = [scipy.fft.rfft2(g) for g in _grad(y)]
    m = sum(np.abs(a) ** 2 for a in fx)
    bf = sum(np.conj(a) * b for a, b in zip(fx, fy, strict=True))

    def to_k(freq: np.ndarray) -> np.ndarray:
        full = scipy.fft.irfft2(freq, s=x.shape)
        full = np.roll(full, (h, h), axis=(0, 1))
        return full[:ks, :ks]

    def apply(kk: np.ndarray) -> np.ndarray:
        return to_k(m * otf(kk.astype(np.float32), x.shape)) + weight * kk

    b = to_k(bf)
    k = k0.astype(np.float64)
    r = b - apply(k)
    p = r.copy()
    rs = float((r * r).sum())
    for _ in range(20):
        ap = apply(p)
        alpha = rs / max(float((p * ap).sum()), 1e-30)
        k += alpha * p
        r -= alpha * ap
        rs_new = float((r * r).sum())
        if rs_new < 1e-10:
            break
        p = r + (rs_new / rs) * p
        rs = rs_new
    return k


def _prune_and_centre(k: np.ndarray) -> np.ndarray:
    k = np.clip(k, 0.0, None)
    if k.max() <= 0:
        out = np.zeros_like(k)
        out[k.shape[0] // 2, k.shape[1] // 2] = 1.0
        return out
    k[k < PRUNE * k.max()] = 0.0
    # keep the connected pieces that carry most of the weight (drops isolated specks)
    n, lab = cv2.connectedComponents((k > 0).astype(np.uint8), connectivity=8)
    if n > 2:
        mass = np.array([k[lab == i].sum() for i in range(1, n)])
        keep = 1 + np.flatnonzero(mass >= 0.1 * mass.max())
        k = k * np.isin(lab, keep)
    k /= k.sum()
    ys, xs = np.indices(k.shape)
    c = k.shape[0] // 2
    cy, cx = round(float((ys * k).sum())), round(float((xs * k).sum()))
    return np.roll(k, (c - cy, c - cx), axis=(0, 1))


def estimate_free_kernel(
    region: np.ndarray,
    ksize: int = 31,
    *,
    iterations: int = 5,
    check: Callable[[], None] | None = None,
) -> np.ndarray:
    """Blind estimate of the kernel (odd ``ksize``) that blurred ``region`` (float [0,1])."""
    gray = _gray(region).astype(np.float32)
    ksize = int(ksize) | 1
    sizes = [ksize]
    while sizes[-1] > 5:
        sizes.append(max(3, round(sizes[-1] / math.sqrt(2)) | 1))
    sizes = sizes[::-1]
    k = np.zeros((3, 3), np.float32)
    k[1, :] = [0.25, 0.5, 0.25]
    k = (k + k.T) / 2
    lam = 4e-3
    for ks in sizes:
        if check is not None:
            check()
        s = ks / ksize
        size = (max(16, round(gray.shape[1] * s)), max(16, round(gray.shape[0] * s)))
        y = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        k = cv2.resize(k.astype(np.float32), (ks, ks), interpolation=cv2.INTER_LINEAR)
        k = np.clip(k, 0, None)
        k /= k.sum()
        pad = ((ks, ks), (ks, ks))
        frame = edge_taper(pad_consistent(y, pad, k.astype(np.float32)), k, ks)
        for _ in range(iterations):
            if check is not None:
                check()
            x = l0_latent(frame, k.astype(np.float32), lam)
            k = _prune_and_centre(_kernel_step(x, frame, k, 2.0)).astype(np.float32)
            lam = max(lam / 1.1, 1e-4)
    return crop_kernel(k)


def reblur_residual(image: np.ndarray, latent: np.ndarray, k: np.ndarray) -> float:
    """RMS of ``k∗latent − image`` away from the borders (a check on an estimate)."""
    g, x = _gray(image), _gray(latent)
    r = _conv_circ(x, otf(k, x.shape)) - g
    m = k.shape[0]
    return float(np.sqrt(np.mean(r[m:-m, m:-m] ** 2)))


def _reblur_ms(region: np.ndarray, latent: np.ndarray, k: np.ndarray, margin: int) -> float:
    """Mean square of ``k∗latent − region`` (gray) ``margin`` px in from the borders."""
    from scipy import ndimage

    r = ndimage.convolve(_gray(latent), k, mode="nearest") - _gray(region)
    return float(np.mean(r[margin:-margin, margin:-margin] ** 2))


def normalised_sparsity(image: np.ndarray, margin: int = 0) -> float:
    """‖∇x‖₁/‖∇x‖₂ of the gray image (Krishnan et al. 2011): lower for a sharper picture."""
    g = _gray(image)
    gx, gy = np.abs(np.diff(g, axis=1)), np.abs(np.diff(g, axis=0))
    if margin:
        gx, gy = gx[margin:-margin, margin:-margin], gy[margin:-margin, margin:-margin]
    a = np.concatenate([gx.ravel(), gy.ravel()])
    return float(a.sum() / max(np.sqrt((a**2).sum()), 1e-12))


def estimate_shake(
    region: np.ndarray,
    deconvolve: Callable[[np.ndarray, np.ndarray], np.ndarray],
    ksize: int = 31,
    *,
    check: Callable[[], None] | None = None,
) -> tuple[np.ndarray | None, str]:
    """A shake kernel for ``region`` (float [0,1]) and what it is: ``"line"``, ``"free"``, or
    ``(None, "none")`` when no candidate deconvolves the region into a sharper picture or the
    line is shorter than ``MIN_SHAKE``.

    Two candidates: the free blind estimate (:func:`estimate_free_kernel`) and the straight
    line with its second moments. Each deconvolves the region (``deconvolve(region, k)``, the
    caller's solver, with the same regularisation for both); the free kernel is kept only if
    it re-blurs that deconvolution into the region ``LINE_RESIDUAL_RATIO`` times better (mean
    square) than the line does — the free estimate's extra freedom must buy a clearly better
    fit, otherwise its spread mass and specks only cost sharpness. No reference picture is
    used: the choice is made on the region alone.
    """
    free = estimate_free_kernel(region, ksize, check=check)
    length, angle = motion_from_kernel(free)
    line = motion_psf(max(length, 1.0), angle)
    margin = max(16, ksize // 2)
    if min(region.shape[:2]) <= 2 * margin + 8:
        margin = max(1, min(region.shape[:2]) // 6)
    fits = {}
    for kind, k in (("line", line), ("free", free)):
        if check is not None:
            check()
        x = deconvolve(region, k)
        fits[kind] = (_reblur_ms(region, x, k, margin), normalised_sparsity(x, margin), k)
    kind = "line" if fits["line"][0] <= LINE_RESIDUAL_RATIO * fits["free"][0] else "free"
    if kind == "line" and length < MIN_SHAKE:
        return None, "none"
    if fits[kind][1] > SHARPER * normalised_sparsity(region, margin):
        return None, "none"
    return fits[kind][2], kind
