"""Hole filling: OpenCV's Telea for previews, multi-scale PatchMatch exemplar synthesis for quality.

Image contract of the public functions: ``image`` float32 HxWxC in [0, 1] (C = 3, or 1),
``mask`` bool HxW (True = fill). The result is a new float32 array of the same shape whose pixels
outside the mask are bit-identical to the input.

**Cost follows the mask.** Work is planned as jobs around the holes: every large hole (a
connected region thicker than ``BIG_HOLE`` px) gets a crop of its own with context in
proportion to its size; thin and small holes (scratches, dust) are grouped by 256-px cells of
the image, each cell cropped to its holes plus a fixed margin. Cells without holes cost nothing.

**Thin holes** (the patch engine's default for holes up to ``BIHARMONIC_MAX`` = 24 px thick:
cracks, scratches, hair, dust, and the forks of a crack network): :func:`biharmonic_fill`, the
smoothest continuation of the surrounding values and slopes (Δ²u = 0), so lines that a crack
crosses carry on through it. On held-out photos it beats Telea by 0.74 dB and PatchMatch by
0.92 dB of masked PSNR on thin damage (``benchmarks/bench_fill.py``, docs/fill.md).

**Patch engine** for thicker holes (Wexler, Shechtman & Irani 2007, with the PatchMatch search
of Barnes et al. 2009, as in Resynthesizer and content-aware fill). Per job:

1. the holes are pre-filled with Telea, and an image pyramid is built (down to the scale where
   the thickest hole is a few patches across), holes max-pooled so they only grow;
2. at each level, from coarse to fine, a few EM iterations: (a) PatchMatch finds, for every
   7×7 patch centred on a hole pixel, a similar 7×7 patch entirely in the known part of the crop
   (parallel jump-flood propagation from the neighbours' matches and a random search at
   halving radii, all vectorised over every hole pixel at once); (b) voting: every hole pixel
   becomes the weighted mean of the pixels that the matched patches overlapping it propose,
   weighted by match quality;
3. the nearest-neighbour field and the estimate are upsampled to the next level.

Patch distances use a 3×3-box-filtered copy sampled every 3 px (a 9×9 footprint as 3×3×C
numbers): an order of magnitude cheaper than full 7×7 SSD and as good for choosing matches; the
voting copies exact full-resolution pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from photofix.inference.progress import Progress

PATCH_RADIUS = 3  # 7×7 patches
SIGMA_PERCENTILE = 75
EM_FINEST = 2
SEARCH_RADIUS = 64  # px: the random search starts this far from the current match
BAND = 2  # px around the holes whose patches vote too
BIG_HOLE = 12  # px: holes thicker than this get their own job and a pyramid
# px: with thin="biharmonic", holes up to this thick are solved, not synthesised: a crack network
# of 10-px strokes (8 px grown by 1) is up to ~18 px thick where two branches fork
BIHARMONIC_MAX = 24
CELL = 256
SMALL_MARGIN = 24
TELEA_RADIUS = 3
THIN_FILLS = ("biharmonic", "patchmatch")  # how inpaint_patch fills holes up to BIG_HOLE thick
_DESC_STEP = 3  # descriptor: box-filtered image sampled every 3 px on a 3×3 grid


# ---- fast engine ---------------------------------------------------------------------------
def _cells(mask: np.ndarray, margin: int) -> list[tuple[int, int, int, int, int, int, int, int]]:
    """Boxes of 256-px cells that contain mask pixels: (cell y0, x0, y1, x1, crop y0, x0, y1, x1);
    the crop is the bounding box of the cell's mask pixels grown by ``margin`` (clamped)."""
    h, w = mask.shape
    out = []
    ny, nx = -(-h // CELL), -(-w // CELL)
    # per-cell bounding boxes of mask pixels, found from row/column occupancy
    for i in range(ny):
        y0, y1 = i * CELL, min(h, (i + 1) * CELL)
        band = mask[y0:y1]
        cols = band.any(axis=0)
        if not cols.any():
            continue
        for j in range(nx):
            x0, x1 = j * CELL, min(w, (j + 1) * CELL)
            cc = cols[x0:x1]
            if not cc.any():
                continue
            rows = band[:, x0:x1].any(axis=1)
            ry = np.flatnonzero(rows)
            rx = np.flatnonzero(cc)
            by0, by1 = y0 + ry[0], y0 + ry[-1] + 1
            bx0, bx1 = x0 + rx[0], x0 + rx[-1] + 1
            out.append(
                (y0, x0, y1, x1, max(0, by0 - margin), max(0, bx0 - margin),
                 min(h, by1 + margin), min(w, bx1 + margin))
            )  # fmt: skip
    return out


def _gray_view(image: np.ndarray) -> np.ndarray | None:
    """The single channel (HxWx1) when all channels are equal, else None."""
    if (
        image.shape[2] == 3
        and np.array_equal(image[..., 0], image[..., 1])
        and np.array_equal(image[..., 0], image[..., 2])
    ):
        return image[..., :1]
    return None


def inpaint_fast(
    image: np.ndarray,
    mask: np.ndarray,
    progress: Progress | None = None,
    radius: int = TELEA_RADIUS,
) -> np.ndarray:
    """Telea's fast-marching inpainting, cell by cell.

    ``image`` float32 HxWxC [0,1], ``mask`` bool HxW -> float32 HxWxC; outside the mask the
    result is bit-identical to the input. A gray image (equal channels) is filled once in float
    precision and stays exactly gray; colour is filled in one 8-bit pass over the three channels
    (OpenCV's fastest path; the fill is then precise to 1/255, far below what a fill's error
    is anyway).
    """
    _check(image, mask)
    out = image.copy()
    if not mask.any():
        return out
    gray = _gray_view(image)
    cells = _cells(mask, radius + 2)
    u8 = mask.view(np.uint8)
    for n, (y0, x0, y1, x1, cy0, cx0, cy1, cx1) in enumerate(cells):
        if progress is not None:
            progress.check()
        m = np.ascontiguousarray(u8[cy0:cy1, cx0:cx1])
        # the cell's mask pixels all lie in the crop: write back their intersection only
        y0, x0, y1, x1 = max(y0, cy0), max(x0, cx0), min(y1, cy1), min(x1, cx1)
        inner = mask[y0:y1, x0:x1]
        if gray is not None:
            # OpenCV's float Telea assumes the 0-255 range (its weights break at 0-1)
            src = gray[cy0:cy1, cx0:cx1, 0] * np.float32(255.0)
            filled = cv2.inpaint(src, m, radius, cv2.INPAINT_TELEA) * np.float32(1 / 255.0)
            filled = filled[..., None]
        elif image.shape[2] == 3:
            src8 = np.clip(image[cy0:cy1, cx0:cx1] * 255.0 + 0.5, 0, 255).astype(np.uint8)
            filled = cv2.inpaint(src8, m, radius, cv2.INPAINT_TELEA).astype(np.float32) / 255.0
        else:
            chans = [
                cv2.inpaint(image[cy0:cy1, cx0:cx1, c] * np.float32(255.0), m, radius,
                            cv2.INPAINT_TELEA) * np.float32(1 / 255.0)
                for c in range(image.shape[2])
            ]  # fmt: skip
            filled = np.stack(chans, axis=2)
        part = filled[y0 - cy0 : y1 - cy0, x0 - cx0 : x1 - cx0]
        out[y0:y1, x0:x1][inner] = part[inner]
        if progress is not None and n % 8 == 0:
            progress.update(n / len(cells), "Filling")
    if gray is not None:
        out[..., 1] = out[..., 0]
        out[..., 2] = out[..., 0]
    return np.clip(out, 0.0, 1.0, out=out)


def _check(image: np.ndarray, mask: np.ndarray) -> None:
    if image.ndim != 3 or image.dtype != np.float32:
        raise ValueError(f"expected a float32 HxWxC image, got {image.dtype} {image.shape}")
    if mask.shape != image.shape[:2] or mask.dtype != np.bool_:
        raise ValueError("expected a bool HxW mask the size of the image")


# ---- patch engine --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Job:
    """Fill ``targets`` (bool, crop-sized) inside the crop box; ``levels`` pyramid levels."""

    box: tuple[int, int, int, int]
    targets: np.ndarray
    levels: int
    big: bool = False  # one hole thicker than BIG_HOLE (else: a cell of thin and small holes)


def _plan(mask: np.ndarray, big_hole: float = BIG_HOLE) -> list[_Job]:
    """Jobs: holes thicker than ``big_hole`` alone with context ∝ size, the rest by cells (see
    the module docstring)."""
    h, w = mask.shape
    u8 = mask.view(np.uint8)
    dist = cv2.distanceTransform(u8, cv2.DIST_L2, 3)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(u8, connectivity=8)
    thick = np.zeros(n, np.float32)
    np.maximum.at(thick, labels[mask], dist[mask])
    big = 2 * thick > big_hole
    big[0] = False
    jobs = []
    for i in np.flatnonzero(big):
        x, y, bw, bh = stats[i, :4]
        t = 2 * float(thick[i])
        margin = int(np.clip(max(bw, bh) * 0.75, 32, 256))
        box = (
            max(0, y - margin),
            max(0, x - margin),
            min(h, y + bh + margin),
            min(w, x + bw + margin),
        )
        targets = labels[box[0] : box[2], box[1] : box[3]] == i
        levels = 1 + max(0, int(np.ceil(np.log2(t / 8.0))))
        smallest = min(box[2] - box[0], box[3] - box[1])
        while levels > 1 and smallest / 2 ** (levels - 1) < 24:
            levels -= 1
        jobs.append(_Job(box, targets, levels, big=True))
    small = mask & ~big[labels]
    for y0, x0, y1, x1, cy0, cx0, cy1, cx1 in _cells(small, SMALL_MARGIN):
        targets = np.zeros((cy1 - cy0, cx1 - cx0), bool)
        y0, x0, y1, x1 = max(y0, cy0), max(x0, cx0), min(y1, cy1), min(x1, cx1)
        targets[y0 - cy0 : y1 - cy0, x0 - cx0 : x1 - cx0] = small[y0:y1, x0:x1]
        jobs.append(_Job((cy0, cx0, cy1, cx1), targets, 1))
    return jobs


def _down(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    out = cv2.resize(image, (max(1, (w + 1) // 2), max(1, (h + 1) // 2)), cv2.INTER_AREA)
    return out.reshape(out.shape[0], out.shape[1], -1)


def _down_mask(mask: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    f = cv2.resize(mask.astype(np.float32), (max(1, (w + 1) // 2), max(1, (h + 1) // 2)),
                   interpolation=cv2.INTER_AREA)  # fmt: skip
    return f > 0


class _Level:
    """One pyramid level of one job: padded arrays and flat indices for vectorised gathers."""

    def __init__(self, estimate: np.ndarray, unknown: np.ndarray, targets: np.ndarray) -> None:
        r = PATCH_RADIUS
        self.pad = pad = r + _DESC_STEP + 1
        self.h, self.w = targets.shape
        self.c = estimate.shape[2]
        self.ph, self.pw = self.h + 2 * pad, self.w + 2 * pad
        self.image = cv2.copyMakeBorder(estimate, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        self.image = self.image.reshape(self.ph, self.pw, self.c)
        self.targets = targets
        # patch centres: the holes and a band of BAND px around them, whose mostly known
        # patches also vote for the hole pixels they overlap
        band = cv2.dilate(targets.view(np.uint8), np.ones((2 * BAND + 1,) * 2, np.uint8))
        ty, tx = np.nonzero(band)
        self.tidx = ((ty + pad) * self.pw + tx + pad).astype(np.int64)
        self.tmap = np.full(self.ph * self.pw, -1, np.int64)
        self.tmap[self.tidx] = np.arange(len(self.tidx))
        hy, hx = np.nonzero(targets)
        self.hidx = ((hy + pad) * self.pw + hx + pad).astype(np.int64)
        # valid source centres: the whole 7×7 patch (and descriptor footprint) known and inside
        known = np.zeros((self.ph, self.pw), np.uint8)
        known[pad : pad + self.h, pad : pad + self.w] = ~unknown
        reach = max(r, _DESC_STEP + 1)
        k = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
        self.valid = (
            cv2.erode(known, k, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool).ravel()
        )
        self.sources = np.flatnonzero(self.valid)
        pr = np.arange(-r, r + 1)
        self.patch_offsets = (pr[:, None] * self.pw + pr[None, :]).ravel()
        ds = np.array([-_DESC_STEP, 0, _DESC_STEP])
        self.desc_offsets = (ds[:, None] * self.pw + ds[None, :]).ravel()
        self.desc: np.ndarray | None = None
        self.tdesc: np.ndarray | None = None

    def refresh(self) -> None:
        """Recompute every pixel's descriptor (9·C numbers, one contiguous row per pixel) from
        the current estimate, and the targets' descriptors."""
        b = cv2.blur(self.image, (3, 3), borderType=cv2.BORDER_REFLECT)
        flat = b.reshape(self.ph * self.pw, self.c)
        size = flat.shape[0]
        desc = np.zeros((size, len(self.desc_offsets), self.c), np.float32)
        for k, o in enumerate(self.desc_offsets):
            # desc[i, k] = flat[i + o]; rows near the padded border are never used
            if o >= 0:
                desc[: size - o, k] = flat[o:]
            else:
                desc[-o:, k] = flat[: size + o]
        self.desc = desc.reshape(size, -1)
        self.tdesc = self.desc[self.tidx]

    def distance(self, rows: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Descriptor SSD between targets ``rows`` and source centres ``cand`` (flat indices)."""
        assert self.desc is not None and self.tdesc is not None
        diff = self.tdesc[rows] - self.desc[cand]
        return np.einsum("ij,ij->i", diff, diff)


def _patchmatch(
    lv: _Level, nnf: np.ndarray, dist: np.ndarray, rng: np.random.Generator, iterations: int
) -> None:
    """Improve ``nnf`` (flat source index per target) and ``dist`` in place."""
    n = len(lv.tidx)
    all_rows = np.arange(n)

    def attempt(rows: np.ndarray, cand: np.ndarray) -> None:
        ok = (cand >= 0) & (cand < lv.valid.size)
        rows, cand = rows[ok], cand[ok]
        ok = lv.valid[cand]
        rows, cand = rows[ok], cand[ok]
        if not len(rows):
            return
        d = lv.distance(rows, cand)
        better = d < dist[rows]
        rows, cand, d = rows[better], cand[better], d[better]
        nnf[rows] = cand
        dist[rows] = d

    radius0 = min(max(lv.h, lv.w), SEARCH_RADIUS)
    for it in range(iterations):
        # propagation (jump flooding): a neighbour's match, shifted back by the step
        for step in (8, 4, 2, 1) if it == 0 else (2, 1):
            for delta in (step, -step, step * lv.pw, -step * lv.pw):
                j = np.take(lv.tmap, lv.tidx + delta, mode="clip")  # border: never a target
                has = j >= 0
                attempt(all_rows[has], nnf[j[has]] - delta)
        # random search around the current match at halving radii
        radius = radius0
        while radius >= 1:
            dy = rng.integers(-radius, radius + 1, n)
            dx = rng.integers(-radius, radius + 1, n)
            attempt(all_rows, nnf + dy * lv.pw + dx)
            radius //= 2


def _vote(lv: _Level, nnf: np.ndarray, dist: np.ndarray, source: np.ndarray) -> np.ndarray:
    """New estimate of the hole pixels (T×C): the weighted mean of the matched patches'
    pixels over every patch that covers them (``source`` is the padded known image, flat)."""
    if len(dist):
        sigma2 = max(float(np.percentile(dist, SIGMA_PERCENTILE)), 1e-6)
        weight = np.exp(-dist / (2.0 * sigma2)).astype(np.float32)
    else:
        weight = np.zeros(0, np.float32)
    size = lv.ph * lv.pw
    acc = np.zeros((size, lv.c), np.float32)
    wsum = np.zeros(size, np.float32)
    for o in lv.patch_offsets:
        at = lv.tidx + o
        acc[at] += weight[:, None] * source[nnf + o]
        wsum[at] += weight
    w = wsum[lv.hidx]
    est = acc[lv.hidx] / np.maximum(w, 1e-12)[:, None]
    # a pixel no patch could vote for keeps its estimate
    keep = w <= 1e-12
    if keep.any():
        est[keep] = lv.image.reshape(size, lv.c)[lv.hidx[keep]]
    return est


def _fill_job(
    crop: np.ndarray, unknown: np.ndarray, job: _Job, rng: np.random.Generator, progress: Progress
) -> np.ndarray | None:
    """Synthesise the job's target pixels in ``crop`` (pre-filled estimate, HxWxC); returns the
    T×C values in the order of ``np.nonzero(job.targets)``, or None without any source."""
    images, unknowns, targets = [crop], [unknown], [job.targets]
    for _ in range(job.levels - 1):
        images.append(_down(images[-1]))
        unknowns.append(_down_mask(unknowns[-1]))
        targets.append(_down_mask(targets[-1]))
    nnf = dist = None
    estimate = images[-1]
    prev: _Level | None = None
    for level in range(job.levels - 1, -1, -1):
        progress.check()
        if prev is not None:
            h, w = targets[level].shape
            up = cv2.resize(estimate, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)
            estimate = images[level].copy()
            estimate[targets[level]] = up[targets[level]]
        else:
            estimate = images[level].copy()
        lv = _Level(estimate, unknowns[level], targets[level])
        if not len(lv.sources):
            return None
        source = lv.image.reshape(-1, lv.c).copy()  # known pixels never change
        n = len(lv.tidx)
        # initial field: upsampled from the coarser level where possible, else random
        init = lv.sources[rng.integers(0, len(lv.sources), n)]
        if prev is not None and nnf is not None:
            py, px = np.divmod(lv.tidx, lv.pw)
            cy = (py - lv.pad) // 2 + prev.pad
            cx = (px - lv.pad) // 2 + prev.pad
            j = prev.tmap[cy * prev.pw + cx]
            has = j >= 0
            sy, sx = np.divmod(nnf[j[has]], prev.pw)
            fy = (sy - prev.pad) * 2 + (py[has] - lv.pad) % 2 + lv.pad
            fx = (sx - prev.pad) * 2 + (px[has] - lv.pad) % 2 + lv.pad
            inside = (fy >= 0) & (fy < lv.ph) & (fx >= 0) & (fx < lv.pw)
            cand = np.where(inside, fy * lv.pw + fx, 0)
            good = inside & lv.valid[cand]
            idx = np.flatnonzero(has)[good]
            init[idx] = cand[good]
        nnf = init
        coarse = level == job.levels - 1 and job.levels > 1
        em_iterations = 5 if coarse else (EM_FINEST if level == 0 else 3)
        flat = lv.image.reshape(-1, lv.c)
        for em in range(em_iterations):
            progress.check()
            lv.refresh()
            dist = lv.distance(np.arange(n), nnf)
            _patchmatch(lv, nnf, dist, rng, 2 if em == 0 else 1)
            flat[lv.hidx] = _vote(lv, nnf, dist, source)
        estimate = flat.reshape(lv.ph, lv.pw, lv.c)[
            lv.pad : lv.pad + lv.h, lv.pad : lv.pad + lv.w
        ].copy()
        prev = lv
    return estimate[job.targets]


def biharmonic_fill(crop: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Smoothest continuation of ``crop`` (float32 HxWxC) into ``unknown`` (bool HxW): the
    values that minimise the summed squared 5-point Laplacian over every pixel whose stencil
    touches an unknown one (the discrete biharmonic equation, Δ²u = 0 in the hole; the known
    pixels around it fix both the values and the slopes that continue into the hole). Returns
    a copy of ``crop`` with the unknown pixels solved (on the crop's edges the second
    difference along the edge stands in for the Laplacian: a hole running off the picture
    continues its ramps to the edge).

    One sparse least-squares system per call, solved once for all channels (normal equations,
    SuperLU). A thin hole's unknowns form long 1-D chains, so the factorisation stays sparse and
    the cost is near-linear in the hole's area."""
    from scipy.sparse import csc_matrix
    from scipy.sparse.linalg import splu

    h, w, c = crop.shape
    out = crop.copy()
    n = int(np.count_nonzero(unknown))
    if n == 0:
        return out
    index = np.full(h * w, -1, np.int64)
    flat_unknown = np.flatnonzero(unknown)
    index[flat_unknown] = np.arange(n)
    # rows: every pixel whose stencil touches an unknown. Inside the crop the 5-point
    # Laplacian; on its edges the second difference along the edge (exact on ramps, as the
    # Laplacian is; the crop's corners have none)
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
    rows_p = np.flatnonzero(cv2.dilate(unknown.view(np.uint8), cross))
    ry, rx = np.divmod(rows_p, w)
    edge_y, edge_x = (ry == 0) | (ry == h - 1), (rx == 0) | (rx == w - 1)
    keep = ~(edge_y & edge_x)
    rows_p, edge_y, edge_x = rows_p[keep], edge_y[keep], edge_x[keep]
    m = len(rows_p)
    # stencil: centre, up, down, left, right
    vals = np.tile(np.array([4.0, -1.0, -1.0, -1.0, -1.0]), (m, 1))
    vals[edge_y] = (2.0, 0.0, 0.0, -1.0, -1.0)
    vals[edge_x] = (2.0, -1.0, -1.0, 0.0, 0.0)
    inside = vals != 0
    offsets = np.array([0, -w, w, -1, 1])
    pix = np.where(inside, rows_p[:, None] + offsets[None, :], rows_p[:, None])
    col = np.where(inside, index[pix], -1)
    is_u = col >= 0
    r_idx = np.broadcast_to(np.arange(m)[:, None], pix.shape)
    a = csc_matrix((vals[is_u], (r_idx[is_u], col[is_u])), shape=(m, n))
    flat = crop.reshape(h * w, c).astype(np.float64)
    known_part = np.where(is_u[..., None], 0.0, vals[..., None] * flat[pix])  # m×5×C
    b = known_part.sum(axis=1)  # the Laplacian's known part, m×C
    normal = (a.T @ a).tocsc()
    try:
        x = splu(normal).solve(-(a.T @ b))
    except RuntimeError:  # singular: an unknown region with nothing known around it
        return out
    if not np.all(np.isfinite(x)) or np.abs(x - 0.5).max() > 2.0:  # (near-)singular system
        return out
    out.reshape(h * w, c)[flat_unknown] = x.astype(np.float32)
    return out


def inpaint_patch(
    image: np.ndarray,
    mask: np.ndarray,
    progress: Progress | None = None,
    seed: int = 0,
    thin: str = "biharmonic",
) -> np.ndarray:
    """Exemplar inpainting (see the module docstring): holes thicker than ``BIG_HOLE`` px by
    multi-scale PatchMatch; thin and small ones (cracks, scratches, dust) by
    :func:`biharmonic_fill` when ``thin="biharmonic"`` (the default), by PatchMatch too when
    ``thin="patchmatch"``.

    ``image`` float32 HxWxC [0,1], ``mask`` bool HxW -> float32 HxWxC; outside the mask the result
    is bit-identical to the input. A gray image (equal channels) stays exactly gray. The result
    is deterministic for a given ``seed``.
    """
    _check(image, mask)
    if thin not in THIN_FILLS:
        raise ValueError(f"thin must be one of {', '.join(THIN_FILLS)}, not {thin!r}")
    progress = progress or Progress()
    if not mask.any():
        return image.copy()
    gray = _gray_view(image)
    work = np.ascontiguousarray(gray if gray is not None else image)
    estimate = inpaint_fast(work, mask, progress.sub(0.0, 0.1))
    jobs = _plan(mask, BIHARMONIC_MAX if thin == "biharmonic" else BIG_HOLE)
    rng = np.random.default_rng(seed)
    total = sum(int(j.targets.sum()) * 4 ** (j.levels > 1) for j in jobs) or 1
    done = 0
    for job in jobs:
        progress.check()
        y0, x0, y1, x1 = job.box
        crop = estimate[y0:y1, x0:x1]
        unknown = mask[y0:y1, x0:x1]
        if thin == "biharmonic" and not job.big:
            values = biharmonic_fill(crop, unknown)[job.targets]
        else:
            values = _fill_job(crop.copy(), unknown, job, rng, progress)
        if values is not None:
            crop[job.targets] = values
        done += int(job.targets.sum()) * 4 ** (job.levels > 1)
        progress.update(0.1 + 0.9 * done / total, "Synthesising texture")
    out = image.copy()
    if gray is not None:
        estimate = np.repeat(estimate, 3, axis=2)
    out[mask] = np.clip(estimate[mask], 0.0, 1.0)
    return out
