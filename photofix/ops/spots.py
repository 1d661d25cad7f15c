"""Foxing and spots (``detect-defects:kinds=spots``, opt-in): round, soft, darker blotches
larger than dust, brown on a colour scan.

Foxing is the rust-brown spotting of old paper and albumen prints; mould, water and fly spots
look alike. They are 0.3-4 % of the print's long side across, darker than the print around
them, soft-edged and compact. Classical, on a copy of the print at most ``WORK_SIDE`` px long
(so a big scan's spot is as many working pixels as a small scan's):

* darkness: a closing with a square ``CLOSE`` px wide removes dark blobs narrower than it; the
  difference from the print is each blob's depth, divided by the print's robust local grain
  scale (:func:`photofix.models.defect_net.local_noise_scale`) so grain and texture are judged
  against themselves; seeds ``SEED`` grain scales deep are grown to ``GROW``, and no further
  than the spot's half depth;
* shape: compact (fills ``MIN_FILL`` of its box, at most ``MAX_ELONGATION`` times longer than
  wide), and ``MIN_AREA`` working pixels or more (smaller is dust's);
* isolation: it stands ``ISOLATION`` ring deviations out of its 2-4 px surround (an eye, a
  button, a window in a facade has a busy surround);
* no pattern: a spot in a row of four or more look-alikes at one spacing (:func:`patterned`)
  is part of a lattice (the holes of a lattice wall, a row of buttons or balusters), which
  damage does not lay out;
* colour: on a colour scan, how much browner (Lab b*, half of a*) it is than the print's own
  toning at its lightness (:func:`_off_tone`), compared with the print just around it. Only a
  clearly brown, isolated spot is confident (``BROWN_FULL`` Lab units), and on a colour scan
  a spot less than ``BROWN_MIN`` off the print's tone is not proposed at all, so
  one-step ``remove-defects`` never fills a dark spot of a gray print unasked: those are
  proposed for review.

:func:`spot_regions` returns the mask and a confidence map for :mod:`photofix.ops.defects`.
"""

from __future__ import annotations

import cv2
import numpy as np

from photofix.models import defect_net
from photofix.ops.rings import ring_means

WORK_SIDE = 1024  # px: the long side of the working copy
CLOSE = 25  # px (working): spots narrower than this are found
SEED = 8.0  # grain scales: a spot's seed depth
GROW = 3.0  # grain scales: how far a spot is grown
MIN_DEPTH = 0.02  # luminance: shallower blotches are tone, not spots
MIN_AREA = 6  # working px
MIN_FILL = 0.35  # share of its bounding box a spot fills
MAX_ELONGATION = 3.0
ISOLATION = 3.0  # ring standard deviations
BROWN_MIN = 1.5  # Lab units off the print's tone: less, on a colour scan, is not a spot
BROWN_FULL = 6.0  # Lab units browner than the surround for full confidence
GRAY_CONFIDENCE = 0.5  # a spot without colour evidence: proposed, never filled unasked


def _working(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The print reduced so its long side is at most ``WORK_SIDE`` px, and the factor (never
    enlarged: interpolation would smooth the grain the spots are judged against)."""
    h, w = image.shape[:2]
    f = min(1.0, WORK_SIDE / max(h, w))
    if f == 1.0:
        return image, 1.0
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), f


def _signal(work: np.ndarray) -> np.ndarray:
    """What a spot darkens (float32 HxW): the luminance averaged with the blue channel, which
    foxing's rust-brown darkens most (on a gray print, the luminance)."""
    return 0.5 * defect_net.luminance(work) + 0.5 * work[..., 2]


TONE_BINS = 32


def _off_tone(lab: np.ndarray) -> np.ndarray:
    """How much browner (Lab b* plus half a*) each pixel is than the print's own toning at its
    lightness (float32 HxW): a sepia or gold-toned print is browner in some tones than others,
    and its eyes, hats and windows follow that curve; foxing does not."""
    brownness = lab[..., 2] + 0.5 * lab[..., 1]
    bins = np.clip((lab[..., 0] * (TONE_BINS / 100.0)).astype(np.int32), 0, TONE_BINS - 1)
    count = np.bincount(bins.ravel(), minlength=TONE_BINS)
    total = np.bincount(bins.ravel(), weights=brownness.ravel(), minlength=TONE_BINS)
    used = count > 0
    centres = np.arange(TONE_BINS)
    curve = np.interp(centres, centres[used], total[used] / count[used])
    return (brownness - curve[bins]).astype(np.float32)


PATTERN_REACH = 6.0  # look-alikes are searched within this many diameters
PATTERN_TOLERANCE = 0.2  # how far (in shares of the spacing) a lattice may be irregular
PATTERN_SIZES = 1.5  # look-alikes differ in size by at most this factor


def patterned(centres: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """bool (n,): which of ``n`` blobs (centres float N×2 x/y, sizes = diameters in px) lie on a
    lattice: four or more look-alikes (sizes within ``PATTERN_SIZES``) in a row at one
    spacing (within ``PATTERN_TOLERANCE``), each closer than ``PATTERN_REACH`` diameters to the
    next. Damage is scattered (three in a row happen by chance in a dense dust field; four at
    one spacing hardly do); a row or grid of alike blobs (balusters, buttons, studs, the holes
    of a lattice wall) is picture content."""
    n = len(centres)
    out = np.zeros(n, bool)
    if n < 4:
        return out
    steps: list[list[tuple[int, int, np.ndarray]]] = [[] for _ in range(n)]
    for start in range(0, n, 512):  # blocks of rows: n × 512 distances at a time
        idx = np.arange(start, min(n, start + 512))
        d = centres[None, :, :] - centres[idx, None, :]  # (block, n, 2): vectors to the others
        dist = np.hypot(d[..., 0], d[..., 1])
        ratio = sizes[None, :] / sizes[idx, None]
        near = (dist > 0) & (dist < PATTERN_REACH * sizes[idx, None])
        near &= (ratio >= 1 / PATTERN_SIZES) & (ratio <= PATTERN_SIZES)
        for row, i in enumerate(idx):
            js = np.flatnonzero(near[row])
            if len(js) < 2:
                continue
            v = d[row, js]
            s = v[:, None, :] + v[None, :, :]  # opposite and equal: v_j + v_k ≈ 0
            spacing = np.maximum(dist[row, js][:, None], dist[row, js][None, :])
            hit = np.hypot(s[..., 0], s[..., 1]) < PATTERN_TOLERANCE * spacing
            np.fill_diagonal(hit, False)
            for a, b in zip(*np.nonzero(hit), strict=True):
                steps[i].append((int(js[a]), int(js[b]), v[a]))  # i - v[a] is js[b]
    for i in range(n):  # three in a row at i; a fourth when the next one is a middle too
        for ahead, behind, v in steps[i]:
            tol = PATTERN_TOLERANCE * float(np.hypot(*v))
            if any(float(np.hypot(*(u - v))) < tol for _, _, u in steps[ahead]):
                out[[i, ahead, behind]] = True
    return out


def spot_regions(image: np.ndarray, sensitivity: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(mask bool HxW, confidence float32 HxW in [0, 1]) of the foxing and spots of ``image``
    (float32 HxWx3 in [0, 1]); each spot's pixels carry its confidence. ``sensitivity`` in
    [0, 1] moves the seed depth (0.5: ``SEED`` grain scales)."""
    h, w = image.shape[:2]
    work, f = _working(np.ascontiguousarray(image, dtype=np.float32))
    y = _signal(work)
    y = cv2.GaussianBlur(y, (0, 0), 0.8)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (CLOSE, CLOSE))
    depth = cv2.morphologyEx(y, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE) - y
    fine = y - cv2.GaussianBlur(y, (0, 0), 1.5)
    scale = defect_net.local_noise_scale(fine)
    z = depth / scale
    seed_z = SEED * 2.0 ** ((0.5 - sensitivity) * 2.0)
    # a spot is where it is at least half as deep as the deepest point near it (its half
    # maximum), so it does not run into the texture around it
    half = 0.5 * cv2.dilate(depth, kernel)
    weak = (z > min(GROW, seed_z / 2)) & (depth > MIN_DEPTH / 2) & (depth >= half)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(weak.view(np.uint8), connectivity=8)
    empty = np.zeros((h, w), bool), np.zeros((h, w), np.float32)
    if n <= 1:
        return empty
    peak_z = np.zeros(n)
    np.maximum.at(peak_z, comp[weak], z[weak])
    peak_d = np.zeros(n)
    np.maximum.at(peak_d, comp[weak], depth[weak])
    bw, bh, area = stats[:, 2], stats[:, 3], stats[:, 4]
    fill = area / np.maximum(bw * bh, 1)
    elong = np.maximum(bw, bh) / np.maximum(np.minimum(bw, bh), 1)
    long_side = max(work.shape[:2])
    keep = (
        (peak_z >= seed_z)
        & (peak_d >= MIN_DEPTH)
        & (area >= MIN_AREA)
        & (np.maximum(bw, bh) <= max(CLOSE, 0.04 * long_side))
        & (fill >= MIN_FILL)
        & (elong <= MAX_ELONGATION)
    )
    keep[0] = False
    if not keep.any():
        return empty
    comp = np.where(keep[comp], comp, 0).astype(np.int32)
    inside_mean, ring_mean, ring_var = ring_means(y, comp, n)
    isolated = np.abs(ring_mean - inside_mean) / (np.sqrt(np.maximum(ring_var, 0)) + 0.004)
    keep &= isolated >= ISOLATION
    keep[0] = False
    ids = np.flatnonzero(keep)
    if len(ids) >= 3:
        centres = np.stack([stats[ids, 0] + bw[ids] / 2, stats[ids, 1] + bh[ids] / 2], 1)
        keep[ids[patterned(centres.astype(np.float64), np.maximum(bw[ids], bh[ids]))]] = False
    if not keep.any():
        return empty
    comp = np.where(keep[comp], comp, 0).astype(np.int32)
    lab = cv2.cvtColor(work, cv2.COLOR_RGB2Lab)
    excess_inside, excess_ring, _ = ring_means(_off_tone(lab), comp, n)
    brown = excess_inside - excess_ring
    colourful = float(np.percentile(np.hypot(lab[..., 1], lab[..., 2]), 90)) > 3.0
    if colourful:  # on a colour scan a dark blob of the print's own tone is picture content
        keep &= brown >= BROWN_MIN
        conf = np.clip(brown / BROWN_FULL, GRAY_CONFIDENCE, 1.0) * keep
    else:
        conf = GRAY_CONFIDENCE * keep
    conf_map = conf.astype(np.float32)[comp]
    if f != 1.0:
        conf_map = cv2.resize(conf_map, (w, h), interpolation=cv2.INTER_NEAREST)
    if f < 1.0:  # the soft edge of a spot is part of it: grown by about one working pixel
        grow = max(1, round(1 / f)) | 1
        conf_map = cv2.dilate(conf_map, np.ones((grow, grow), np.uint8))
    return conf_map > 0, conf_map
