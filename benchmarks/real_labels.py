"""Hand-checked damage masks of real prints: drafts, per-print edit lists, and the final masks.

    .venv/bin/python benchmarks/real_labels.py draft NAME [--overlay /tmp/x.png]  # look at it
    .venv/bin/python benchmarks/real_labels.py build                             # write masks

The images live in ``../shared/data/real-damage`` (never committed). For each labelled print,
``benchmarks/real_masks/labels.json`` holds how its draft was made and the corrections made by
looking at overlays of its crops at 100-200 %; ``build`` turns them into
``benchmarks/real_masks/<sha1>.png`` (uint8, one kind per pixel, see ``KIND_VALUES``), keyed by the
SHA-1 of the image file so a renamed copy still finds its mask.

Draft (classical, deliberately not DefectNet, so the benchmark does not grade the detector on its
own output):

* a print with a hand-restored version: where the two differ by more than ``diff`` (after a
  σ 1 blur, registered by phase correlation), split into kinds by shape;
* any print: multi-scale white and black top-hats (5, 9, 15 px discs) on the luminance, each
  divided by a robust local noise scale, with hysteresis (seed ``seed``, grow ``grow`` noise
  units); components are kinds by shape (thin and long: crack/scratch; small and compact:
  dust/spot).

Edits, applied in order:

* ``exclude`` (box or polygon, optionally ``only`` one kind): nothing there is damage (real thin
  structure, picture content);
* ``include`` (box, polygon, or ``polyline`` with ``width``, kind): all of it is damage of
  that kind (a polyline: a hand-traced line, drawn ``width`` px wide);
* ``threshold`` (box, kind, ``below`` or ``above`` a luminance): those pixels there are damage
  of that kind, e.g. an emulsion loss (black flakes, bare white glass);
* ``loose`` (box, seed, grow, optional ratio and kind): redo the draft there, more sensitive;
* ``kind`` (box, kind): the drafted damage there is of this kind;
* ``ridge`` (box or polygon, ``polarity`` dark or bright, ``seed``, ``grow``, optional ``sigma``,
  ``min_len``, ``kind``): thin lines there, found by a Hessian ridge filter (the larger
  eigenvalue at scale ``sigma`` over a robust noise scale, hysteresis), kept where a component
  is at least ``min_len`` px long; for faint scratches and cracks that the top-hats break into
  fragments. Marks only clean pixels (kind 0), as crack unless ``kind`` says otherwise;
* ``ignore`` (box or polygon): not scored either way (a plate's edge, an ambiguous smear);
* ``checked`` (box): the region that was looked at, at 200 %; where a print has any,
  everything outside them is ``ignore``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "real-damage"
MASKS = ROOT / "benchmarks" / "real_masks"
LABELS = MASKS / "labels.json"
SPLIT = MASKS / "split.json"

KIND_VALUES = {"crack": 1, "dust": 2, "loss": 3, "ignore": 255}
KIND_COLOURS = {1: (0, 0, 255), 2: (255, 255, 0), 3: (0, 200, 255), 255: (160, 160, 160)}
SCALES = (5, 9, 15)


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def read_luma(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(BGR uint8, luminance float32 in [0, 1]) of an image file."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    y = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
    return bgr, y


def noise_scale(residual: np.ndarray, block: int = 32) -> np.ndarray:
    """Robust local scale of a residual: lower quartile of |r| in blocks, interpolated."""
    h, w = residual.shape
    bh, bw = max(1, h // block), max(1, w // block)
    small = cv2.resize(np.abs(residual), (bw * block, bh * block), interpolation=cv2.INTER_AREA)
    blocks = small.reshape(bh, block, bw, block).transpose(0, 2, 1, 3).reshape(bh, bw, -1)
    q = np.quantile(blocks, 0.25, axis=2).astype(np.float32) / 0.3186
    return np.maximum(cv2.resize(q, (w, h), interpolation=cv2.INTER_LINEAR), 0.004)


def tophat_evidence(y: np.ndarray) -> np.ndarray:
    """Strongest noise-normalised bright or dark top-hat over ``SCALES`` (float32 HxW)."""
    s = cv2.GaussianBlur(y, (0, 0), 0.7)
    best = np.zeros_like(s)
    for size in SCALES:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        white = s - cv2.morphologyEx(s, cv2.MORPH_OPEN, k)
        black = cv2.morphologyEx(s, cv2.MORPH_CLOSE, k) - s
        r = np.maximum(white, black)
        best = np.maximum(best, r / noise_scale(white - black))
    return best


def hysteresis(evidence: np.ndarray, seed: float, grow: float) -> np.ndarray:
    weak = (evidence > grow).astype(np.uint8)
    n, labels = cv2.connectedComponents(weak, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[evidence > seed])] = True
    keep[0] = False
    return keep[labels]


def isolated(y: np.ndarray, found: np.ndarray, ratio: float) -> np.ndarray:
    """Components of ``found`` that stand out of a uniform surround: their mean differs from the
    mean of a 2-px ring around them by more than ``ratio`` times the ring's spread (an edge or a
    corner of an object has a mixed ring and is dropped). For long components the test is made
    piecewise: on 24-px cells of the component."""
    n, labels = cv2.connectedComponents(found.astype(np.uint8), connectivity=8)
    if n <= 1:
        return found
    h, w = y.shape
    cell = (np.arange(h)[:, None] // 24) * ((w + 23) // 24) + np.arange(w)[None, :] // 24
    key = np.where(labels > 0, labels.astype(np.int64) * (cell.max() + 1) + cell, 0)
    _, key = np.unique(key, return_inverse=True)
    key = key.reshape(h, w).astype(np.int32)
    m = key.max() + 1
    k3 = np.ones((3, 3), np.uint8)
    grown = cv2.dilate(key.astype(np.float32), k3, iterations=3).astype(np.int32)
    inner = cv2.dilate((key > 0).astype(np.uint8), k3, iterations=1).astype(bool)
    ring = (grown > 0) & ~inner
    cnt_c = np.bincount(key[key > 0], minlength=m)
    mean_c = np.bincount(key[key > 0], weights=y[key > 0], minlength=m) / np.maximum(cnt_c, 1)
    rk = grown[ring]
    cnt_r = np.bincount(rk, minlength=m)
    mean_r = np.bincount(rk, weights=y[ring], minlength=m) / np.maximum(cnt_r, 1)
    sq_r = np.bincount(rk, weights=y[ring] ** 2, minlength=m) / np.maximum(cnt_r, 1)
    std_r = np.sqrt(np.maximum(sq_r - mean_r**2, 0))
    good = np.abs(mean_c - mean_r) > ratio * std_r + 0.02
    good[0] = False
    # a component stays when most of its cells stand out
    share = np.bincount(labels[key > 0], weights=good[key[key > 0]], minlength=n)
    share /= np.maximum(np.bincount(labels[key > 0], minlength=n), 1)
    keep = share >= 0.5
    keep[0] = False
    return keep[labels]


def kinds_by_shape(found: np.ndarray, dust_max: int = 14) -> np.ndarray:
    """uint8 kind map of a bool mask: components at most ``dust_max`` px across and not thin
    are dust/spot, others crack/scratch (a loss is only ever marked by hand)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(found.astype(np.uint8), 8)
    size = np.maximum(stats[:, 2], stats[:, 3])
    kind = np.where(size <= dust_max, KIND_VALUES["dust"], KIND_VALUES["crack"]).astype(np.uint8)
    kind[0] = 0
    return kind[labels]


def restored_difference(path: Path, restored: Path, diff: float) -> np.ndarray:
    _, y = read_luma(path)
    _, r = read_luma(restored)
    if r.shape != y.shape:
        r = cv2.resize(r, (y.shape[1], y.shape[0]), interpolation=cv2.INTER_AREA)
    (dx, dy), _ = cv2.phaseCorrelate(y.astype(np.float64), r.astype(np.float64))
    m = np.float32([[1, 0, -dx], [0, 1, -dy]])
    r = cv2.warpAffine(r, m, (y.shape[1], y.shape[0]), borderMode=cv2.BORDER_REFLECT)
    d = np.abs(cv2.GaussianBlur(y, (0, 0), 1.0) - cv2.GaussianBlur(r, (0, 0), 1.0))
    return hysteresis(d, diff, diff / 2)


def hessian_eigenvalues(y: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(larger, smaller) eigenvalue of the Hessian of ``y`` after a σ ``sigma`` Gaussian."""
    s = cv2.GaussianBlur(y, (0, 0), sigma)
    dxx = cv2.Sobel(s, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(s, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(s, cv2.CV_32F, 1, 1, ksize=3)
    tr, det = dxx + dyy, dxx * dyy - dxy * dxy
    disc = np.sqrt(np.maximum(tr * tr / 4 - det, 0))
    return tr / 2 + disc, tr / 2 - disc


def ridge_lines(
    y: np.ndarray,
    region: np.ndarray,
    polarity: str,
    seed: float,
    grow: float,
    sigma: float = 1.2,
    min_len: int = 20,
) -> np.ndarray:
    """Thin dark (or bright) lines in ``region``: the Hessian's larger (dark) or smaller
    (bright) eigenvalue at scale ``sigma``, over a robust noise scale, with hysteresis; only
    components whose bounding box is at least ``min_len`` px long on its longer side."""
    big, small = hessian_eigenvalues(y, sigma)
    # a dark line: strong positive curvature across it, little along it
    r = (
        np.maximum(big - np.abs(small), 0)
        if polarity == "dark"
        else np.maximum(-small - np.abs(big), 0)
    )
    scale = noise_scale(big if polarity == "dark" else small, 32)
    ev = np.where(region, r / scale, 0)
    found = hysteresis(ev, seed, grow)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(found.astype(np.uint8), 8)
    keep = np.maximum(stats[:, 2], stats[:, 3]) >= min_len
    keep[0] = False
    return keep[labels]


def _region(edit: dict, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    if "polyline" in edit:
        cv2.polylines(out, [np.int32(edit["polyline"])], False, 1, int(edit.get("width", 2)))
    elif "box" in edit:
        x0, y0, x1, y1 = edit["box"]
        out[max(0, y0) : y1, max(0, x0) : x1] = 1
    else:
        cv2.fillPoly(out, [np.int32(edit["polygon"])], 1)
    return out.astype(bool)


def draft(entry: dict) -> np.ndarray:
    """The corrected kind map (uint8 HxW) of one labels.json entry."""
    path = DATA / entry["file"]
    _, y = read_luma(path)
    d = entry.get("draft", {})
    if "restored" in entry:
        found = restored_difference(path, DATA / entry["restored"], d.get("diff", 0.08))
    else:
        ev = tophat_evidence(y)
        dust_max = d.get("dust_max", 14)
        specks = hysteresis(ev, d.get("dust_seed", 7.0), d.get("dust_seed", 7.0) / 2)
        specks = isolated(y, specks, d.get("ratio", 1.5))
        specks = kinds_by_shape(specks, dust_max) == KIND_VALUES["dust"]
        lines = hysteresis(ev, d.get("seed", 12.0), d.get("grow", 6.0))
        lines = isolated(y, lines, d.get("ratio", 1.5))
        lines = kinds_by_shape(lines, dust_max) == KIND_VALUES["crack"]
        found = specks | lines
    kind = kinds_by_shape(found, d.get("dust_max", 14))
    ev_cache: np.ndarray | None = None
    for edit in entry.get("edits", []):
        region = _region(edit, y.shape)
        op = edit["op"]
        if op == "exclude":  # optionally only the damage of one kind
            only = KIND_VALUES[edit["only"]] if "only" in edit else None
            kind[region & ((kind == only) if only else True)] = 0
        elif op == "include":
            kind[region] = KIND_VALUES[edit["kind"]]
        elif op == "ignore":
            kind[region] = KIND_VALUES["ignore"]
        elif op == "kind":
            kind[region & (kind > 0) & (kind < 255)] = KIND_VALUES[edit["kind"]]
        elif op == "loose":
            if ev_cache is None:
                ev_cache = tophat_evidence(y)
            extra = hysteresis(np.where(region, ev_cache, 0), edit["seed"], edit["grow"])
            extra = isolated(y, extra, edit.get("ratio", d.get("ratio", 1.5)))
            new = kinds_by_shape(extra, d.get("dust_max", 14))
            if "kind" in edit:
                new[new > 0] = KIND_VALUES[edit["kind"]]
            kind = np.where((kind == 0) & (new > 0), new, kind)
        elif op == "ridge":
            extra = ridge_lines(
                y,
                region,
                edit.get("polarity", "dark"),
                edit["seed"],
                edit["grow"],
                edit.get("sigma", 1.2),
                edit.get("min_len", 20),
            )
            kind[extra & (kind == 0)] = KIND_VALUES[edit.get("kind", "crack")]
        elif op == "threshold":  # e.g. an emulsion loss: the dark (or white) pixels there
            level = cv2.GaussianBlur(y, (0, 0), 1.0)
            hit = level < edit["below"] if "below" in edit else level > edit["above"]
            kind[region & hit] = KIND_VALUES[edit["kind"]]
        elif op == "checked":
            pass
        else:
            raise SystemExit(f"unknown edit {op!r} in {entry['file']}")
    checked = [e for e in entry.get("edits", []) if e["op"] == "checked"]
    if checked:  # only what was looked at is scored
        looked = np.zeros(y.shape, bool)
        for edit in checked:
            looked |= _region(edit, y.shape)
        kind[~looked] = KIND_VALUES["ignore"]
    return kind


def overlay(bgr: np.ndarray, kind: np.ndarray, box: list[int] | None, zoom: float) -> np.ndarray:
    """The crop side by side with its labelled version (colour per kind)."""
    if box:
        x0, y0, x1, y1 = box
        bgr, kind = bgr[y0:y1, x0:x1], kind[y0:y1, x0:x1]
    ov = bgr.copy()
    for v, c in KIND_COLOURS.items():
        ov[kind == v] = (0.35 * ov[kind == v] + 0.65 * np.array(c)).astype(np.uint8)
    both = np.concatenate([bgr, np.full((bgr.shape[0], 6, 3), 255, np.uint8), ov], 1)
    if zoom != 1:
        both = cv2.resize(both, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    return both


def load_labels(path: Path = LABELS) -> list[dict]:
    return json.loads(path.read_text())["prints"]


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draft")
    d.add_argument("name")
    d.add_argument("--overlay", default="/tmp/real_overlay.png")
    d.add_argument("--box", type=int, nargs=4)
    d.add_argument("--zoom", type=float, default=1.0)
    d.add_argument("--labels", type=Path, default=LABELS, help="another edit list than labels.json")
    sub.add_parser("build")
    args = parser.parse_args()
    entries = load_labels(getattr(args, "labels", LABELS))
    if args.cmd == "draft":
        entry = next(e for e in entries if Path(e["file"]).name == args.name)
        kind = draft(entry)
        bgr, _ = read_luma(DATA / entry["file"])
        cv2.imwrite(args.overlay, overlay(bgr, kind, args.box, args.zoom))
        share = {k: 100 * float((kind == v).mean()) for k, v in KIND_VALUES.items()}
        print(json.dumps({"file": entry["file"], "percent": share}))
        return
    if not DATA.is_dir():
        sys.exit(f"{DATA} is not here")
    for entry in entries:
        path = DATA / entry["file"]
        digest = sha1(path)
        if entry.get("sha1") and entry["sha1"] != digest:
            sys.exit(f"{entry['file']}: SHA-1 {digest} is not the labelled {entry['sha1']}")
        kind = draft(entry)
        cv2.imwrite(str(MASKS / f"{digest}.png"), kind, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(entry["file"], digest, {k: int((kind == v).sum()) for k, v in KIND_VALUES.items()})


if __name__ == "__main__":
    main()
