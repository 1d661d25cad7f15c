"""Thin-damage masks for judging (and training) fills: cracks, scratches, hair and dust shapes.

Three sources, mixed per picture:

* **crack networks**: branching, wandering strokes 1-8 px wide, as a cracked emulsion or a
  craquelure shows them (a random walk with persistent direction that forks now and then);
* **scratches**: long straight or gently curved strokes 1-8 px wide
  (:func:`benchmarks.synthetic_defects.add_scratches`);
* **real shapes**: dust, dirt, hair and scratch marks outlined by hand on real 35 mm scans
  (``../shared/data/real-damage/dust-shape-masks``, MIT, DustyScans), cut out one by one, kept
  when they are at most 8 px thick, and pasted at random places, turns and flips. Without that
  folder this source is skipped (and the report says so).

Every mask is grown by 1 px at the end, as ``remove-defects`` grows what it finds. Masks are bool
HxW; everything is seeded by the ``rng`` passed in.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from benchmarks import synthetic_defects as sd

SHAPES_DIR = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "real-damage"
    / "dust-shape-masks"
)
MAX_THICK = 8.0  # px: shapes thicker than this are not thin damage
WIDTHS = (1, 1.5, 2, 3, 4, 5, 6, 8)


def crack_mask(shape: tuple[int, int], rng: np.random.Generator, coverage: float) -> np.ndarray:
    """Branching crack networks until ``coverage`` of the area is hit (bool HxW)."""
    h, w = shape
    canvas = np.zeros((h, w), np.uint8)
    shift = 3
    for _ in range(60):
        if np.count_nonzero(canvas) >= coverage * h * w:
            break
        width = float(rng.choice(WIDTHS))
        stack = [(rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, 2 * np.pi), 0)]
        budget = rng.uniform(0.3, 1.0) * max(h, w) * 1.5
        while stack and budget > 0:
            x, y, angle, depth = stack.pop()
            pts = [(x, y)]
            for _ in range(int(rng.integers(4, 30))):
                angle += rng.normal(0.0, 0.35)
                step = rng.uniform(3.0, 10.0)
                x, y = x + np.cos(angle) * step, y + np.sin(angle) * step
                pts.append((x, y))
                budget -= step
                if depth < 3 and rng.random() < 0.06:  # a fork
                    side = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.3)
                    stack.append((x, y, angle + side, depth + 1))
            p = (np.array(pts) * (1 << shift)).round().astype(np.int32)
            thick = max(1, round(width * (0.7**depth)))
            cv2.polylines(canvas, [p], False, 255, thick, cv2.LINE_AA, shift)
    return canvas > 127


@lru_cache(maxsize=1)
def shape_bank(folder: Path = SHAPES_DIR) -> tuple[np.ndarray, ...]:
    """The real marks of ``folder``'s ``*_labels.png`` that are at most ``MAX_THICK`` px thick,
    each cropped to its box (bool arrays); empty when the folder is absent."""
    shapes: list[np.ndarray] = []
    for path in sorted(Path(folder).glob("*_labels.png")):
        lab = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if lab is None:
            continue
        m = (lab > 0).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        for i in range(1, n):
            x, y, bw, bh, area = stats[i]
            if area < 3 or max(bw, bh) > 160:
                continue
            piece = labels[y : y + bh, x : x + bw] == i
            thick = 2 * cv2.distanceTransform(np.pad(piece, 1).astype(np.uint8), cv2.DIST_L2, 3)
            if thick.max() <= MAX_THICK:
                shapes.append(piece)
    return tuple(shapes)


def shape_mask(shape: tuple[int, int], rng: np.random.Generator, coverage: float) -> np.ndarray:
    """Real dust/hair/scratch shapes pasted until ``coverage`` is hit (all False without them)."""
    h, w = shape
    out = np.zeros((h, w), bool)
    bank = shape_bank()
    if not bank:
        return out
    hit, goal = 0, coverage * h * w
    for _ in range(200_000):
        if hit >= goal:
            break
        piece = bank[int(rng.integers(len(bank)))]
        piece = np.rot90(piece, int(rng.integers(4)))
        if rng.random() < 0.5:
            piece = piece[::-1]
        ph, pw = piece.shape
        if ph >= h or pw >= w:
            continue
        y, x = int(rng.integers(0, h - ph)), int(rng.integers(0, w - pw))
        region = out[y : y + ph, x : x + pw]
        hit += int(np.count_nonzero(piece & ~region))
        region |= piece
    return out


def thin_damage_mask(
    shape: tuple[int, int], rng: np.random.Generator, coverage: float = 0.03
) -> np.ndarray:
    """Cracks, scratches and real shapes (a third of ``coverage`` each; shapes' share goes to
    cracks when the real shapes are absent), grown by 1 px."""
    has_shapes = bool(shape_bank())
    third = coverage / 3
    m = crack_mask(shape, rng, third if has_shapes else 2 * third)
    m |= _stroke_truth(shape, rng, third)
    if has_shapes:
        m |= shape_mask(shape, rng, third)
    return cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def _stroke_truth(shape: tuple[int, int], rng: np.random.Generator, coverage: float) -> np.ndarray:
    """Scratch strokes drawn on mid-gray (``add_scratches`` marks only what is visible, so on
    black it would drop the dark scratches)."""
    gray = np.full((*shape, 3), 0.5, np.float32)
    return sd.add_scratches(gray, rng, coverage)[1]
