"""``detect-defects``: a proposed damage mask (dust, scratches, tears, spots, film lines) for
the user to edit.

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
  soft, darker blotches larger than dust; only clearly brown, isolated ones are confident;
* film lines (opt-in, classical, :mod:`photofix.ops.film_lines`): the long, thin, vertical
  scratches of motion-picture film, which DefectNet misses; only lines running nearly the
  frame's whole height, strong and alike on both sides, are confident.

The mask is tight (the visible damage); ``remove-defects`` grows it by a pixel before filling so
the soft edges of a scratch go too. One-step ``remove-defects`` fills only the confident
regions, and never DefectNet's scratch lines (``REVIEW_ONLY``): on real scans every sure one
measured was picture content, so they wait for the user's review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from photofix.core.errors import OperationError
from photofix.inference.device import DevicePolicy
from photofix.inference.progress import Progress
from photofix.inference.runner import runner_for
from photofix.models import defect_net
from photofix.ops.defect_shapes import (
    RIDGE_GAP,
    TENSOR_REACH,
    grain_scale,
    isolation,
    sample,
    shape_evidence,
)
from photofix.ops.film_lines import film_lines
from photofix.ops.registry import Layers, OpContext, Operation, Param
from photofix.ops.rings import BAND as _BAND
from photofix.ops.spots import spot_regions

KINDS = ("dust", "scratches", "tears", "spots", "film-lines")
DEFAULT_KINDS = ("dust", "scratches")

THRESHOLD = 0.5  # probability for a seed at the default sensitivity; growing goes to half of it
DUST_MAX_SIZE = 12  # px across
MIN_SCRATCH_LENGTH = 48  # px from end to end
RIDGE_RATIO = 1.0  # a line pixel is a ridge when it differs from both sides more than they do
RIDGE_SHARE = 0.5  # a scratch must be a ridge along at least this share of its centre line
TILE = 512
# a region is sure from this confidence on (and filled by one-step remove-defects, but for
# the kinds of REVIEW_ONLY)
CONFIDENT = {"dust": 0.9, "scratches": 0.9, "tears": 0.0, "spots": 0.9, "film-lines": 0.9}
# kinds one step never fills, however sure: DefectNet's scratch lines. On the 28 real damaged
# prints and 22 clean controls, every sure scratch region (7 of 7: a walking stick, a rail, a
# rake's handle, a roof beam, a coat seam, a sleeve's edge, a path's dark edge) was picture
# content, and on the hand-checked boxes sure scratches score precision 0 on both splits; a
# long thin line that is a ridge is a scratch or a pole, and only knowing what a pole is tells
# them apart. They stay proposed, with their confidence, for the user to accept one by one.
REVIEW_ONLY = frozenset({"scratches"})
ISOLATION_FULL = 4.0  # ring standard deviations a region must stand out by to keep its peak
PIECE_CELL = 24  # px: long regions are judged piece by piece on cells of this size
CLEAR_SHARE = 0.5  # a region keeps its peak where at least this share stands out clearly
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


def defect_probabilities(
    image: np.ndarray, progress: Progress | None = None, device: DevicePolicy | None = None
) -> np.ndarray:
    """DefectNet's probabilities, float32 HxWx2 (dust, scratches) in [0, 1], for ``image``
    (float32 HxWx3 in [0, 1]), through the shared model runner on the device ``device`` picks
    (the step record gets the model, its weights' SHA-256, device, precision and tile)."""
    progress = progress or Progress()
    progress.update(0.0, "Measuring grain and lines")
    # computed tile by tile, so the four feature maps are never held whole
    features = defect_net.TiledFeatures(image)
    runner = runner_for(defect_net.SPEC, device)
    return runner.run(features, progress=progress, tile=TILE)  # type: ignore[arg-type]


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
        t0, t1 = max(0, b0 - TENSOR_REACH), min(h, b1 + TENSOR_REACH)
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
    a = sample(y, cols + dx, rows + dy)
    b = sample(y, cols - dx, rows - dy)
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
    (``dust``, ``scratches``, ``tears``, ``spots`` or ``film-lines``), bounding box
    ``(x0, y0, x1, y1)`` (exclusive end), area in pixels and confidence in [0, 1] (the highest
    network probability inside it, lowered by the tests of :func:`_add_regions`; a tear, asked
    for by name, is 1; a spot's comes from its colour, :mod:`photofix.ops.spots`; a film
    line's from its length, strength and symmetry, :mod:`photofix.ops.film_lines`).
    ``sure`` regions reach their kind's bar (``CONFIDENT``); ``confident`` ones are those
    one-step ``remove-defects`` fills: sure, of a kind not in ``REVIEW_ONLY``, not ``held``
    (sure but over the one-step cap, :func:`_cap_one_step`) and not ``crowded`` (a speck with
    many undetected blobs like it around it, :func:`~photofix.ops.defect_shapes.lookalikes`:
    a facade's windows, gravel, a crowd).
    """

    label: int
    kind: str
    box: tuple[int, int, int, int]
    area: int
    confidence: float
    held: bool = False  # confident, but over the one-step cap (ONE_STEP_CAP): left for review
    crowded: bool = False  # a speck among undetected look-alikes: left for review

    @property
    def sure(self) -> bool:
        """The confidence reaches the kind's bar (``CONFIDENT``)."""
        return self.confidence >= CONFIDENT[self.kind]

    @property
    def confident(self) -> bool:
        """Filled by one-step ``remove-defects``: sure, not held or crowded, of a kind one step
        fills."""
        return self.sure and not self.held and not self.crowded and self.kind not in REVIEW_ONLY


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


def _add_regions(
    labels: np.ndarray,
    regions: list[Region],
    found: np.ndarray,
    kind: str,
    prob: np.ndarray | None,
    luma: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    detected: np.ndarray | None = None,
) -> None:
    """Append the connected components of ``found`` (bool HxW) not yet labelled as regions.
    Confidence: the peak probability, times the share of the region (up to ``CLEAR_SHARE``)
    lying in ``PIECE_CELL``-px pieces that stand out of their surround by at least
    ``ISOLATION_FULL`` ring deviations (:func:`isolation`), so damage over a busy surround
    (halftone, foliage, engraving) is never confident; times the shape evidence of
    :func:`~photofix.ops.defect_shapes.shape_evidence` (specks far above the grain ``scale``,
    lines found whole and long)."""
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
        evidence, crowded = shape_evidence(kind, comp, stats, luma, scale, detected)
        conf *= evidence
    else:
        crowded = np.zeros(n, bool)
    base = len(regions)
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        box = (x, y, x + w, y + h)
        regions.append(Region(base + i, kind, box, area, float(conf[i]), crowded=bool(crowded[i])))
    labels[found] = comp[found] + base


def find_regions(
    image: np.ndarray,
    sensitivity: float = 0.5,
    kinds: Iterable[str] = DEFAULT_KINDS,
    progress: Progress | None = None,
    device: DevicePolicy | None = None,
) -> DefectRegions:
    """The damage regions of ``image`` (float32 HxWx3 in [0, 1]) with their kind and confidence.

    ``sensitivity`` in [0, 1]: higher finds fainter damage (and more false alarms); 0.5 is the
    measured balance. ``kinds``: any of "dust", "scratches", "tears", "spots", "film-lines".
    ``device``:
    where DefectNet runs (the default policy: an accelerator when there is one).
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
        prob = defect_probabilities(image, progress.sub(0.0, 0.9), device)
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
    :func:`defect_probabilities`; None when only tears, spots or film lines are asked for)."""
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
            # what either head found at all: a speck's look-alikes among it are damage too
            detected = prob.max(axis=2) > _thresholds(sensitivity)[1] if specks.any() else None
            _add_regions(labels, regions, specks, "dust", prob[..., 0], luma, scale, detected)
    if "tears" in kinds:
        progress.check()
        _add_regions(labels, regions, tear_mask(image), "tears", None)
    if "spots" in kinds:
        progress.check()
        spots, spot_confidence = spot_regions(image, sensitivity)
        _add_regions(labels, regions, spots, "spots", spot_confidence)
    if "film-lines" in kinds:
        progress.check()
        lines, line_confidence = film_lines(luminance(image), sensitivity)
        _add_regions(labels, regions, lines, "film-lines", line_confidence)
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
    device: DevicePolicy | None = None,
) -> np.ndarray:
    """The proposed damage mask (bool HxW) of ``image``: every region of :func:`find_regions`."""
    return find_regions(image, sensitivity, kinds, progress, device).mask()


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
    mask = detect_defects(layers.image, params["sensitivity"], kinds, ctx.progress, ctx.device)
    if layers.alpha is not None:
        mask &= layers.alpha > 0.5  # transparent areas are not damage
    return layers.replace(mask=mask)


OPERATION = Operation(
    name="detect-defects",
    title="Find dust and scratches",
    summary=(
        "Propose a mask of dust, scratches (and optionally tears, spots, film lines) to check"
        " and inpaint."
    ),
    params=(
        Param("sensitivity", "float", 0.5, "higher finds fainter damage", 0.0, 1.0),
        Param(
            "kinds",
            "str",
            ",".join(DEFAULT_KINDS),
            "what to look for: dust, scratches, tears, spots (foxing), film-lines (vertical film"
            " scratches) (comma- or plus-separated)",
        ),
    ),
    run=_run,
    writes=("mask",),
    blendable=False,
)
