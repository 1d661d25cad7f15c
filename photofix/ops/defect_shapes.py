"""The tests that decide whether a detected region may be filled by one-step ``remove-defects``
without review: how a region stands out of its surround, and whether it has the shape of damage
laid over the print rather than of the picture's own structure (see :func:`shape_evidence`).
Used by :mod:`photofix.ops.defects`, which turns their score into each region's confidence."""

from __future__ import annotations

import cv2
import numpy as np

from photofix.models import defect_net
from photofix.ops.rings import component_means, ring_means
from photofix.ops.spots import patterned

RIDGE_GAP = 3.0  # px beyond a line's edge where its two sides are sampled
ISOLATION_FLOOR = 0.01  # luminance: a perfectly flat ring does not divide by zero
GRAIN_CONTRAST = 4.0  # a speck differs from its ring by this many local grain scales
CONTINUES = 0.5  # a line whose ridge goes on past an end at this share of its contrast is cut
CONTINUE_SPAN = 16  # px beyond (and before) each end where the ridge is compared
MIN_LINE_SHARE = 0.1  # a line filled without review spans this share of the long side
LOPSIDED = 0.15  # a line whose two edges differ by more than this share of its contrast is lopsided
# a speck with LOOKALIKES or more blobs of the picture like it (its polarity, at its scale, at
# least LOOKALIKE_SHARE as strong) within LOOKALIKE_REACH diameters (LOOKALIKE_MIN_REACH px at
# least) is one of many: a window of a facade, a stone of gravel, a figure in a square
LOOKALIKES = 3
LOOKALIKE_SHARE = 0.7
LOOKALIKE_REACH = 8.0
LOOKALIKE_MIN_REACH = 24


def sample(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` (float32 HxW) at float coordinates, clamped to the edge."""
    h, w = image.shape
    x = np.clip(x, 0, w - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x0, y0 = x.astype(np.intp), y.astype(np.intp)
    fx, fy = x - x0, y - y0
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


TENSOR_REACH = 24  # rows beyond a band that its line directions depend on (blurs σ 1.5 and 3)


def isolation(luma: np.ndarray, comp: np.ndarray, n: int) -> np.ndarray:
    """How far each of the ``n`` components (int32 HxW labels, 0 = background) stands out of
    its surround (float64, n): the difference between its mean luminance and that of a ring
    2-4 px around it, in units of the ring's standard deviation. A speck or scratch over a
    smooth print scores high; a "speck" in halftone, foliage, a window grid or an engraving
    (whose surround is as busy as itself) scores low."""
    mean_c, mean_r, var_r = ring_means(luma, comp, n)
    return np.abs(mean_c - mean_r) / (np.sqrt(np.maximum(var_r, 0)) + ISOLATION_FLOOR)


def grain_scale(luma: np.ndarray) -> np.ndarray:
    """The print's robust local grain scale (float32 HxW): the same one DefectNet's inputs are
    normalised by (:func:`photofix.models.defect_net.grain_scale`, computed in bands)."""
    return defect_net.grain_scale(luma)


def grain_contrast(
    luma: np.ndarray, comp: np.ndarray, n: int, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each component's contrast against its 2-4 px ring in units of the local grain scale
    ``scale`` (:func:`grain_scale`) averaged over the component, and its polarity (+1 brighter
    than the ring, −1 darker), float64 (n,) each. Grain itself makes "specks" of a few scales;
    a real speck of dust stands far above it."""
    mean_c, mean_r, _ = ring_means(luma, comp, n)
    s = component_means(scale, comp, n)
    polarity = np.where(mean_c >= mean_r, 1.0, -1.0)
    return np.abs(mean_c - mean_r) / np.maximum(s, defect_net.SCALE_FLOOR), polarity


def lookalikes(
    luma: np.ndarray,
    comp: np.ndarray,
    stats: np.ndarray,
    polarity: np.ndarray,
    which: np.ndarray,
    detected: np.ndarray | None = None,
) -> np.ndarray:
    """For the components ``which`` of ``comp`` (with their ``stats``; ``polarity`` ±1 per
    component): how many blobs of the picture like each (float64, n; 0 for the others).

    Around a speck of diameter d, within ``LOOKALIKE_REACH`` d (at least
    ``LOOKALIKE_MIN_REACH`` px), the picture is band-passed at the speck's scale (a difference
    of Gaussians, σ d/3 and d, signed by its polarity); the local maxima at least
    ``LOOKALIKE_SHARE`` as strong as the speck's own response, farther than d from it and
    blobs (curving down across both directions, not a point along a line), are its
    look-alikes. Maxima inside any detected speck (``comp``), or anything else the detector
    found (``detected``, bool HxW), do not count: a field of dust is many specks, all found;
    a facade's windows, gravel or a crowd in a square are many blobs of which the detector
    takes only a few."""
    h, w = luma.shape
    out = np.zeros(len(stats))
    if len(which) == 0:  # no candidate: the whole-picture mask below is not needed
        return out
    found = comp > 0 if detected is None else (comp > 0) | detected
    found = cv2.dilate(found.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    for i in which:
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        d = max(bw, bh)
        reach = int(max(LOOKALIKE_MIN_REACH, LOOKALIKE_REACH * d))
        sigma = max(0.6, d / 3.0)
        pad = reach + int(3 * 3 * sigma) + 1  # the window and the wider blur's reach
        cx, cy = x + bw / 2.0, y + bh / 2.0
        y0, y1 = max(0, int(cy) - pad), min(h, int(cy) + pad + 1)
        x0, x1 = max(0, int(cx) - pad), min(w, int(cx) + pad + 1)
        win = luma[y0:y1, x0:x1]
        band = cv2.GaussianBlur(win, (0, 0), sigma) - cv2.GaussianBlur(win, (0, 0), 3 * sigma)
        band *= polarity[i]
        k = np.ones((max(3, d | 1),) * 2, np.uint8)
        own = float(band[y - y0 : y - y0 + bh, x - x0 : x - x0 + bw].max())
        if own <= 0:
            continue
        peak = (band >= cv2.dilate(band, k)) & (band >= LOOKALIKE_SHARE * own)
        peak &= ~found[y0:y1, x0:x1]
        py, px = np.nonzero(peak)
        # a blob, not a point along a line (a scratch, an edge): the band curves down
        # across both of its principal directions
        dxx = cv2.Sobel(band, cv2.CV_32F, 2, 0, ksize=3)[py, px]
        dyy = cv2.Sobel(band, cv2.CV_32F, 0, 2, ksize=3)[py, px]
        dxy = cv2.Sobel(band, cv2.CV_32F, 1, 1, ksize=3)[py, px]
        mid, half = -(dxx + dyy) / 2, np.hypot((dxx - dyy) / 2, dxy)
        blob = mid - half >= 0
        py, px = py[blob], px[blob]
        dist = np.hypot(px + x0 + 0.5 - cx, py + y0 + 0.5 - cy)
        out[i] = np.count_nonzero((dist > d) & (dist <= reach))
    return out


def _line_ends(points: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two ends of a line given as its pixels (float64 N×2, x/y): the extreme points along
    its principal axis, each with the unit direction pointing out of the line there (the
    principal axis of the pixels within 12 px of that end)."""
    centre = points.mean(0)
    axis = np.linalg.svd(points - centre, full_matrices=False)[2][0]
    t = (points - centre) @ axis
    out = []
    for sign in (-1.0, 1.0):
        end = points[np.argmax(sign * t)]
        near = points[np.hypot(*(points - end).T) <= 12]
        d = axis
        if len(near) >= 3:
            d = np.linalg.svd(near - near.mean(0), full_matrices=False)[2][0]
        d = d if np.dot(d, sign * axis) >= 0 else -d
        out.append((end, d / max(float(np.linalg.norm(d)), 1e-9)))
    return out


def line_continuation(y: np.ndarray, points: np.ndarray, width: float, polarity: float) -> float:
    """How far the ridge of a detected line (its pixels ``points``, float64 N×2 x/y, about
    ``width`` px wide, brighter than its sides for ``polarity`` 1, darker for -1) goes on past
    its ends, in ``y`` (the luminance after a σ 1 Gaussian): at each end, the median two-sided
    contrast along ``CONTINUE_SPAN`` px beyond the end divided by that along the same span
    just inside it; the larger of the two ends (0 where an end lies at the picture's border or
    has no ridge inside). Near 1: the line goes on in the picture as strongly as where it was
    found (a pole, a railing, a rim the detector only partly took); a scratch found whole has
    nothing beyond its ends."""
    h, w = y.shape
    gap = width / 2 + RIDGE_GAP
    span = np.arange(CONTINUE_SPAN, dtype=np.float64)
    ratios = [0.0]
    for end, d in _line_ends(points):
        normal = np.array([-d[1], d[0]])
        contrast = []
        for ts in (-2.0 - span, 3.0 + span):  # just inside the end, then beyond it
            p = end[None] + ts[:, None] * d[None]
            ok = (p[:, 0] >= 0) & (p[:, 0] <= w - 1) & (p[:, 1] >= 0) & (p[:, 1] <= h - 1)
            if ok.mean() < 0.5:
                break
            p = p[ok]
            a = sample(y, p[:, 0] + gap * normal[0], p[:, 1] + gap * normal[1])
            b = sample(y, p[:, 0] - gap * normal[0], p[:, 1] - gap * normal[1])
            side = np.maximum(a, b) if polarity > 0 else np.minimum(a, b)
            contrast.append(float(np.median(polarity * (sample(y, p[:, 0], p[:, 1]) - side))))
        if len(contrast) == 2 and contrast[0] > 0:
            ratios.append(contrast[1] / contrast[0])
    return max(ratios)


def lopsidedness(
    y: np.ndarray,
    sub: np.ndarray,
    centre: np.ndarray,
    origin: tuple[int, int],
    width: float,
    polarity: float,
) -> float:
    """How unlike the two edges of a detected line are: along its centre line (``centre``, bool,
    in the line's box ``sub`` whose top-left corner is ``origin`` in ``y``, the luminance after
    a σ 1 Gaussian), the median difference between the picture at its two edges (``width`` / 2
    px either side, across the line's local direction), as a share of the line's contrast
    against its sides (``RIDGE_GAP`` px further out; ``polarity`` 1 for a bright line).

    A scratch is laid over the print: its two edges are alike (cut, or drawn, the same on both
    sides), so this is near 0. A highlight along the rounded edge of an object (a ledge, a hat
    brim, the lit side of a stick or a pole) or a shadow line against one side of a step is
    lopsided: sharp against the outline on one side, fading with the shading on the other."""
    k = TENSOR_REACH
    soft = cv2.GaussianBlur(np.pad(sub, k).astype(np.float32), (0, 0), 1.5)
    gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3)
    r, c = np.nonzero(centre)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), 3.0)[r + k, c + k]
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), 3.0)[r + k, c + k]
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), 3.0)[r + k, c + k]
    normal = 0.5 * np.arctan2(2 * jxy, jxx - jyy)  # across the line
    nx, ny = np.cos(normal), np.sin(normal)
    # one side throughout: the local normals turned to agree with the line's mean normal
    mean = np.arctan2(np.sum(np.sin(2 * normal)), np.sum(np.cos(2 * normal))) / 2
    turn = np.where(nx * np.cos(mean) + ny * np.sin(mean) < 0, -1.0, 1.0)
    nx, ny = nx * turn, ny * turn
    cx, cy = c + float(origin[0]), r + float(origin[1])
    edge, out = width / 2, width / 2 + RIDGE_GAP
    a = sample(y, cx + nx * edge, cy + ny * edge)
    b = sample(y, cx - nx * edge, cy - ny * edge)
    sides = sample(y, cx + nx * out, cy + ny * out) + sample(y, cx - nx * out, cy - ny * out)
    contrast = polarity * (y[r + origin[1], c + origin[0]] - sides / 2)
    on = contrast > 0  # where it is a line of its polarity (crossing scratches may merge)
    if not on.any():
        return 0.0
    return abs(float(np.median((a - b)[on]))) / max(float(np.median(contrast[on])), ISOLATION_FLOOR)


def shape_evidence(
    kind: str,
    comp: np.ndarray,
    stats: np.ndarray,
    luma: np.ndarray,
    scale: np.ndarray | None,
    detected: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per component of ``comp`` (labels with their ``stats`` from
    ``cv2.connectedComponentsWithStats``): how well it has the shape of damage that one step
    may fill without review (float64, in [0, 1]; it multiplies the confidence), and which of
    them are crowded (bool; see dust below).

    * dust: its contrast against its ring in local grain scales (:func:`grain_contrast`), full
      from ``GRAIN_CONTRAST``: grain, halftone dots and soft highlights are a few scales; and
      a speck on a lattice of look-alikes (:func:`photofix.ops.spots.patterned`: balusters,
      buttons, studs, a wall's holes) is picture content, so it scores 0; a speck with
      ``LOOKALIKES`` or more blobs like it around it that were not detected
      (:func:`lookalikes`: windows, gravel, figures in a square) keeps its score but is
      *crowded* (the second array, bool n): one step leaves it for review;
    * scratches: a line whose ridge goes on past its ends (:func:`line_continuation` ≥
      ``CONTINUES``) was only partly found, or is a pole, railing or rim of the picture, so it
      scales down by ``CONTINUES / continuation``; a line whose two edges are unlike
      (:func:`lopsidedness` above ``LOPSIDED``: a highlight along a ledge or a brim, a shadow
      against one side of a step) is picture structure, not something laid over the print, and
      scales down by ``LOPSIDED / lopsidedness``; and a line shorter than ``MIN_LINE_SHARE``
      of the picture's long side (a post, a stick, a spire) scales with its length. Scratches
      from handling run across much of a print.
    """
    n = len(stats)
    out = np.ones(n)
    crowded = np.zeros(n, bool)
    if kind == "dust" and scale is not None:
        contrast, polarity = grain_contrast(luma, comp, n, scale)
        out = np.clip(contrast / GRAIN_CONTRAST, 0.0, 1.0)
        if n > 3:
            centres = stats[1:, :2] + stats[1:, 2:4] / 2.0
            sizes = np.maximum(stats[1:, 2], stats[1:, 3]).astype(np.float64)
            out[1:][patterned(centres.astype(np.float64), sizes)] = 0.0
        which = np.flatnonzero(out[1:] > 0) + 1
        crowded = lookalikes(luma, comp, stats, polarity, which, detected) >= LOOKALIKES
    elif kind == "scratches" and n > 1:
        mean_c, mean_r, _ = ring_means(luma, comp, n)
        y = cv2.GaussianBlur(luma, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
        long_side = max(comp.shape)
        k = np.ones((3, 3), np.uint8)
        for i in range(1, n):
            x, y0, bw, bh = (int(v) for v in stats[i, :4])
            sub = comp[y0 : y0 + bh, x : x + bw] == i
            rows, cols = np.nonzero(sub)
            points = np.column_stack([cols + x, rows + y0]).astype(np.float64)
            centred = points - points.mean(0)
            t = centred @ np.linalg.svd(centred, full_matrices=False)[2][0]
            length = float(t.max() - t.min())
            dist = cv2.distanceTransform(np.pad(sub, 1).view(np.uint8), cv2.DIST_L2, 3)
            dist = dist[1:-1, 1:-1]
            centre = (dist >= cv2.dilate(dist, k) - 1e-3) & sub
            width = 2.0 * float(np.median(dist[centre])) if centre.any() else 1.0
            polarity = 1.0 if mean_c[i] >= mean_r[i] else -1.0
            cont = line_continuation(y, points, width, polarity)
            factor = min(1.0, CONTINUES / cont) if cont > 0 else 1.0
            side = lopsidedness(y, sub, centre, (x, y0), width, polarity)
            factor *= min(1.0, LOPSIDED / side) if side > 0 else 1.0
            out[i] = factor * min(1.0, length / (MIN_LINE_SHARE * long_side))
    return out, crowded
