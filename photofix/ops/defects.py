"""``detect-defects``: a proposed damage mask (dust, scratches, tears, spots) for the user to
edit.

Everything works on the luminance of the print, so gray, sepia and colour scans are treated
alike. Dust and scratches come from DefectNet (:mod:`photofix.models.defect_net`): classical
evidence maps (a robust local grain scale, a noise-normalised top-hat residual and a two-sided
oriented line detector) computed once on the whole image, then a small U-Net trained on
synthetic damage, run through the tiler. Its two probability maps are turned into a mask the
classical way:

* hysteresis: seeds above a threshold set by ``sensitivity``, grown into connected pixels above
  half of it;
* dust components must be small (at most ``DUST_MAX_SIZE`` px across); scratch components must
  be long (at least ``MIN_SCRATCH_LENGTH`` px from end to end) and must be *ridges* in the
  picture: along most of their length the print just beside them, on both sides, is alike and
  differs from the line itself (a scratch lies over the picture). The rim of a cup, the edge of
  a helmet or an eyelid is a step between two different regions and is dropped;
* tears (opt-in, classical): large, flat, paper-white or black regions touching the border;
* spots (opt-in, classical, :mod:`photofix.ops.spots`): foxing, mould and water spots: round,
  soft, darker blotches larger than dust; only clearly brown, isolated ones are confident.

The mask is tight (the visible damage); ``remove-defects`` grows it by a pixel before filling so
the soft edges of a scratch go too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from photofix.core.errors import OperationError
from photofix.core.recipe import ModelUse, current_facts
from photofix.inference.progress import Progress
from photofix.inference.tiling import run_tiled
from photofix.models import defect_net
from photofix.models.spec import weights_sha256
from photofix.ops.registry import Layers, OpContext, Operation, Param
from photofix.ops.rings import BAND as _BAND
from photofix.ops.rings import component_means, ring_means
from photofix.ops.spots import patterned, spot_regions

KINDS = ("dust", "scratches", "tears", "spots")
DEFAULT_KINDS = ("dust", "scratches")

THRESHOLD = 0.5  # probability for a seed at the default sensitivity; growing goes to half of it
DUST_MAX_SIZE = 12  # px across
MIN_SCRATCH_LENGTH = 48  # px from end to end
RIDGE_GAP = 3.0  # px beyond a line's edge where its two sides are sampled
RIDGE_RATIO = 1.0  # a line pixel is a ridge when it differs from both sides more than they do
RIDGE_SHARE = 0.5  # a scratch must be a ridge along at least this share of its centre line
TILE = 512
# a region is confident (filled by one-step remove-defects) from this peak probability on
CONFIDENT = {"dust": 0.9, "scratches": 0.9, "tears": 0.0, "spots": 0.9}
ISOLATION_FULL = 4.0  # ring standard deviations a region must stand out by to keep its peak
ISOLATION_FLOOR = 0.01  # luminance: a perfectly flat ring does not divide by zero
PIECE_CELL = 24  # px: long regions are judged piece by piece on cells of this size
CLEAR_SHARE = 0.5  # a region keeps its peak where at least this share stands out clearly
# shape tests of what one step may fill without review (see _shape_evidence)
GRAIN_CONTRAST = 4.0  # a speck differs from its ring by this many local grain scales
CONTINUES = 0.5  # a line whose ridge goes on past an end at this share of its contrast is cut
CONTINUE_SPAN = 16  # px beyond (and before) each end where the ridge is compared
MIN_LINE_SHARE = 0.1  # a line filled without review spans this share of the long side
LOPSIDED = 0.15  # a line whose two edges differ by more than this share of its contrast is lopsided
ONE_STEP_CAP = 0.05  # one step fills at most this share of the picture (grown by 1 px)


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of a float32 HxWx3 [0,1] image, as float32 HxW."""
    return defect_net.luminance(image)


def _thresholds(sensitivity: float) -> tuple[float, float]:
    """(seed, grow) probabilities: 0.5/0.25 at sensitivity 0.5, stricter below, looser above."""
    seed = float(np.clip(THRESHOLD * 2.0 ** ((0.5 - sensitivity) * 2.0), 0.05, 0.95))
    return seed, seed / 2.0


def _hysteresis(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """Pixels of ``weak`` (bool HxW) connected (8-neighbourhood) to a pixel of ``strong``."""
    n, labels = cv2.connectedComponents(weak.view(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(weak)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[strong])] = True  # (labels are 0 where weak is not)
    keep[0] = False
    return keep[labels]


@functools.lru_cache(maxsize=2)
def _runner(device: str) -> Callable[[np.ndarray], np.ndarray]:
    return defect_net.load(device)


def defect_probabilities(image: np.ndarray, progress: Progress | None = None) -> np.ndarray:
    """DefectNet's probabilities, float32 HxWx2 (dust, scratches) in [0, 1], for ``image``
    (float32 HxWx3 in [0, 1])."""
    progress = progress or Progress()
    progress.update(0.0, "Measuring grain and lines")
    # computed tile by tile, so the four feature maps are never held whole
    features = defect_net.TiledFeatures(image)
    prob = run_tiled(
        features,  # type: ignore[arg-type]  # sliced like an array
        _runner("cpu"),
        tile=TILE,
        overlap=16,
        context=defect_net.CONTEXT,
        out_channels=len(defect_net.CHANNELS),
        progress=progress,
    )
    _record_detector()
    return prob


def _record_detector() -> None:
    """Tell the step being recorded (if any) that DefectNet ran: its id, weights' SHA-256 and
    licence, on the CPU in float32, with the tile size the tiler used."""
    facts = current_facts()
    if facts is None:
        return
    tiling = facts.take_tiling()
    spec = defect_net.SPEC
    tile = tiling[0] if tiling is not None else TILE
    facts.model(
        ModelUse(spec.id, spec.task, weights_sha256(spec), spec.licence, "cpu", "float32", tile)
    )


def dust_mask(prob: np.ndarray, sensitivity: float = 0.5) -> np.ndarray:
    """Dust specks (bool HxW) from the dust probability map (float32 HxW)."""
    seed, grow = _thresholds(sensitivity)
    spots = _hysteresis(prob > seed, prob > grow)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(spots.view(np.uint8), connectivity=8)
    size = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = size <= DUST_MAX_SIZE
    keep[0] = False
    return keep[labels]


def scratch_mask(
    prob: np.ndarray, sensitivity: float = 0.5, luma: np.ndarray | None = None
) -> np.ndarray:
    """Scratches and creases (bool HxW) from the scratch probability map (float32 HxW).

    With the picture's luminance ``luma`` (float32 HxW), lines that are steps in the picture
    rather than ridges over it are dropped (:func:`ridge_share`)."""
    seed, grow = _thresholds(sensitivity)
    lines = _hysteresis(prob > seed, prob > grow)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines.view(np.uint8), connectivity=8)
    length = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = length >= MIN_SCRATCH_LENGTH
    keep[0] = False
    if luma is not None and keep.any():
        labels[~keep[labels]] = 0  # (in place: no second full-size label map)
        keep &= ridge_share(luma, labels, n) >= RIDGE_SHARE
    return keep[labels]


def _sample(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` (float32 HxW) at float coordinates, clamped to the edge."""
    h, w = image.shape
    x = np.clip(x, 0, w - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x0, y0 = x.astype(np.intp), y.astype(np.intp)
    fx, fy = x - x0, y - y0
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def _median_by_label(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Median (float64, n) of ``values`` per label in 0..n-1 (0 where a label has none)."""
    order = np.lexsort((values, labels))
    counts = np.bincount(labels, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.zeros(n)
    has = counts > 0
    out[has] = values[order][starts[has] + (counts[has] - 1) // 2]
    return out


def ridge_share(luma: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """For each of the ``n`` labels (int32 HxW, 0 = background), the share (float64, n) of its
    centre line where it is a ridge of the picture ``luma``.

    At a centre pixel (a local maximum of the distance to the line's edge) the picture is
    sampled ``RIDGE_GAP`` px beyond the line's edge (its median half-width) on both sides,
    across the line's local direction (from the structure tensor of the mask). It is a ridge
    there when the line is brighter (or darker) than both sides by more than ``RIDGE_RATIO``
    times the difference between the sides: a scratch over the picture has alike sides, the
    rim or edge of an object lies between two different regions.
    """
    mask = (labels > 0).view(np.uint8)
    y = cv2.GaussianBlur(luma, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    rows_, cols_, normals = [], [], []
    h = mask.shape[0]
    for b0 in range(0, h, _BAND):  # the line's direction band by band: no full-size tensor
        b1 = min(h, b0 + _BAND)
        t0, t1 = max(0, b0 - _TENSOR_REACH), min(h, b1 + _TENSOR_REACH)
        if not mask[b0:b1].any():
            continue
        d = dist[t0:t1]
        core = slice(b0 - t0, b1 - t0)
        peak = cv2.dilate(d, np.ones((3, 3), np.uint8))[core]
        centre = (mask[b0:b1] > 0) & (d[core] >= peak - 1e-3)
        soft = cv2.GaussianBlur(mask[t0:t1].astype(np.float32), (0, 0), 1.5)
        gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3)
        r, c = np.nonzero(centre)
        jxx = cv2.GaussianBlur(gx * gx, (0, 0), 3.0)[core][r, c]
        jyy = cv2.GaussianBlur(gy * gy, (0, 0), 3.0)[core][r, c]
        jxy = cv2.GaussianBlur(gx * gy, (0, 0), 3.0)[core][r, c]
        rows_.append(r + b0)
        cols_.append(c)
        normals.append(0.5 * np.arctan2(2 * jxy, jxx - jyy))  # direction across the line
    if not rows_:
        return np.zeros(n)
    rows, cols, normal = np.concatenate(rows_), np.concatenate(cols_), np.concatenate(normals)
    lab = labels[rows, cols]
    reach = _median_by_label(dist[rows, cols], lab, n)[lab] + RIDGE_GAP
    dx, dy = np.cos(normal) * reach, np.sin(normal) * reach
    line = y[rows, cols]
    a = _sample(y, cols + dx, rows + dy)
    b = _sample(y, cols - dx, rows - dy)
    da, db = line - a, line - b
    ridge = np.where(np.sign(da) == np.sign(db), np.minimum(np.abs(da), np.abs(db)), 0.0)
    is_ridge = ridge >= RIDGE_RATIO * (np.abs(a - b) + 0.01)
    total = np.bincount(lab, minlength=n)
    hits = np.bincount(lab, weights=is_ridge, minlength=n)
    return hits / np.maximum(total, 1)


def tear_mask(image: np.ndarray) -> np.ndarray:
    """Torn corners and missing areas (bool HxW): large, flat, paper-white (or black) regions
    touching the border. ``image`` float32 HxWx3 [0,1]."""
    y = luminance(image)
    h, w = y.shape
    mean = cv2.blur(y, (7, 7))
    var = cv2.blur(y * y, (7, 7)) - mean * mean
    chroma = image.max(axis=2) - image.min(axis=2)
    flat = (var < 0.02**2) & (chroma < 0.12)
    out = np.zeros((h, w), bool)
    for extreme in (flat & (mean > 0.85), flat & (mean < 0.06)):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(extreme.view(np.uint8), 8)
        if n <= 1:
            continue
        x0, y0 = stats[:, 0], stats[:, 1]
        x1, y1 = x0 + stats[:, 2], y0 + stats[:, 3]
        border = (x0 == 0) | (y0 == 0) | (x1 == w) | (y1 == h)
        keep = border & (stats[:, 4] >= max(64, 0.002 * h * w))
        keep[0] = False
        out |= keep[labels]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
    return cv2.dilate(out.view(np.uint8), kernel).astype(bool)


@dataclass(frozen=True)
class Region:
    """One detected damage region: its label in :attr:`DefectRegions.labels`, its kind
    (``dust``, ``scratches``, ``tears`` or ``spots``), bounding box ``(x0, y0, x1, y1)``
    (exclusive end), area in pixels and confidence in [0, 1] (the highest network probability
    inside it, lowered by the tests of :func:`_add_regions`; a tear, asked for by name, is 1; a
    spot's comes from its colour, :mod:`photofix.ops.spots`). ``confident``
    regions are those one-step ``remove-defects`` fills; ``held`` ones were confident but over
    the one-step cap (:func:`_cap_one_step`).
    """

    label: int
    kind: str
    box: tuple[int, int, int, int]
    area: int
    confidence: float
    held: bool = False  # confident, but over the one-step cap (ONE_STEP_CAP): left for review

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT[self.kind] and not self.held


@dataclass
class DefectRegions:
    """Everything ``detect-defects`` found, as data: ``labels`` (int32 HxW, 0 = nothing, else
    the label of a :class:`Region`) and ``regions`` (in label order, label = index + 1).

    A GUI can list the regions by confidence and let the user accept them one by one
    (:meth:`mask` of the chosen labels); the default proposal is all of them, one-step
    ``remove-defects`` fills only the confident ones."""

    labels: np.ndarray
    regions: list[Region]

    def mask(self, which: Iterable[int] | None = None) -> np.ndarray:
        """bool HxW of the regions with these labels (all regions when ``which`` is None)."""
        if which is None:
            return self.labels > 0
        keep = np.zeros(len(self.regions) + 1, bool)
        keep[np.fromiter(which, np.intp)] = True
        keep[0] = False
        return keep[self.labels]

    def confident_mask(self) -> np.ndarray:
        return self.mask(r.label for r in self.regions if r.confident)

    def region_mask(self, region: Region) -> np.ndarray:
        return self.labels == region.label


_TENSOR_REACH = 24  # rows beyond a band that its line directions depend on (blurs σ 1.5 and 3)


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


def grain_contrast(luma: np.ndarray, comp: np.ndarray, n: int, scale: np.ndarray) -> np.ndarray:
    """Each component's contrast against its 2-4 px ring in units of the local grain scale
    ``scale`` (:func:`grain_scale`) averaged over the component (float64, n). Grain itself
    makes "specks" of a few scales; a real speck of dust stands far above it."""
    mean_c, mean_r, _ = ring_means(luma, comp, n)
    s = component_means(scale, comp, n)
    return np.abs(mean_c - mean_r) / np.maximum(s, defect_net.SCALE_FLOOR)


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
            a = _sample(y, p[:, 0] + gap * normal[0], p[:, 1] + gap * normal[1])
            b = _sample(y, p[:, 0] - gap * normal[0], p[:, 1] - gap * normal[1])
            side = np.maximum(a, b) if polarity > 0 else np.minimum(a, b)
            contrast.append(float(np.median(polarity * (_sample(y, p[:, 0], p[:, 1]) - side))))
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
    k = _TENSOR_REACH
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
    a = _sample(y, cx + nx * edge, cy + ny * edge)
    b = _sample(y, cx - nx * edge, cy - ny * edge)
    sides = _sample(y, cx + nx * out, cy + ny * out) + _sample(y, cx - nx * out, cy - ny * out)
    contrast = polarity * (y[r + origin[1], c + origin[0]] - sides / 2)
    on = contrast > 0  # where it is a line of its polarity (crossing scratches may merge)
    if not on.any():
        return 0.0
    return abs(float(np.median((a - b)[on]))) / max(float(np.median(contrast[on])), ISOLATION_FLOOR)


def _shape_evidence(
    kind: str,
    comp: np.ndarray,
    stats: np.ndarray,
    luma: np.ndarray,
    scale: np.ndarray | None,
) -> np.ndarray:
    """Per component of ``comp`` (labels with their ``stats`` from
    ``cv2.connectedComponentsWithStats``): how well it has the shape of damage that one step
    may fill without review (float64, in [0, 1]); it multiplies the confidence.

    * dust: its contrast against its ring in local grain scales (:func:`grain_contrast`), full
      from ``GRAIN_CONTRAST``: grain, halftone dots and soft highlights are a few scales; and
      a speck on a lattice of look-alikes (:func:`photofix.ops.spots.patterned`: balusters,
      buttons, studs, a wall's holes) is picture content, so it scores 0;
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
    if kind == "dust" and scale is not None:
        out = np.clip(grain_contrast(luma, comp, n, scale) / GRAIN_CONTRAST, 0.0, 1.0)
        if n > 3:
            centres = stats[1:, :2] + stats[1:, 2:4] / 2.0
            sizes = np.maximum(stats[1:, 2], stats[1:, 3]).astype(np.float64)
            out[1:][patterned(centres.astype(np.float64), sizes)] = 0.0
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
    return out


def _add_regions(
    labels: np.ndarray,
    regions: list[Region],
    found: np.ndarray,
    kind: str,
    prob: np.ndarray | None,
    luma: np.ndarray | None = None,
    scale: np.ndarray | None = None,
) -> None:
    """Append the connected components of ``found`` (bool HxW) not yet labelled as regions.
    Confidence: the peak probability, times the share of the region (up to ``CLEAR_SHARE``)
    lying in ``PIECE_CELL``-px pieces that stand out of their surround by at least
    ``ISOLATION_FULL`` ring deviations (:func:`isolation`), so damage over a busy surround
    (halftone, foliage, engraving) is never confident; times the shape evidence of
    :func:`_shape_evidence` (specks far above the grain ``scale``, lines found whole and
    long)."""
    found = found & (labels == 0)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(found.view(np.uint8), connectivity=8)
    if n <= 1:
        return
    conf = np.ones(n)
    if prob is not None:
        conf = np.zeros(n)
        np.maximum.at(conf, comp[found], prob[found])
    if luma is not None:  # piece by piece (PIECE_CELL-px cells), so a long scratch is judged
        # against the print just beside it, not against everything it crosses
        h, w = comp.shape
        cells = (w + PIECE_CELL - 1) // PIECE_CELL
        rows, cols = np.nonzero(found)
        cell = (rows // PIECE_CELL) * cells + cols // PIECE_CELL
        owner = comp[rows, cols].astype(np.int64)
        keys, piece_of = np.unique(owner * (cells * ((h + PIECE_CELL - 1) // PIECE_CELL)) + cell,
                                   return_inverse=True)  # fmt: skip
        pieces = np.zeros(comp.shape, np.int32)
        pieces[rows, cols] = piece_of + 1
        score = np.clip(isolation(luma, pieces, len(keys) + 1) / ISOLATION_FULL, 0.0, 1.0)
        size = np.bincount(piece_of, minlength=len(keys)).astype(np.float64)
        piece_owner = np.zeros(len(keys), np.int64)
        piece_owner[piece_of] = owner
        # the share of the region (by pixels) lying in pieces that stand out clearly
        total = np.bincount(piece_owner, weights=size, minlength=n)
        clear = np.bincount(piece_owner, weights=size * (score[1:] >= 1.0), minlength=n)
        conf *= np.minimum(1.0, (clear / np.maximum(total, 1)) / CLEAR_SHARE)
        conf *= _shape_evidence(kind, comp, stats, luma, scale)
    base = len(regions)
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        regions.append(Region(base + i, kind, (x, y, x + w, y + h), area, float(conf[i])))
    labels[found] = comp[found] + base


def find_regions(
    image: np.ndarray,
    sensitivity: float = 0.5,
    kinds: Iterable[str] = DEFAULT_KINDS,
    progress: Progress | None = None,
) -> DefectRegions:
    """The damage regions of ``image`` (float32 HxWx3 in [0, 1]) with their kind and confidence.

    ``sensitivity`` in [0, 1]: higher finds fainter damage (and more false alarms); 0.5 is the
    measured balance. ``kinds``: any of "dust", "scratches", "tears", "spots".
    """
    kinds = tuple(kinds)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise OperationError(
            f"unknown defect kind {sorted(unknown)[0]!r}; choose from {', '.join(KINDS)}"
        )
    progress = progress or Progress()
    prob = None
    if "dust" in kinds or "scratches" in kinds:
        prob = defect_probabilities(image, progress.sub(0.0, 0.9))
    found = regions_from_probabilities(image, prob, sensitivity, kinds, progress)
    progress.update(1.0, "Defects found")
    return found


def regions_from_probabilities(
    image: np.ndarray,
    prob: np.ndarray | None,
    sensitivity: float = 0.5,
    kinds: Iterable[str] = DEFAULT_KINDS,
    progress: Progress | None = None,
) -> DefectRegions:
    """:func:`find_regions` from DefectNet's probabilities ``prob`` (float32 HxWx2, from
    :func:`defect_probabilities`; None when only tears or spots are asked for)."""
    kinds = tuple(kinds)
    progress = progress or Progress()
    labels = np.zeros(image.shape[:2], np.int32)
    regions: list[Region] = []
    if prob is not None and ("dust" in kinds or "scratches" in kinds):
        luma = luminance(image)
        if "scratches" in kinds:
            lines = scratch_mask(prob[..., 1], sensitivity, luma)
            _add_regions(labels, regions, lines, "scratches", prob[..., 1], luma)
        if "dust" in kinds:
            specks = dust_mask(prob[..., 0], sensitivity)
            scale = grain_scale(luma) if specks.any() else None
            _add_regions(labels, regions, specks, "dust", prob[..., 0], luma, scale)
    if "tears" in kinds:
        progress.check()
        _add_regions(labels, regions, tear_mask(image), "tears", None)
    if "spots" in kinds:
        progress.check()
        spots, spot_confidence = spot_regions(image, sensitivity)
        _add_regions(labels, regions, spots, "spots", spot_confidence)
    return DefectRegions(labels, _cap_one_step(labels, regions))


def _cap_one_step(labels: np.ndarray, regions: list[Region]) -> list[Region]:
    """Hold back (``Region.held``) the confident regions past ``ONE_STEP_CAP`` of the picture:
    one step fills the most confident first, and the rest are left for review. Damage over
    more than that share at once (the synthetic benchmark's heaviest is 5 %) is not the sparse
    dust and scratches one unreviewed step is for; a tear, asked for by name, is never held."""
    budget = ONE_STEP_CAP * labels.size
    order = sorted(
        (r for r in regions if r.confident and r.kind != "tears"), key=lambda r: -r.confidence
    )
    held: set[int] = set()
    used = 0.0
    for r in order:
        x0, y0, x1, y1 = r.box
        # the 1-px growth of remove-defects, about one pixel all round the region
        cost = r.area + 2 * ((x1 - x0) + (y1 - y0))
        if used + cost > budget:
            held.add(r.label)
        else:
            used += cost
    if not held:
        return regions
    return [replace(r, held=True) if r.label in held else r for r in regions]


def detect_defects(
    image: np.ndarray,
    sensitivity: float = 0.5,
    kinds: Iterable[str] = DEFAULT_KINDS,
    progress: Progress | None = None,
) -> np.ndarray:
    """The proposed damage mask (bool HxW) of ``image``: every region of :func:`find_regions`."""
    return find_regions(image, sensitivity, kinds, progress).mask()


def parse_kinds(text: str) -> tuple[str, ...]:
    """``"dust,scratches"`` or ``"dust+scratches"`` → a tuple of known kinds."""
    parts = [p.strip().lower() for p in text.replace("+", ",").replace(";", ",").split(",")]
    kinds = tuple(p for p in parts if p)
    if not kinds:
        raise OperationError("kinds must name at least one of " + ", ".join(KINDS))
    for p in kinds:
        if p not in KINDS:
            raise OperationError(f"unknown defect kind {p!r}; choose from {', '.join(KINDS)}")
    return kinds


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    kinds = parse_kinds(params["kinds"])
    mask = detect_defects(layers.image, params["sensitivity"], kinds, ctx.progress)
    if layers.alpha is not None:
        mask &= layers.alpha > 0.5  # transparent areas are not damage
    return layers.replace(mask=mask)


OPERATION = Operation(
    name="detect-defects",
    title="Find dust and scratches",
    summary="Propose a mask of dust, scratches (and optionally tears, spots) to check and inpaint.",
    params=(
        Param("sensitivity", "float", 0.5, "higher finds fainter damage", 0.0, 1.0),
        Param(
            "kinds",
            "str",
            ",".join(DEFAULT_KINDS),
            "what to look for: dust, scratches, tears, spots (foxing) (comma- or plus-separated)",
        ),
    ),
    run=_run,
    writes=("mask",),
    blendable=False,
)
