"""Synthetic print damage with known ground truth, for the defect benchmark and the tests.

Image contract: clean photos are float32 HxWx3 in [0, 1]; every function returns a new damaged
image of the same layout plus a bool HxW mask of the damage. The ground truth is the *visible*
damage: pixels the defect changed by more than ``VISIBLE`` (a white scratch across white sky
changes nothing and needs no repair).

Scratches: polylines (straight or gently curved), 1-8 px wide, bright (emulsion scraped off to
the paper) or dark (a scratch in the negative), with soft anti-aliased edges and a slightly
varying strength along their length. Dust: irregular specks 1-6 px across, bright or dark.
Tears: a torn-off corner or edge strip showing white paper or a black scanner lid. Holes:
irregular blobs 16-128 px across, used only to score the inpainting. ``through_scanner``
then blurs (and JPEG-compresses) damaged and clean print alike, as a scan of a real print would.
"""

from __future__ import annotations

import cv2
import numpy as np

VISIBLE = 0.04


def add_grain(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Film grain: luminance-correlated, slightly blurred Gaussian noise (same in every channel)."""
    h, w = image.shape[:2]
    g = rng.normal(0.0, 1.0, (h, w)).astype(np.float32)
    g = cv2.GaussianBlur(g, (0, 0), 0.5)
    g *= sigma / max(float(g.std()), 1e-6)
    return np.clip(image + g[..., None] * (0.6 + 0.4 * image), 0, 1).astype(np.float32)


def _apply(
    image: np.ndarray, alpha: np.ndarray, value: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``value`` (HxW or scalar) into ``image`` with coverage ``alpha``; return visible gt."""
    a = alpha[..., None]
    v = value[..., None] if np.ndim(value) == 2 else value
    out = (image * (1 - a) + v * a).astype(np.float32)
    visible = np.abs(out - image).max(axis=2) > VISIBLE
    return out, visible


def _curve(rng: np.random.Generator, h: int, w: int, span: float | None = None) -> np.ndarray:
    """A straight or gently curved path (N x 2, x/y) 0.3-1 × ``span`` long (default: the
    picture's long side)."""
    length = rng.uniform(0.3, 1.0) * (span or max(h, w))
    x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
    angle = rng.uniform(0, np.pi)
    bend = 0.0 if rng.random() < 0.5 else rng.uniform(-1.5, 1.5) / length  # radians per px
    n = max(int(length / 2), 2)
    t = np.linspace(-length / 2, length / 2, n)
    theta = angle + bend * t
    dx, dy = np.cos(theta), np.sin(theta)
    xs = x0 + np.cumsum(dx) * (length / n)
    ys = y0 + np.cumsum(dy) * (length / n)
    xs -= xs.mean() - x0
    ys -= ys.mean() - y0
    return np.stack([xs, ys], 1)


def add_scratches(
    image: np.ndarray,
    rng: np.random.Generator,
    coverage: float | None = None,
    span: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Scratches 1-8 px wide until ``coverage`` (default: random 1-5 %) of the area is hit.

    ``span``: scratches are 0.3-1 × this long (default: the picture's long side)."""
    h, w = image.shape[:2]
    coverage = rng.uniform(0.01, 0.05) if coverage is None else coverage
    out, gt = image.copy(), np.zeros((h, w), bool)
    shift = 3
    for _ in range(200):
        if gt.mean() >= coverage:
            break
        width = float(rng.choice([1, 1.5, 2, 3, 4, 5, 6, 8]))
        pts = (_curve(rng, h, w, span) * (1 << shift)).round().astype(np.int32)
        # supersampled coverage for soft, anti-aliased edges
        canvas = np.zeros((h, w), np.uint8)
        cv2.polylines(canvas, [pts], False, 255, max(1, round(width)), cv2.LINE_AA, shift)
        alpha = canvas.astype(np.float32) / 255.0
        if width < 1.2:
            alpha *= 0.9
        # strength varies slowly along the scratch
        strength = rng.uniform(0.6, 1.0)
        alpha *= strength
        bright = rng.random() < 0.6
        value = rng.uniform(0.85, 1.0) if bright else rng.uniform(0.0, 0.15)
        out, visible = _apply(out, alpha, np.float32(value))
        gt |= visible & (alpha > 0.25)
    return out, gt


def _crack_path(
    rng: np.random.Generator, start: np.ndarray, angle: float, length: float
) -> tuple[np.ndarray, np.ndarray]:
    """A jagged crack path (N x 2, x/y) from ``start``: its heading bends slowly and jitters
    step by step (as paper and gelatin break), and the headings along it."""
    step = 1.5
    n = max(int(length / step), 2)
    jag = rng.uniform(0.15, 0.6)  # radians of step-to-step jitter
    heading = angle + np.cumsum(rng.normal(0.0, 0.04, n)) + rng.normal(0.0, jag, n)
    xy = start + np.cumsum(np.stack([np.cos(heading), np.sin(heading)], 1) * step, 0)
    return xy, heading


def add_cracks(
    image: np.ndarray,
    rng: np.random.Generator,
    coverage: float | None = None,
    span: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Crack networks like those of real prints: jagged paths that branch (up to two levels),
    1-6 px wide with the width varying along them, paper-white or dark, from faint to full
    contrast, soft or crisp, until ``coverage`` (default: random 1-4 %) of the area is hit.

    ``span``: a network's main crack is 0.3-1 × this long (default: the picture's long side).
    Ground truth: where the crack is visible (see :func:`_apply`) and covers over a quarter of
    the pixel."""
    h, w = image.shape[:2]
    coverage = rng.uniform(0.01, 0.04) if coverage is None else coverage
    span = span or max(h, w)
    out, gt = image.copy(), np.zeros((h, w), bool)
    shift = 3
    for _ in range(40):
        if gt.mean() >= coverage:
            break
        canvas = np.zeros((h, w), np.uint8)
        width = float(rng.choice([1, 1.5, 2, 2, 3, 3, 4, 6]))
        centre = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        length = rng.uniform(0.3, 1.0) * span
        angle = rng.uniform(0, 2 * np.pi)
        start = centre - length / 2 * np.array([np.cos(angle), np.sin(angle)])
        todo = [(start, angle, length, width, 0)]
        while todo:
            p0, a, ln, wd, depth = todo.pop()
            xy, heading = _crack_path(rng, p0, a, ln)
            for i in range(0, len(xy) - 1, 8):  # the width wanders along the crack
                piece = (xy[i : i + 9] * (1 << shift)).round().astype(np.int32)
                thick = max(1, round(wd * rng.uniform(0.6, 1.3)))
                cv2.polylines(canvas, [piece], False, 255, thick, cv2.LINE_AA, shift)
            if depth < 2:
                for j in rng.integers(0, len(xy), rng.poisson(ln / 80)):
                    turn = rng.choice([-1.0, 1.0]) * rng.uniform(0.4, 1.4)
                    todo.append((xy[j], heading[j] + turn, ln * rng.uniform(0.15, 0.6),
                                 max(1.0, wd * rng.uniform(0.5, 1.0)), depth + 1))  # fmt: skip
        alpha = canvas.astype(np.float32) / 255.0
        if rng.random() < 0.5:
            alpha = cv2.GaussianBlur(alpha, (0, 0), rng.uniform(0.3, 0.9))
        alpha *= rng.uniform(0.35, 1.0)  # faint to full contrast
        bright = rng.random() < 0.65
        value = rng.uniform(0.7, 1.0) if bright else rng.uniform(0.0, 0.3)
        out, visible = _apply(out, alpha, np.float32(value))
        gt |= visible & (alpha > 0.25)
    return out, gt


def add_dust(
    image: np.ndarray, rng: np.random.Generator, count: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Irregular specks 1-6 px across, bright and dark."""
    h, w = image.shape[:2]
    count = int(h * w / 2500) if count is None else count
    out, gt = image.copy(), np.zeros((h, w), bool)
    shift = 3
    for _ in range(count):
        size = rng.uniform(1.0, 6.0)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        canvas = np.zeros((16, 16), np.uint8)
        # a blob: an ellipse with random axes, sometimes two overlapping
        for _ in range(1 if rng.random() < 0.7 else 2):
            ax = max(size / 2 * rng.uniform(0.6, 1.0), 0.5)
            ay = max(size / 2 * rng.uniform(0.6, 1.0), 0.5)
            ox, oy = rng.uniform(-size / 4, size / 4, 2)
            centre = (round((8 + ox) * (1 << shift)), round((8 + oy) * (1 << shift)))
            axes = (round(ax * (1 << shift)), round(ay * (1 << shift)))
            cv2.ellipse(
                canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA,
                shift,
            )  # fmt: skip
        alpha = canvas.astype(np.float32) / 255.0 * rng.uniform(0.7, 1.0)
        x0, y0 = int(cx) - 8, int(cy) - 8
        ys, xs = slice(max(y0, 0), min(y0 + 16, h)), slice(max(x0, 0), min(x0 + 16, w))
        a = alpha[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
        if a.size == 0:
            continue
        bright = rng.random() < 0.6
        value = np.float32(rng.uniform(0.85, 1.0) if bright else rng.uniform(0.0, 0.15))
        patch, visible = _apply(out[ys, xs], a, value)
        out[ys, xs] = patch
        gt[ys, xs] |= visible & (a > 0.25)
    return out, gt


def add_foxing(
    image: np.ndarray, rng: np.random.Generator, count: int | None = None, brown: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Foxing and spots: soft, irregular blotches 0.4-3 % of the long side across, darker than
    the print (by 15-45 %) and, with ``brown``, rust-brown (the blue channel darkens most).
    Ground truth: where the spot is visible (see :func:`_apply`)."""
    h, w = image.shape[:2]
    long_side = max(h, w)
    count = int(rng.integers(4, 16)) if count is None else count
    out, gt = image.copy(), np.zeros((h, w), bool)
    tint = np.array([0.92, 0.72, 0.5] if brown else [0.75, 0.75, 0.75], np.float32)
    for _ in range(count):
        r = rng.uniform(0.002, 0.015) * long_side
        size = int(6 * r) | 1
        yy, xx = np.mgrid[:size, :size].astype(np.float32) - size // 2
        ang = np.arctan2(yy, xx)
        wobble = 1 + 0.25 * np.sin(3 * ang + rng.uniform(0, 6)) + 0.15 * np.sin(5 * ang)
        dist = np.hypot(xx, yy) / (r * wobble)
        alpha = np.clip(1.5 - dist, 0, 1) ** 1.5 * rng.uniform(0.35, 0.9)
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        x0, y0 = cx - size // 2, cy - size // 2
        ys, xs = slice(max(y0, 0), min(y0 + size, h)), slice(max(x0, 0), min(x0 + size, w))
        if ys.stop <= ys.start or xs.stop <= xs.start:
            continue
        a = alpha[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
        region = out[ys, xs]
        spotted = region * (1 - a[..., None] * (1 - tint))
        visible = np.abs(spotted - region).max(axis=2) > VISIBLE
        out[ys, xs] = spotted
        gt[ys, xs] |= visible & (a > 0.15)
    return out.astype(np.float32), gt


def add_tear(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A torn-off corner or a strip torn from one edge: a region reaching in from the border
    (8-25 % of the short side deep) behind a ragged tear line, showing what lay behind the
    print in the scanner: flat white paper (0.88-0.98, faint fibre noise) or a black lid."""
    h, w = image.shape[:2]
    depth = rng.uniform(0.08, 0.25) * min(h, w)
    n = 40
    t = np.linspace(0.0, 1.0, n)
    rough = np.cumsum(rng.normal(0.0, 0.03 * depth, n))
    rough -= np.linspace(rough[0], rough[-1], n)  # ragged, but ending where it started
    along_rows = rng.random() < 0.5  # torn from the top/bottom or from the left/right
    ch, cw = (h, w) if along_rows else (w, h)  # drawn on a canvas with the edge on top
    if rng.random() < 0.6:  # a corner: the tear runs from the top edge to the left edge
        a, b = depth * rng.uniform(0.8, 1.6), depth * rng.uniform(0.8, 1.6)
        line = np.stack([a * (1 - t) + 0.7 * rough, b * t + 0.7 * rough], 1)
        pts = np.concatenate([[[0.0, 0.0]], line])
    else:  # a strip along the top edge, torn unevenly
        length = rng.uniform(0.3, 0.8) * cw
        x0 = rng.uniform(0, cw - length)
        line = np.stack(
            [x0 + length * t, np.maximum(depth * np.sqrt(np.sin(np.pi * t)) + rough, 0)], 1
        )
        pts = np.concatenate([[[x0, 0.0]], line, [[x0 + length, 0.0]]])
    canvas = np.zeros((ch, cw), np.uint8)
    cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 1)
    if rng.random() < 0.5:
        canvas = canvas[::-1]
    if rng.random() < 0.5:
        canvas = canvas[:, ::-1]
    torn = np.ascontiguousarray(canvas if along_rows else canvas.T).astype(bool)
    value = rng.uniform(0.88, 0.98) if rng.random() < 0.7 else rng.uniform(0.0, 0.05)
    fibre = rng.normal(0.0, 0.004, (h, w)).astype(np.float32)
    out, visible = _apply(image, torn.astype(np.float32), np.clip(value + fibre, 0, 1))
    return out, torn & visible


def hole_masks(
    shape: tuple[int, int], rng: np.random.Generator, count: int = 3, sizes=(16, 128)
) -> np.ndarray:
    """Irregular blob-shaped holes ``sizes`` px across (bool HxW)."""
    h, w = shape
    mask = np.zeros((h, w), np.uint8)
    for _ in range(count):
        size = rng.uniform(*sizes)
        cx, cy = rng.uniform(size / 2, w - size / 2), rng.uniform(size / 2, h - size / 2)
        n = 9
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = size / 2 * rng.uniform(0.6, 1.0, n)
        pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def through_scanner(
    clean: np.ndarray,
    damaged: np.ndarray,
    masks: list[np.ndarray],
    rng: np.random.Generator,
    blur: tuple[float, float] = (0.3, 1.2),
    jpeg: float = 0.5,
    quality: tuple[int, int] = (60, 95),
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The damaged print as a scanner and a camera file see it: the optics blur the damage with
    the picture (Gaussian σ drawn from ``blur``), and with probability ``jpeg`` the file is a
    JPEG (quality drawn from ``quality``). The same degradation is applied to the clean and the
    damaged image; each mask (bool HxW) becomes what is still visible: the damage grown by a
    pixel (the blur spreads it), where the two scanned images differ by more than ``VISIBLE``.
    A faint 1-px speck that the blur wipes out is no longer damage to find."""
    sigma = float(rng.uniform(*blur))
    q = int(rng.integers(quality[0], quality[1] + 1)) if rng.random() < jpeg else None

    def scan(image: np.ndarray) -> np.ndarray:
        out = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        if q is None:
            return out.astype(np.float32)
        u8 = (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, q])
        assert ok
        return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255

    clean_s, damaged_s = scan(clean), scan(damaged)
    visible = np.abs(damaged_s - clean_s).max(axis=2) > VISIBLE
    grown = [cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) for m in masks]
    return clean_s, damaged_s, [g & visible for g in grown]


def to_gray(image: np.ndarray) -> np.ndarray:
    y = image @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(y[..., None], 3, axis=2).astype(np.float32)


def to_sepia(image: np.ndarray) -> np.ndarray:
    y = image @ np.array([0.299, 0.587, 0.114], np.float32)
    tone = np.array([1.0, 0.86, 0.66], np.float32)
    return np.clip(0.06 + 0.9 * y[..., None] * tone, 0, 1).astype(np.float32)


def add_catchlights(image: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """Eye-like features that are *not* damage: a dark pupil (radius 3-10 px) with a soft bright
    highlight (the catchlight) in it. Returns the new image; nothing is added to any mask."""
    h, w = image.shape[:2]
    out = image.copy()
    for _ in range(count):
        r = rng.uniform(3, 10)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        size = int(4 * r) | 1
        yy, xx = np.mgrid[:size, :size].astype(np.float32) - size // 2
        dist = np.hypot(xx - (cx % 1), yy - (cy % 1))
        pupil = np.clip(r - dist + 0.5, 0, 1) * rng.uniform(0.6, 1.0)
        hr = rng.uniform(0.8, max(1.0, r / 3))
        ox, oy = rng.uniform(-r / 3, r / 3, 2)
        spot = np.exp(-((xx - ox) ** 2 + (yy - oy) ** 2) / (2 * hr**2)) * rng.uniform(0.7, 1.0)
        x0, y0 = int(cx) - size // 2, int(cy) - size // 2
        ys, xs = slice(max(y0, 0), min(y0 + size, h)), slice(max(x0, 0), min(x0 + size, w))
        if ys.stop <= ys.start or xs.stop <= xs.start:
            continue
        sub = (slice(ys.start - y0, ys.stop - y0), slice(xs.start - x0, xs.stop - x0))
        dark = np.float32(rng.uniform(0.02, 0.15))
        region = out[ys, xs]
        region = region * (1 - pupil[sub][..., None]) + dark * pupil[sub][..., None]
        region = region * (1 - spot[sub][..., None]) + 0.97 * spot[sub][..., None]
        out[ys, xs] = region
    return out.astype(np.float32)
