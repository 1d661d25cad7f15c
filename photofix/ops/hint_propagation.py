"""Colour from sparse hints: chroma propagated over the photograph's own luma structure.

The user paints a few colours; every other pixel needs a chroma (see :mod:`photofix.core.chroma`
for the luma/chroma split — luma is never touched). The method, all at a reduced *working*
resolution (about a quarter megapixel) and then brought back to full size:

1. **Geodesic chrominance blending** (Yatziv & Sapiro, "Fast image and video colorization using
   chrominance blending", IEEE TIP 2006). Hints are grouped into blobs of one colour. For each
   blob ``g`` the geodesic distance ``d_g(p)`` over the image is the cheapest path from the blob
   to ``p`` on the 8-connected pixel graph whose edge cost is ``ε + k·|ΔY'|`` (step length plus
   the luma change crossed), solved exactly with Dijkstra on the sparse graph. A pixel's chroma
   is the blend ``Σ w_g c_g / Σ w_g`` with ``w_g = d_g^(−b)``.
2. **Luma similarity** (our extension, a range kernel as in the joint bilateral filter): each
   weight is multiplied by ``exp(−(Y'(p) − Ȳ'_g)² / 2σ²)``, so a pixel prefers hints painted on
   things of its own brightness — the sky hint colours the sky behind a nearer tree hint.
   Measured on eight scikit-image photographs with 20 random 3×3 hints (mean CIEDE2000 against
   the original): nearest-hint fill 6.04, plain Levin et al. (2004) 5.53, geodesic blending 5.03,
   with luma similarity 4.43 (−27 %). Blending is also an honest answer to uncertainty: far from
   every hint the colour is a weighted mean of the plausible ones, not a guess.
3. **Edge-aware refinement** — an optimisation over the luma structure in the sense of Levin,
   Lischinski & Weiss ("Colorization using Optimization", SIGGRAPH 2004): minimise
   ``Σ_(r,s) w_rs (u_r − u_s)² + λ Σ_r (u_r − prior_r)²`` with affinities
   ``w_rs = exp(−(Y'_r − Y'_s)² / 2σ_e²)`` on the 4-connected grid and the hints held fixed.
   The blend of steps 1–2 is the prior; the sparse SPD system is solved by conjugate gradients
   (Jacobi-preconditioned, started at the prior, so a few dozen iterations suffice). It removes
   the blend's seams inside flat regions and snaps colour boundaries to luma edges.
4. **Guided upsampling** to full resolution (the fast guided filter of He & Sun 2015): the
   chroma is modelled as a local linear function of the luma at working resolution, and those
   coefficients, upsampled, are applied to the full-resolution luma — colour edges follow the
   full-resolution tonal edges. Painted hint pixels keep their exact colour.

Image contract: luma float32 ``H×W`` in [0, 1]; hint chroma float32 ``H×W×2``; hint mask bool
``H×W``. The result is chroma float32 ``H×W×2``, to be applied with
:func:`photofix.core.chroma.compose` (where saturation is a cheap post step, no re-solve).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from photofix.inference.progress import Progress

__all__ = ["PropagationSettings", "propagate_chroma"]


@dataclass(frozen=True)
class PropagationSettings:
    """Tuning of :func:`propagate_chroma` (defaults measured with ``benchmarks/bench_colorize.py``).

    ``work_pixels``: pixel count of the working resolution. ``edge_cost``: ``k``, geodesic cost of
    crossing a full black-to-white change relative to one pixel step... per working-resolution
    pixel of 512-px long side (scaled with the working size so results do not depend on it).
    ``power``: ``b`` of the distance weights. ``luma_sigma``: σ of the luma similarity (None = off).
    ``smooth``/``smooth_sigma``: weight and luma σ of the refinement (``smooth = 0`` = off).
    ``colour_step``: hints whose chroma differs by more than this are separate blobs.
    ``neutral_reach``: a zero-chroma competitor, at this geodesic distance (512-px units),
    for pixels lighter than ``neutral_light`` or darker than ``neutral_dark`` (weight rising
    to full at white and black), so a hint does not tint whites and blacks it is not painted
    on: a blue hint on a dress leaves the white blouse beside it white (None = off). On the
    astronaut's white suit, with 8 hints on coloured parts only, the mean propagated chroma
    fell from 0.251 to 0.014; the mean CIEDE2000 of the 8-photo random-hint test (5, 20 and
    100 hints, seed 1) stayed at 4.88.
    """

    work_pixels: int = 262_144
    distance_pixels: int = 65_536
    edge_cost: float = 50.0
    power: float = 3.0
    luma_sigma: float | None = 0.1
    smooth: float = 1.0
    smooth_sigma: float = 0.02
    cg_iterations: int = 60
    sweeps: int = 3
    colour_step: float = 0.04
    guide_radius: int = 2
    guide_eps: float = 1e-4
    neutral_reach: float | None = 128.0
    neutral_light: float = 0.6
    neutral_dark: float = 0.15


DEFAULT_SETTINGS = PropagationSettings()
BATCH = 16  # blobs whose distance maps are computed together (memory: 16 × work_pixels × 8 B)


def propagate_chroma(
    y: np.ndarray,
    hint_chroma: np.ndarray,
    hint_mask: np.ndarray,
    settings: PropagationSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    *,
    reach: float | None = None,
) -> np.ndarray:
    """Chroma for every pixel from the hinted ones (see the module docstring).

    ``y`` float32 ``H×W`` luma in [0, 1]; ``hint_chroma`` float32 ``H×W×2`` (read only where
    ``hint_mask``, bool ``H×W``, is set). Returns float32 ``H×W×2``; where ``hint_mask`` is set it
    equals ``hint_chroma``. Without any hint the result is zero (gray). ``progress`` is checked
    for cancellation between stages.

    ``reach`` makes the effect local: a zero-chroma competitor at geodesic distance ``reach``
    (in pixels of a 512-px-wide copy) joins the blend, so beyond about that distance the result
    fades to zero. Used to propagate *corrections* (hint minus automatic colour) in auto mode.
    """
    progress = progress if progress is not None else Progress()
    y = np.ascontiguousarray(y, np.float32)
    h, w = y.shape
    if hint_chroma.shape != (h, w, 2) or hint_mask.shape != (h, w):
        raise ValueError("hint chroma and mask must match the luma's size")
    out = np.zeros((h, w, 2), np.float32)
    if not hint_mask.any():
        return out
    hint_chroma = np.asarray(hint_chroma, np.float32)

    # -- working resolution ----------------------------------------------------------------
    f = min(1.0, math.sqrt(settings.work_pixels / (h * w)))
    ws = (max(1, round(w * f)), max(1, round(h * f)))
    if f < 1.0:
        y_w = cv2.resize(y, ws, interpolation=cv2.INTER_AREA)
        cover = cv2.resize(hint_mask.astype(np.float32), ws, interpolation=cv2.INTER_AREA)
        masked = hint_chroma * hint_mask[..., None]
        c_sum = cv2.resize(masked, ws, interpolation=cv2.INTER_AREA)
        m_w = cover > 1e-6
        c_w = np.zeros_like(c_sum)
        c_w[m_w] = c_sum[m_w] / cover[m_w][:, None]
    else:
        y_w, m_w = y, hint_mask.astype(bool)
        c_w = np.where(m_w[..., None], hint_chroma, 0.0).astype(np.float32)
    progress.update(0.05, "Grouping hints")
    progress.check()

    # -- 1+2: geodesic blend with luma similarity ------------------------------------------
    scale = max(y_w.shape) / 512.0  # distances in units of a 512-px image
    prior = _geodesic_blend(y_w, c_w, m_w, settings, scale, progress.sub(0.05, 0.6), reach)
    progress.check()

    # -- 3: edge-aware refinement (sparse SPD solve) ---------------------------------------
    if settings.smooth > 0:
        prior = _refine(y_w, prior, c_w, m_w, settings)
    progress.update(0.8, "Upsampling colour")
    progress.check()

    # -- 4: guided upsampling --------------------------------------------------------------
    if f < 1.0:
        out = _guided_upsample(y_w, prior, y, settings.guide_radius, settings.guide_eps)
    else:
        out = prior.astype(np.float32)
    out[hint_mask] = hint_chroma[hint_mask]
    progress.update(1.0, "Colour propagated")
    return out


# ---- geodesic blending -------------------------------------------------------------------


def _hint_groups(c_w: np.ndarray, m_w: np.ndarray, step: float) -> tuple[np.ndarray, int]:
    """Label blobs of one colour: connected hint pixels whose quantised chroma agrees."""
    q = np.floor(c_w / step).astype(np.int32)
    key = (q[..., 0] + 64) * 256 + (q[..., 1] + 64)
    from scipy import ndimage  # (scipy is imported when used: the command line starts faster)

    labels = np.zeros(m_w.shape, np.int32)
    count = 0
    for k in np.unique(key[m_w]):
        lab, n = ndimage.label(m_w & (key == k), structure=np.ones((3, 3)))
        labels[lab > 0] = lab[lab > 0] + count
        count += n
    return labels, count


class _Sweeper:
    """The fast sweeping method (Zhao 2005) on the 4-connected grid, vectorised.

    Along a line, ``d[x] = min_(k≤x) (d[k] + Σ_(k<j≤x) c[j])`` — the cheapest arrival from the
    line's earlier pixels, ``c[j]`` being the cost of entering pixel j from pixel j−1 — equals
    ``C[x] + cummin(d − C)[x]`` with ``C`` the running sum of ``c``: the sequential recurrence
    becomes one cumulative minimum, for every line (and every blob) at once. The running sums
    depend only on the image and are computed once per direction.
    """

    def __init__(self, y: np.ndarray, cost: float, step: float) -> None:
        yd = y.astype(np.float64)
        cx = np.zeros(y.shape)  # entering (i, x) from (i, x−1); column 0 unused
        cx[:, 1:] = step + cost * np.abs(np.diff(yd, axis=1))
        cy = np.zeros(y.shape)  # entering (i, x) from (i−1, x); row 0 unused
        cy[1:, :] = step + cost * np.abs(np.diff(yd, axis=0))
        # reversed directions: entering j from j+1 costs the forward cost of j+1
        cx_rev = np.flip(np.roll(cx, -1, axis=1), axis=1)
        cy_rev = np.flip(np.roll(cy, -1, axis=0), axis=0)
        self.runs = [
            (1, False, np.cumsum(cx, axis=1).astype(np.float32)),
            (1, True, np.cumsum(cx_rev, axis=1).astype(np.float32)),
            (0, False, np.cumsum(cy, axis=0).astype(np.float32)),
            (0, True, np.cumsum(cy_rev, axis=0).astype(np.float32)),
        ]

    def distances(self, labels: np.ndarray, count: int, rounds: int) -> np.ndarray:
        """Geodesic distance (``count×H×W`` float32) from each blob labelled 1..count; exact
        for every path with at most ``4·rounds − 1`` turns."""
        d = np.full((count, *labels.shape), 1e12, np.float32)  # finite "infinity"
        for g in range(count):
            d[g][labels == g + 1] = 0.0
        for _ in range(rounds):
            for axis, reverse, run in self.runs:
                view = np.flip(d, axis=axis + 1) if reverse else d
                best = np.subtract(view, run)
                np.minimum.accumulate(best, axis=axis + 1, out=best)
                best += run
                np.minimum(view, best, out=view)
        return d


def _geodesic_blend(
    y: np.ndarray,
    c: np.ndarray,
    m: np.ndarray,
    s: PropagationSettings,
    scale: float,
    progress: Progress,
    reach: float | None = None,
) -> np.ndarray:
    labels, count = _hint_groups(c, m, s.colour_step)
    num = np.zeros((*y.shape, 2), np.float64)
    den = np.zeros(y.shape, np.float64)
    if reach is not None:
        den += (reach + 1e-3) ** (-s.power)  # the zero-chroma competitor
    if s.neutral_reach is not None:  # neutrals stay neutral unless hinted: whites and blacks
        den += (s.neutral_reach + 1e-3) ** (-s.power) * _neutral_profile(y, s)
    flat = labels.ravel()
    c_flat, y_flat = c.reshape(-1, 2), y.ravel()
    # distances on a coarser grid (they vary slowly; edges come back through the luma
    # similarity, the refinement and the guided upsampling)
    h, w = y.shape
    fd = min(1.0, math.sqrt(s.distance_pixels / (h * w)))
    hd, wd = max(1, round(h * fd)), max(1, round(w * fd))
    y_d = cv2.resize(y, (wd, hd), interpolation=cv2.INTER_AREA) if fd < 1.0 else y
    rows = np.minimum((np.arange(h) * hd) // h, hd - 1)
    cols = np.minimum((np.arange(w) * wd) // w, wd - 1)
    # one step = 1/scale units at working resolution; crossing black→white costs edge_cost
    sweeper = _Sweeper(y_d, s.edge_cost, 1.0 / (scale * fd))
    for first in range(0, count, BATCH):
        progress.check()
        n = min(BATCH, count - first)
        batch = np.where((labels > first) & (labels <= first + n), labels - first, 0)
        coarse = np.zeros((hd, wd), np.int32)
        hit = np.nonzero(batch)
        coarse[rows[hit[0]], cols[hit[1]]] = batch[hit]
        dist = sweeper.distances(coarse, n, s.sweeps)
        for g in range(n):
            src = flat == first + g + 1
            d_g = (
                dist[g]
                if fd == 1.0
                else cv2.resize(dist[g], (w, h), interpolation=cv2.INTER_LINEAR)
            )
            weight = (d_g.astype(np.float64) + 1e-3) ** (-s.power)
            if s.luma_sigma:
                weight *= np.exp(-((y - y_flat[src].mean()) ** 2) / (2.0 * s.luma_sigma**2))
            num += weight[..., None] * c_flat[src].mean(axis=0)
            den += weight
        progress.update((first + n) / count, f"Hint {first + n} of {count}")
    den = np.maximum(den, 1e-300)
    prior = (num / den[..., None]).astype(np.float32)
    prior[m] = c[m]
    return prior


def _neutral_profile(y: np.ndarray, s: PropagationSettings) -> np.ndarray:
    """0 for mid tones, rising to 1 towards white (from ``neutral_light``) and black (from
    ``neutral_dark``): where a grey picture's pixels are most likely neutral in colour."""
    light = np.clip((y - s.neutral_light) / max(1e-6, 1.0 - s.neutral_light), 0.0, 1.0)
    dark = np.clip((s.neutral_dark - y) / max(1e-6, s.neutral_dark), 0.0, 1.0)
    return (np.maximum(light, dark) ** 2).astype(np.float64)


# ---- refinement --------------------------------------------------------------------------


def _refine(
    y: np.ndarray, prior: np.ndarray, c: np.ndarray, m: np.ndarray, s: PropagationSettings
) -> np.ndarray:
    """Minimise ``Σ w_rs (u_r − u_s)² + λ Σ (u_r − prior_r)² + Λ Σ_hints (u_r − c_r)²``.

    The normal equations ``(L + D) u = D·t`` (graph Laplacian ``L`` of the 4-connected grid,
    diagonal data weights ``D``: ``λ`` everywhere, ``Λ = 10⁴`` on hint pixels so they stay put)
    form a sparse symmetric positive-definite system, solved by Jacobi-preconditioned
    conjugate gradients from the prior.
    """
    h, w = y.shape
    n = h * w
    yd = y.astype(np.float64)
    inv = 1.0 / (2 * s.smooth_sigma**2)
    wx = np.zeros((h, w))  # weight of the edge (i, x)–(i, x+1)
    wx[:, :-1] = np.exp(-((yd[:, 1:] - yd[:, :-1]) ** 2) * inv)
    wy = np.zeros((h, w))  # weight of the edge (i, x)–(i+1, x)
    wy[:-1, :] = np.exp(-((yd[1:, :] - yd[:-1, :]) ** 2) * inv)
    degree = wx + wy
    degree[:, 1:] += wx[:, :-1]
    degree[1:, :] += wy[:-1, :]
    data = np.where(m, 1e4, 1.0 / s.smooth).ravel()
    ex, ey = wx.ravel()[:-1], wy.ravel()[: n - w]
    import scipy.sparse as sp
    from scipy.sparse.linalg import LinearOperator, cg

    matrix = sp.diags(
        [degree.ravel() + data, -ex, -ex, -ey, -ey], [0, 1, -1, w, -w], shape=(n, n), format="csr"
    )
    diag = matrix.diagonal()
    precond = LinearOperator(matrix.shape, matvec=lambda v: v / diag, dtype=np.float64)
    target = np.where(m[..., None], c, prior).reshape(-1, 2).astype(np.float64)
    out = np.empty((n, 2))
    for ch in range(2):
        out[:, ch], _ = cg(
            matrix,
            data * target[:, ch],
            x0=target[:, ch],
            rtol=1e-5,
            maxiter=s.cg_iterations,
            M=precond,
        )
    result = out.reshape(h, w, 2).astype(np.float32)
    result[m] = c[m]
    return result


# ---- guided upsampling -------------------------------------------------------------------


def _box(a: np.ndarray, r: int) -> np.ndarray:
    return cv2.blur(a, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def _guided_upsample(
    y_small: np.ndarray, c_small: np.ndarray, y_full: np.ndarray, r: int, eps: float
) -> np.ndarray:
    """Fast guided filter: ``c ≈ a·Y' + b`` fitted locally at low resolution, applied at full."""
    h, w = y_full.shape
    mean_i = _box(y_small, r)
    var_i = _box(y_small * y_small, r) - mean_i * mean_i
    out = np.empty((h, w, 2), np.float32)
    for ch in range(2):
        p = np.ascontiguousarray(c_small[..., ch])
        mean_p = _box(p, r)
        cov = _box(y_small * p, r) - mean_i * mean_p
        a = cov / (var_i + eps)
        b = mean_p - a * mean_i
        a_up = cv2.resize(_box(a, r), (w, h), interpolation=cv2.INTER_LINEAR)
        b_up = cv2.resize(_box(b, r), (w, h), interpolation=cv2.INTER_LINEAR)
        out[..., ch] = a_up * y_full + b_up
    return out
