"""Non-blind deconvolution solvers, tiled and edge-tapered (pure numpy/scipy).

Two solvers, both on one channel ``y`` (float32 HxW) and a known kernel ``k``:

* :func:`hyper_laplacian` — D. Krishnan, R. Fergus, "Fast Image Deconvolution using
  Hyper-Laplacian Priors", NIPS 2009: minimise ½‖k∗x − y‖² + μ Σ |∇x|^α by half-quadratic
  splitting. The x-step is one division in the Fourier domain; the w-step (the auxiliary
  gradients) is the generalised shrinkage of W. Zuo et al., "A Generalized Iterated Shrinkage
  Algorithm for Non-convex Sparse Coding", ICCV 2013, tabulated once per β and applied with
  ``np.interp``. μ is noise-aware: ``μ = c · σ²`` for a noise σ (σ in [0, 1] units).
* :func:`richardson_lucy` — Richardson–Lucy with R. L. White's damping ("Image restoration
  using the damped Richardson–Lucy method", 1994): where the residual is within ``damp`` noise
  σ of the data, the update is suppressed, so noise is not amplified.

:func:`deconvolve_image` runs a solver over HxWx3 in overlapping tiles (each tile framed by
real neighbouring pixels, or by mirrored ones at the image border, then edge-tapered with the
kernel itself so the FFT's wrap-around carries no step): memory is bounded by the tile size
and borders do not ring. Tiles run in a small thread pool (numpy and scipy.fft release the GIL).
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import scipy  # its submodules load when first used: the command line starts faster

TILE = 1024  # core tile side in px (plus margins): ~60 MB of work arrays per tile and channel
ALPHA = 0.8  # hyper-Laplacian exponent (K&F use 2/3 to 0.8; 0.8 measured best here)
MU_PER_VAR = 0.02  # μ = MU_PER_VAR·σ² … calibrated in benchmarks/bench_deblur.py --calibrate
MU_MIN = 2e-6  # floor: an 8-bit file's rounding alone (σ ≈ 0.29/255) sets about this
BETA_STEPS = 7  # half-quadratic schedule β = μ·(2√2)^i, i = 0..BETA_STEPS-1 (K&F: 1 … 256)
RL_ITERATIONS = 30
SATURATED = 0.995  # a value this close to white is taken to be clipped
WHITE_FADE = 0.25  # settle_colour: a left-out pixel's colour fades out over this last span to white


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


_OTF_CACHE: dict = {}


def otf(k: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """rfft2 of ``k`` zero-padded to ``shape`` with its centre moved to (0, 0) (cached: the
    tiles of one image share a few frame shapes)."""
    key = (k.shape, k.tobytes(), tuple(shape))
    hit = _OTF_CACHE.get(key)
    if hit is None:
        if len(_OTF_CACHE) > 8:
            _OTF_CACHE.clear()
        hit = _OTF_CACHE[key] = _otf(k, shape)
    return hit


def gradient_gain(shape: tuple[int, int]) -> np.ndarray:
    """|F(∂x)|² + |F(∂y)|² on the rfft2 grid of ``shape`` (forward differences)."""
    fy = np.fft.fftfreq(shape[0]).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(shape[1]).astype(np.float32)[None, :]
    return (4 - 2 * np.cos(2 * np.pi * fx) - 2 * np.cos(2 * np.pi * fy)).astype(np.float32)


def _otf(k: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    pad = np.zeros(shape, np.float32)
    kh, kw = k.shape
    pad[:kh, :kw] = k
    pad = np.roll(pad, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return scipy.fft.rfft2(pad, workers=1)


def _conv_circ(x: np.ndarray, fk: np.ndarray) -> np.ndarray:
    return scipy.fft.irfft2(scipy.fft.rfft2(x, workers=1) * fk, s=x.shape, workers=1).astype(
        np.float32
    )


def edge_taper(frame: np.ndarray, k: np.ndarray, width: int) -> np.ndarray:
    """Blend the outer ``width`` px of ``frame`` into its circular blur by ``k`` (MATLAB's
    ``edgetaper`` idea): the frame then wraps around without a step, as the FFT assumes."""
    h, w = frame.shape
    width = max(1, min(width, h // 2 - 1, w // 2 - 1))
    fk = otf(k, frame.shape)
    blurred = _conv_circ(frame, fk)
    ramp = np.ones(max(h, w), np.float32)
    edge = 0.5 - 0.5 * np.cos(np.pi * (np.arange(width) + 0.5) / width)
    wy = np.ones(h, np.float32)
    wx = np.ones(w, np.float32)
    wy[:width], wy[h - width :] = edge, edge[::-1]
    wx[:width], wx[w - width :] = edge, edge[::-1]
    del ramp
    weight = np.outer(wy, wx)
    out = blurred + weight * (frame - blurred)
    # a second pass makes the wrap smooth in the derivative too
    blurred = _conv_circ(out, fk)
    return (blurred + weight * (out - blurred)).astype(np.float32)


def pad_consistent(part: np.ndarray, pad, k: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Pad ``part`` past the image border with values that look blurred by ``k``.

    Mirroring is wrong for a kernel without mirror symmetry (a slanted motion line becomes
    its mirror image in the padding, and the deconvolution rings from there across the
    frame: measured 16 dB instead of 31 dB on a 30° motion blur). Instead the border pixels
    are repeated outwards and the padding is blurred by ``k`` a few times, keeping the real
    pixels, so the padding agrees with the blur model near the border.
    """
    part = np.asarray(part, np.float32)
    if not any(a or b for a, b in pad):
        return np.ascontiguousarray(part)
    frame = np.pad(part, pad, mode="edge")
    inside = np.zeros(frame.shape, bool)
    inside[pad[0][0] : pad[0][0] + part.shape[0], pad[1][0] : pad[1][0] + part.shape[1]] = True
    fk = otf(k, frame.shape)
    for _ in range(rounds):
        frame = np.where(inside, frame, _conv_circ(frame, fk))
    return frame.astype(np.float32)


@functools.lru_cache(maxsize=64)  # the tiles and windows of one image share their β steps
def _shrink_table(lam: float, alpha: float, vmax: float, n: int = 16384):
    """argmin_w lam|w|^α + ½(w−|v|)² (Zuo et al.'s GST) on a fine uniform |v| grid in
    [0, vmax], as (grid step⁻¹, float32 values): :func:`_shrink` looks values up by index
    (the nearest grid point, at most vmax/2n away: 6e-5 for vmax = 2), which is several times
    faster than ``np.interp``'s binary search."""
    v = np.linspace(0.0, vmax, n, dtype=np.float64)
    if alpha >= 1.0:
        w = np.maximum(v - lam, 0.0)
    else:
        a = alpha
        tau = (2 * lam * (1 - a)) ** (1 / (2 - a)) + lam * a * (2 * lam * (1 - a)) ** (
            (a - 1) / (2 - a)
        )
        w = v.copy()
        big = v > tau
        for _ in range(4):
            w[big] = v[big] - lam * a * np.power(np.maximum(w[big], 1e-12), a - 1)
        w[~big] = 0.0
        w = np.maximum(w, 0.0)
    return np.float32((n - 1) / vmax), w.astype(np.float32)


def _shrink(x: np.ndarray, table) -> np.ndarray:
    scale, w = table
    idx = np.abs(x) * scale
    idx += 0.5
    np.minimum(idx, w.size - 1, out=idx)
    out = w[idx.astype(np.int32)]
    return np.copysign(out, x, out=out)


def _diff(x: np.ndarray, axis: int) -> np.ndarray:
    """Circular forward difference x[i+1] − x[i] along ``axis``."""
    out = np.empty_like(x)
    if axis == 1:
        np.subtract(x[:, 1:], x[:, :-1], out=out[:, :-1])
        np.subtract(x[:, :1], x[:, -1:], out=out[:, -1:])
    else:
        np.subtract(x[1:], x[:-1], out=out[:-1])
        np.subtract(x[:1], x[-1:], out=out[-1:])
    return out


def _diff_t(w: np.ndarray, axis: int) -> np.ndarray:
    """Adjoint of :func:`_diff`: w[i−1] − w[i]."""
    out = np.empty_like(w)
    if axis == 1:
        np.subtract(w[:, :-1], w[:, 1:], out=out[:, 1:])
        np.subtract(w[:, -1:], w[:, :1], out=out[:, :1])
    else:
        np.subtract(w[:-1], w[1:], out=out[1:])
        np.subtract(w[-1:], w[:1], out=out[:1])
    return out


def hyper_laplacian(
    y: np.ndarray,
    k: np.ndarray,
    mu: float,
    *,
    alpha: float = ALPHA,
    steps: int = BETA_STEPS,
    check: Callable[[], None] | None = None,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Deconvolve one channel ``y`` (float32 HxW, circular boundary) by ``k``.

    ``valid`` (bool HxW, optional) marks the pixels whose values obey the blur model; the
    others (clipped highlights) are left out of the data term, so they do not ring.
    """
    if valid is not None and not valid.all():
        return _hyper_laplacian_masked(y, k, mu, valid, alpha=alpha, steps=steps, check=check)
    shape = y.shape
    fk = otf(k, shape)
    fy = scipy.fft.rfft2(y, workers=1)
    ktk = (fk.real**2 + fk.imag**2).astype(np.float32)
    kty = np.conj(fk) * fy
    del fy
    dtd = gradient_gain(shape)
    x = y.copy()
    vmax = 2.0
    for i in range(steps):
        if check is not None:
            check()
        beta = mu * (2.0 * math.sqrt(2.0)) ** i
        table = _shrink_table(mu / beta, alpha, vmax)
        wx = _shrink(_diff(x, 1), table)
        wy = _shrink(_diff(x, 0), table)
        dtw = _diff_t(wx, 1)  # the adjoint Dᵀw, in the spatial domain
        dtw += _diff_t(wy, 0)
        del wx, wy
        num = kty + beta * scipy.fft.rfft2(dtw, workers=1)
        x = scipy.fft.irfft2(num / (ktk + beta * dtd), s=shape, workers=1).astype(np.float32)
    return x


# the masked solve (clipped highlights): ADMM on the split u = k∗x with penalty DATA_SPLIT and
# INNER iterations per β step; windows around the clipped clusters are framed by
# WINDOW_MARGIN kernel widths + 16 px. Calibrated on camera and moon with synthetic highlights
# (not the evaluation photos): ADMM with 3 inner steps beat the earlier fixed-penalty split with
# 10 (29.77 vs 29.57 dB mean) at 40 % of its time; the window margin did not change the result.
DATA_SPLIT = 0.3
INNER = 3
WINDOW_MARGIN = 1.0
REACH = 6  # kernel footprints around a clipped pixel where its ringing is taken out
REACH_FAR = 12  # the same for a kernel with side lobes (disk, motion): its ringing lasts


def _hyper_laplacian_masked(y, k, mu, valid, *, alpha, steps, check):
    """The same prior with the data term ½‖M(u − y)‖² on valid pixels only (M = ``valid``),
    u = k∗x enforced by ADMM (scaled dual ``d``) and w ≈ ∇x by half-quadratic splitting, as in
    Almeida & Figueiredo's deconvolution with unknown boundaries: clipped pixels are predicted,
    not fitted."""
    shape = y.shape
    fk = otf(k, shape)
    fkc = np.conj(fk)
    ktk = (fk.real**2 + fk.imag**2).astype(np.float32)
    dtd = gradient_gain(shape)
    m = valid.astype(np.float32)
    g = DATA_SPLIT
    x = y.copy()
    kx = y.copy()
    d = np.zeros_like(y)
    for i in range(steps):
        beta = mu * (2.0 * math.sqrt(2.0)) ** i
        table = _shrink_table(mu / beta, alpha, 2.0)
        for _ in range(INNER):
            if check is not None:
                check()
            u = (m * y + g * (kx - d)) / (m + g)
            wx = _shrink(_diff(x, 1), table)
            wy = _shrink(_diff(x, 0), table)
            dtw = _diff_t(wx, 1)
            dtw += _diff_t(wy, 0)
            del wx, wy
            num = g * fkc * scipy.fft.rfft2(u + d, workers=1) + beta * scipy.fft.rfft2(
                dtw, workers=1
            )
            fx = num / (g * ktk + beta * dtd)
            x = scipy.fft.irfft2(fx, s=shape, workers=1).astype(np.float32)
            kx = scipy.fft.irfft2(fx * fk, s=shape, workers=1).astype(np.float32)
            d += u - kx
    return x


def richardson_lucy(
    y: np.ndarray,
    k: np.ndarray,
    sigma: float,
    *,
    iterations: int = RL_ITERATIONS,
    damp: float = 1.0,
    check: Callable[[], None] | None = None,
) -> np.ndarray:
    """Damped Richardson–Lucy (White 1994) on one channel; ``sigma`` is the noise σ in [0,1]."""
    fk = otf(k, y.shape)
    fkt = np.conj(fk)
    eps = 1e-6
    yp = np.maximum(y, eps)
    x = np.full_like(yp, float(yp.mean()))
    t = max(damp * sigma, 1e-6)
    for _ in range(iterations):
        if check is not None:
            check()
        kx = np.maximum(_conv_circ(x, fk), eps)
        if damp > 0:
            u = (-2.0 / t**2) * (yp * np.log(kx / yp) - kx + yp)
            u = np.clip(u, 0.0, 1.0)
            n = 10.0
            ratio = 1.0 + u ** (n - 1) * (n - (n - 1) * u) * (yp - kx) / kx
        else:
            ratio = yp / kx
        x = x * _conv_circ(ratio.astype(np.float32), fkt)
    return x.astype(np.float32)


def _spans(n: int, tile: int) -> list[tuple[int, int]]:
    count = max(1, math.ceil(n / tile))
    edges = np.linspace(0, n, count + 1).round().astype(int)
    return list(itertools.pairwise(edges))


def specular(clipped: np.ndarray, ks: int) -> np.ndarray:
    """The clipped pixels that belong to small highlights (components of at most (3·ks)² px).

    A specular highlight was brighter than white before the blur and breaks the blur model;
    a large white area (a print's border, a white dress) holds no detail to restore, and
    leaving it out of the data term would only cost precision (and time) around it.
    """
    if not clipped.any():
        return clipped
    lab, n = scipy.ndimage.label(clipped)
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    small = sizes <= (3 * ks) ** 2
    small[0] = False
    return small[lab]


def ringing_reach(k: np.ndarray) -> int:
    """How many kernel footprints a clipped pixel's ringing reaches: REACH, or REACH_FAR for
    a kernel with sharp edges (a defocus disk, a motion line, most measured shakes), whose
    spectrum falls to a zero and rises again (side lobes), so its ringing fades slowly. Found
    along 16 rays of the kernel's spectrum: a value at least twice one nearer the centre, and
    above 5 % of the DC; a Gaussian's spectrum only falls."""
    f = np.abs(np.fft.fftshift(np.fft.fft2(np.asarray(k, np.float64), s=(128, 128))))
    f /= f[64, 64]
    radius = np.arange(64, dtype=np.float64)
    for angle in np.linspace(0, np.pi, 16, endpoint=False):
        ray = scipy.ndimage.map_coordinates(
            f, [64 + radius * np.sin(angle), 64 + radius * np.cos(angle)], order=1
        )
        if np.any((ray > 0.05) & (ray > 2 * np.minimum.accumulate(ray))):
            return REACH_FAR
    return REACH


def _reach_support(k: np.ndarray, reach: int = REACH) -> np.ndarray:
    """The kernel's support dilated by itself ``reach − 1`` times: where a clipped pixel's
    blur, and the ringing it would cause, can reach."""
    sup = (k > 0).astype(np.float32)
    acc = sup.copy()
    for _ in range(reach - 1):
        acc = scipy.ndimage.convolve(np.pad(acc, k.shape[0] // 2), sup, mode="constant") > 0.5
        acc = acc.astype(np.float32)
    return acc


def _merge_boxes(boxes: list[list[int]]) -> list[list[int]]:
    """Merge overlapping boxes [y0, y1, x0, x1] until none overlap."""
    boxes = [list(b) for b in boxes]
    merged = True
    while merged:
        merged = False
        out: list[list[int]] = []
        for b in boxes:
            for o in out:
                if b[0] < o[1] and o[0] < b[1] and b[2] < o[3] and o[2] < b[3]:
                    o[0], o[1] = min(o[0], b[0]), max(o[1], b[1])
                    o[2], o[3] = min(o[2], b[2]), max(o[3], b[3])
                    merged = True
                    break
            else:
                out.append(b)
        boxes = out
    return boxes


def fill_pockets(x: np.ndarray, unknown: np.ndarray, limit: int = 200) -> np.ndarray:
    """Raise each pocket of ``x`` that lies wholly in ``unknown`` to its rim.

    Grey-level hole filling (reconstruction by erosion, Soille's *Morphological Image
    Analysis* §6.3.7) confined to the clipped pixels: a clipped area of the blurred picture
    received at least white, and the data say nothing inside it, so a dark pocket there,
    lower than every path out to the measured pixels, is the prior's guess (a ring with a
    grey or coloured centre), not the scene."""
    if not unknown.any():
        return x
    x = np.asarray(x, np.float32)
    marker = np.where(unknown, np.float32(np.max(x)), x).astype(np.float32)
    known = ~unknown
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for _ in range(limit):
        nxt = cv2.erode(marker, cross, borderType=cv2.BORDER_REPLICATE)
        np.maximum(nxt, x, out=nxt)
        nxt[known] = x[known]
        if np.array_equal(nxt, marker):
            break
        marker = nxt
    return marker


def highlight_windows(
    invalid: np.ndarray, k: np.ndarray, reach: int = REACH
) -> list[tuple[slice, slice]]:
    """Windows of ``invalid``'s frame that hold every clipped cluster, the reach of its blur
    (``reach`` kernel footprints) and a margin for the solve's own borders; overlapping windows
    are merged, and each is grown to an FFT-friendly size where the frame allows."""
    ks = k.shape[0]
    h, w = invalid.shape
    grow = reach * (ks // 2 + 1) + 3 + int(WINDOW_MARGIN * ks + 16)
    boxes = []
    for sl in scipy.ndimage.find_objects(scipy.ndimage.label(invalid)[0]):
        ys, xs = sl
        boxes.append(
            [
                max(0, ys.start - grow),
                min(h, ys.stop + grow),
                max(0, xs.start - grow),
                min(w, xs.stop + grow),
            ]
        )
    out = []
    for y0, y1, x0, x1 in _merge_boxes(boxes):
        th = min(h, scipy.fft.next_fast_len(y1 - y0, True))
        tw = min(w, scipy.fft.next_fast_len(x1 - x0, True))
        y0 = max(0, min(y0, h - th))
        x0 = max(0, min(x0, w - tw))
        out.append((slice(y0, y0 + th), slice(x0, x0 + tw)))
    return out


def masked_windows(frame, res, invalid, k, solve, reach: int, support: np.ndarray) -> None:
    """Replace ``res`` near clipped pixels by the masked solve, window by window (in place).

    The masked solve is ~0.4 dB less exact than the plain one on valid data, and ~10× dearer,
    so it is used only where a clipped pixel's blur can reach, and run only on windows around
    the clipped clusters (each framed by the tiles' own margin, edge-tapered like a tile).
    ``reach``: how many kernel footprints around a clipped pixel take the masked solve
    (:func:`ringing_reach`); ``support``: that reach's footprint (:func:`_reach_support`),
    made once per picture by the caller.
    """
    for sy, sx in highlight_windows(invalid, k, reach):
        sub_invalid = invalid[sy, sx]
        # the reach around the clipped pixels, by a circular convolution on a frame padded by
        # the reach's size (so nothing wraps round, and a window may be smaller than it)
        wh, ww = sub_invalid.shape
        padded = np.zeros((wh + support.shape[0], ww + support.shape[1]), np.float32)
        padded[:wh, :ww] = sub_invalid
        near = (
            scipy.fft.irfft2(
                scipy.fft.rfft2(padded, workers=1) * otf(support, padded.shape),
                s=padded.shape,
                workers=1,
            )[:wh, :ww]
            > 0.5
        )
        mix = scipy.ndimage.uniform_filter(near.astype(np.float32), 5)
        sub = frame[sy, sx]
        full = sy.stop - sy.start == frame.shape[0] and sx.stop - sx.start == frame.shape[1]
        if not full:
            ks = k.shape[0]
            sub = edge_taper(sub, k, min(sub.shape[0] // 2 - 1, 2 * ks + 8))
        masked = fill_pockets(solve(sub, k, valid=~sub_invalid), sub_invalid)
        res[sy, sx] += mix * (masked - res[sy, sx])


def deconvolve_image(
    image: np.ndarray,
    k: np.ndarray,
    solve: Callable[..., np.ndarray],
    *,
    tile: int = TILE,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Run ``solve(frame, k)`` over every channel of ``image`` (HxWxC float32) in tiles.

    Each core tile is framed by ``margin`` px: its real neighbours inside the image, mirrored
    pixels past the border; the frame is edge-tapered and solved with a circular FFT and only
    the core is kept. The margin (≥ 4 kernel widths) is where a deconvolution's reach fades,
    so tiles meet without seams (tested to within 1/1000).
    """
    h, w, c = image.shape
    ks = k.shape[0]
    margin = int(4 * ks + 24)
    out = np.empty_like(image, dtype=np.float32)
    clipped = (image >= SATURATED).any(axis=2)  # one mask for all channels: no colour fringes
    reach = ringing_reach(k) if clipped.any() else REACH
    support = _reach_support(k, reach) if clipped.any() else None  # once, not per tile
    jobs = [(ys, xs, ch) for ys in _spans(h, tile) for xs in _spans(w, tile) for ch in range(c)]
    done = [0]

    def work(job) -> None:
        (y0, y1), (x0, x1), ch = job
        fy0, fy1 = max(0, y0 - margin), min(h, y1 + margin)
        fx0, fx1 = max(0, x0 - margin), min(w, x1 + margin)
        part = image[fy0:fy1, fx0:fx1, ch]
        pad = (
            (margin - (y0 - fy0), margin - (fy1 - y1)),
            (margin - (x0 - fx0), margin - (fx1 - x1)),
        )
        th = scipy.fft.next_fast_len(part.shape[0] + pad[0][0] + pad[0][1], True)
        tw = scipy.fft.next_fast_len(part.shape[1] + pad[1][0] + pad[1][1], True)
        pad = (
            (pad[0][0], th - part.shape[0] - pad[0][0]),
            (pad[1][0], tw - part.shape[1] - pad[1][0]),
        )
        frame = pad_consistent(part, pad, k)
        frame = edge_taper(frame, k, min(margin, 2 * ks + 8))
        sat = specular(clipped[fy0:fy1, fx0:fx1], ks)
        res = solve(frame, k)
        if sat.any():
            # clipped highlights (and their 1 px rim) do not obey the blur model: solve the
            # masked data term in small windows around them (the plain solve elsewhere)
            invalid = np.zeros(frame.shape, bool)
            invalid[
                pad[0][0] : pad[0][0] + part.shape[0], pad[1][0] : pad[1][0] + part.shape[1]
            ] = scipy.ndimage.binary_dilation(sat, iterations=1)
            masked_windows(frame, res, invalid, k, solve, reach, support)
        out[y0:y1, x0:x1, ch] = res[margin : margin + (y1 - y0), margin : margin + (x1 - x0)]
        done[0] += 1
        if progress is not None:
            progress(done[0] / len(jobs))

    threads = _threads()
    if threads == 1 or len(jobs) == 1:
        for job in jobs:
            work(job)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, jobs))
    if c == 3 and clipped.any():
        settle_colour(out, scipy.ndimage.binary_dilation(specular(clipped, ks), iterations=1))
    return out


def _fill_inwards(values: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``values`` (HxWx3) with the ``hole`` pixels filled from the others: ring by ring from
    the rim inwards (each pixel the mean of its known 3×3 neighbours), then as many Jacobi
    steps of Laplace's equation inside the hole as twice the rings it took (a membrane across
    it, without the rings' streaks)."""
    v = np.where(hole[..., None], 0.0, values).astype(np.float32)
    known = (~hole).astype(np.float32)
    if not known.any():
        return v
    todo = hole.copy()
    rings = 0
    while todo.any():
        total = cv2.blur(v * known[..., None], (3, 3), borderType=cv2.BORDER_REPLICATE)
        count = cv2.blur(known, (3, 3), borderType=cv2.BORDER_REPLICATE)
        ring = todo & (count > 0)
        v[ring] = total[ring] / count[ring][:, None]
        known[ring] = 1.0
        todo &= ~ring
        rings += 1
    for _ in range(2 * rings):
        avg = cv2.blur(v, (3, 3), borderType=cv2.BORDER_REPLICATE)
        v[hole] = avg[hole]
    return v


def settle_colour(out: np.ndarray, unknown: np.ndarray, margin: int = 8) -> None:
    """Give the unknown (clipped) pixels of ``out`` (HxWx3, in place) the colour of their
    surroundings, keeping their brightness.

    Each channel's solve guesses the left-out pixels on its own, from its prior alone, so where
    a highlight's streak crossed a grey strap or a white rim the three guesses disagree: cyan or
    pink blotches that the data never showed. There the chroma (each channel minus the mean of
    the three) is filled in from the measured pixels around (ring by ring from the rim
    inwards, then smoothed: one cluster's box at a time) and fades to neutral over the last
    ``WHITE_FADE`` below white (a highlight at white was white light); the mean, which the three
    solves share, is kept."""
    lab, _ = scipy.ndimage.label(unknown)
    h, w = unknown.shape
    for sl in scipy.ndimage.find_objects(lab):
        ys = slice(max(0, sl[0].start - margin), min(h, sl[0].stop + margin))
        xs = slice(max(0, sl[1].start - margin), min(w, sl[1].stop + margin))
        part = out[ys, xs]
        hole = unknown[ys, xs]
        mean = part.mean(axis=2, keepdims=True)
        # a clipped pixel at or above white was white light: its colour fades out towards it
        fade = np.clip((1.0 - mean) / WHITE_FADE, 0.0, 1.0)
        filled = mean + fade * _fill_inwards(part - mean, hole)
        part[hole] = filled[hole]
