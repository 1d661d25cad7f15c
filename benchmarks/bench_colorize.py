"""Benchmark of ``colorize:mode=hints`` on colour photographs converted to gray.

For every photo (scikit-image's bundled colour photographs, long side 512 px) and every hint
count (5, 20, 100 random 3×3 patches of the original's colours, several seeds), measures PSNR
(RGB, dB) and mean CIEDE2000 against the original for

- ``ours``: the colorize operation (photofix.ops.colorize, default settings);
- ``nearest``: every pixel gets the chroma of its nearest hint pixel (same luma);
- ``levin`` (20 hints, first seed only): textbook Levin, Lischinski & Weiss 2004 — 3×3
  neighbourhood, ``w ∝ exp(−(Y_r − Y_s)² / 2σ_r²)`` with the local variance, hard hint
  constraints, solved exactly (SuperLU) at the same resolution;

and the time per megapixel of ours, plus one 12-MP run (the 512-px astronaut upscaled to
4000×3000) timed end to end. The gray input is the BT.601 luma of the original, the luminance
the operation keeps, so a perfect chroma would reproduce the original exactly.

Writes ``benchmarks/results/colorize.json`` and ``benchmarks/results/colorize_sheet.png``
(rows: photos; columns: gray + hints, nearest-hint fill, ours, original; 20 hints).

    .venv/bin/python benchmarks/bench_colorize.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import cv2
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy import ndimage
from skimage import color, data

from photofix.core.chroma import chroma, compose, luma
from photofix.ops import REGISTRY, Layers, OpContext, run_operation

RESULTS = Path(__file__).resolve().parent / "results"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle", "immunohistochemistry",
          "hubble_deep_field", "retina")  # fmt: skip
COUNTS = (5, 20, 100)
COLORIZE = REGISTRY.get("colorize")


def load_photo(name: str, long_side: int = 512) -> np.ndarray:
    raw = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    im = raw[..., :3].astype(np.float32) / 255.0
    h, w = im.shape[:2]
    f = long_side / max(h, w)
    if f < 1:
        im = cv2.resize(im, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    return np.clip(im, 0.0, 1.0)


def random_hints(photo: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    mask = np.zeros((h, w), bool)
    for _ in range(n):
        y, x = rng.integers(0, h - 2), rng.integers(0, w - 2)
        mask[y : y + 3, x : x + 3] = True
    return np.where(mask[..., None], photo, 0).astype(np.float32), mask


def nearest_fill(y: np.ndarray, hints: np.ndarray, mask: np.ndarray) -> np.ndarray:
    _, (iy, ix) = ndimage.distance_transform_edt(~mask, return_indices=True)
    return compose(y, chroma(hints)[iy, ix])


def levin(y: np.ndarray, hints: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Textbook Levin et al. 2004 (YUV-style chroma, exact sparse solve)."""
    h, w = y.shape
    n = h * w
    idx = np.arange(n).reshape(h, w)
    mean = cv2.blur(y, (3, 3), borderType=cv2.BORDER_REPLICATE)
    var = cv2.blur(y * y, (3, 3), borderType=cv2.BORDER_REPLICATE) - mean**2
    sig2 = np.maximum(0.6 * var, 2e-6)
    rows, cols, vals = [], [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            r = (slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)))
            q = (slice(max(0, dy), h + min(0, dy)), slice(max(0, dx), w + min(0, dx)))
            d = y[r] - y[q]
            rows.append(idx[r].ravel())
            cols.append(idx[q].ravel())
            vals.append(np.exp(-d * d / (2 * sig2[r])).ravel())
    wm = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(n, n))  # fmt: skip
    wm = sp.diags(1.0 / np.asarray(wm.sum(axis=1)).ravel()) @ wm
    a = (sp.identity(n) - wm).tocsr()
    m = mask.ravel()
    free = ~m
    c = chroma(hints).reshape(-1, 2).astype(np.float64)
    out = np.zeros((n, 2))
    out[m] = c[m]
    rhs = -(a[free][:, m] @ c[m])
    out[free] = spla.splu(a[free][:, free].tocsc()).solve(rhs)
    return compose(y, out.reshape(h, w, 2).astype(np.float32))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(color.deltaE_ciede2000(color.rgb2lab(a), color.rgb2lab(b)).mean())


def colorize(gray: np.ndarray, hints: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    out = run_operation(COLORIZE, Layers(gray, hints=hints, hint_mask=mask), {}, OpContext())
    return out.image, time.perf_counter() - t0


def overlay(gray: np.ndarray, hints: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The gray input with each hint drawn as a ringed dot (visible at thumbnail size)."""
    out = gray.copy()
    labels, count = ndimage.label(mask)
    for g in range(1, count + 1):
        ys, xs = np.nonzero(labels == g)
        centre = (int(xs.mean()), int(ys.mean()))
        colour = tuple(float(v) for v in hints[ys[0], xs[0]])
        cv2.circle(out, centre, 8, (1.0, 1.0, 1.0), -1)
        cv2.circle(out, centre, 6, colour, -1)
    return out


HEADINGS = ("gray + 20 hints", "nearest-hint fill", "colorize (ours)", "original")


def contact_sheet(rows: list[list[np.ndarray]], box: tuple[int, int] = (270, 180)) -> np.ndarray:
    """Rows of tiles, each fitted into a ``box`` (width, height) cell, under a heading line."""
    bw, bh = box
    cell_w = bw + 6
    head = np.full((26, cell_w * len(HEADINGS), 3), 255, np.uint8)  # putText draws on 8 bits
    for i, text in enumerate(HEADINGS):
        cv2.putText(head, text, (4 + cell_w * i, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)  # fmt: skip
    lines = [head.astype(np.float32) / 255.0]
    for row in rows:
        line = np.ones((bh + 6, cell_w * len(row), 3), np.float32)
        for i, tile in enumerate(row):
            h, w = tile.shape[:2]
            f = min(bw / w, bh / h)
            small = cv2.resize(tile, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
            line[: small.shape[0], cell_w * i : cell_w * i + small.shape[1]] = small
        lines.append(line)
    return np.concatenate(lines, axis=0)


def twelve_megapixel_run() -> dict:
    photo = cv2.resize(load_photo("astronaut"), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    photo = np.clip(photo, 0, 1)
    gray = np.repeat(luma(photo)[..., None], 3, axis=2)
    hints, mask = random_hints(photo, 20, 1)
    load_before = os.getloadavg()
    out, seconds = colorize(gray, hints, mask)
    return {
        "size": "4000x3000",
        "hints": 20,
        "seconds": round(seconds, 2),
        "max_luma_error": float(np.abs(luma(out) - gray[..., 0]).max()),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed, no Levin, no 12 MP")
    args = parser.parse_args()
    seeds = (1,) if args.quick else (1, 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    per_photo: dict[str, dict] = {}
    sheet_rows = []
    seconds_per_mp = []
    for name in PHOTOS:
        photo = load_photo(name)
        y = luma(photo)
        gray = np.repeat(y[..., None], 3, axis=2)
        mp = y.size / 1e6
        entry: dict[str, dict] = {}
        for n in COUNTS:
            keys = ("ours_de", "ours_psnr", "nearest_de", "nearest_psnr")
            scores: dict[str, list[float]] = {k: [] for k in keys}
            for seed in seeds:
                hints, mask = random_hints(photo, n, seed)
                ours, seconds = colorize(gray, hints, mask)
                seconds_per_mp.append(seconds / mp)
                near = nearest_fill(y, hints, mask)
                scores["ours_de"].append(delta_e(ours, photo))
                scores["ours_psnr"].append(psnr(ours, photo))
                scores["nearest_de"].append(delta_e(near, photo))
                scores["nearest_psnr"].append(psnr(near, photo))
                if n == 20 and seed == seeds[0]:
                    sheet_rows.append([overlay(gray, hints, mask), near, ours, photo])
                    if not args.quick:  # Levin is slow: first seed only, against the same
                        lev = levin(y, hints, mask)
                        scores["levin_de"] = [delta_e(lev, photo)]
                        scores["levin_psnr"] = [psnr(lev, photo)]
                        scores["nearest_de_first_seed"] = [scores["nearest_de"][-1]]
                        scores["ours_de_first_seed"] = [scores["ours_de"][-1]]
            entry[str(n)] = {k: round(float(np.mean(v)), 3) for k, v in scores.items()}
        per_photo[name] = entry
        print(name, json.dumps(entry), flush=True)

    summary = {}
    for n in COUNTS:
        agg = {k: float(np.mean([per_photo[p][str(n)][k] for p in PHOTOS]))
               for k in per_photo[PHOTOS[0]][str(n)]}  # fmt: skip
        agg["de_gain_vs_nearest_percent"] = 100 * (1 - agg["ours_de"] / agg["nearest_de"])
        if "levin_de" in agg:  # first seed only, compared on that seed
            first = agg["nearest_de_first_seed"]
            agg["levin_de_gain_vs_nearest_percent_first_seed"] = 100 * (1 - agg["levin_de"] / first)
            agg["ours_de_gain_vs_nearest_percent_first_seed"] = 100 * (
                1 - agg["ours_de_first_seed"] / first
            )
        summary[str(n)] = {k: round(v, 3) for k, v in agg.items()}
    result = {
        "photos": list(PHOTOS),
        "long_side_px": 512,
        "seeds": list(seeds),
        "hint_counts": list(COUNTS),
        "summary": summary,
        "per_photo": per_photo,
        "seconds_per_megapixel_median": round(float(np.median(seconds_per_mp)), 2),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_at_end": [round(v, 2) for v in os.getloadavg()]},
    }  # fmt: skip
    if not args.quick:
        result["twelve_megapixels"] = twelve_megapixel_run()
    (RESULTS / "colorize.json").write_text(json.dumps(result, indent=2) + "\n")
    sheet = contact_sheet(sheet_rows)
    cv2.imwrite(str(RESULTS / "colorize_sheet.png"),
                cv2.cvtColor((sheet * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR))  # fmt: skip
    print(json.dumps(summary, indent=2))
    if "twelve_megapixels" in result:
        print("12 MP:", result["twelve_megapixels"])


if __name__ == "__main__":
    main()
