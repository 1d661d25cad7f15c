"""Rebuild ``sample_scan.jpg``: a public-domain photograph made to look like an old, damaged print.

Source: NASA portrait of astronaut Eileen Collins (public domain), as shipped by scikit-image
(``skimage.data.astronaut()``). Degradations, all synthetic and seeded so the file is
reproducible: dye fade with a red-magenta cast and lifted blacks, scan softness, film grain,
dust specks, a few long bright and dark scratches, and a crease. Run:

    .venv/bin/python resources/samples/make_sample.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

HERE = Path(__file__).resolve().parent


def degrade(rgb: np.ndarray, seed: int = 1936) -> np.ndarray:
    """The damaged print (uint8 HxWx3) made from ``rgb`` (uint8 HxWx3)."""
    return degrade_with_truth(rgb, seed)[0]


def degrade_with_truth(rgb: np.ndarray, seed: int = 1936) -> tuple[np.ndarray, np.ndarray]:
    """The damaged print (uint8 HxWx3) and where its dust, scratches and crease are visible
    (bool HxW: changed by more than 0.04 from the faded, grainy print under them)."""
    rng = np.random.default_rng(seed)
    x = rgb.astype(np.float32) / 255.0
    h, w = x.shape[:2]
    # dye fade: cyan fades first (red stays), blacks lift, contrast drops
    lift = np.array([0.20, 0.12, 0.13], np.float32)
    gain = np.array([0.78, 0.62, 0.60], np.float32)
    gamma = np.array([0.85, 1.05, 1.0], np.float32)
    x = lift + gain * np.power(x, gamma)
    # scan softness and grain (luminance-correlated)
    x = cv2.GaussianBlur(x, (0, 0), 0.8)
    grain = rng.normal(0, 0.035, (h, w, 1)).astype(np.float32)
    x = x + grain * (0.6 + 0.4 * x)
    undamaged = np.clip(x, 0, 1)
    # dust: small bright and dark specks
    for _ in range(140):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        r = float(rng.uniform(0.6, 2.6))
        v = 0.97 if rng.random() < 0.6 else 0.08
        cv2.circle(x, (int(cx), int(cy)), max(1, round(r)), (v, v, v), -1, cv2.LINE_AA)
    # scratches: long, thin, slightly curved
    for i in range(6):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h * 0.2)
        angle = rng.uniform(-0.35, 0.35) + np.pi / 2
        bend = rng.uniform(-0.002, 0.002)
        length = rng.uniform(0.5, 0.95) * h
        t = np.linspace(0, length, 200)
        xs = x0 + np.cos(angle) * t + bend * t**2
        ys = y0 + np.sin(angle) * t
        pts = np.stack([xs, ys], 1).round().astype(np.int32)
        v = 0.95 if i % 3 else 0.12
        cv2.polylines(x, [pts], False, (v, v, v), 1 + (i % 2), cv2.LINE_AA)
    # a crease: a bright, ragged diagonal line
    pts = np.array(
        [
            [0, int(h * 0.7)],
            [int(w * 0.3), int(h * 0.62)],
            [int(w * 0.6), int(h * 0.66)],
            [w - 1, int(h * 0.55)],
        ],
        np.int32,
    )
    cv2.polylines(x, [pts], False, (0.9, 0.88, 0.85), 2, cv2.LINE_AA)
    x = np.clip(x, 0, 1)
    damage = np.abs(x - undamaged).max(axis=2) > 0.04
    return (x * 255 + 0.5).astype(np.uint8), damage


def main() -> None:
    out = HERE / "sample_scan.jpg"
    Image.fromarray(degrade(data.astronaut())).save(out, quality=92, dpi=(300, 300))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
