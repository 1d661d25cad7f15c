"""Batch throughput and memory: the local engine (1 worker vs all cores) and the Ray engine.

200 small scans (256×192 PNG, nested folders) through one recipe (fade, denoise σ 10, resize
×0.5), run side by side in one invocation:

- images per minute for each engine, and the Ray engine's overhead per image against the
  local engine with the same number of workers;
- resident memory after each image (the worker's VmRSS, as its outcome reports it): the 20th
  vs the 200th file, which must stay within 10 % (models load once per worker, one image at a
  time, nothing accumulates).

    .venv/bin/python benchmarks/bench_batch.py [--count 200] [--json PATH]

Writes benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from photofix.batch.engine import BatchJob, run_batch  # noqa: E402

RECIPE = {
    "format": "photofix-recipe",
    "version": 2,
    "steps": [
        {"op": "fade", "params": {"strength": 0.8}},
        {"op": "denoise", "params": {"sigma": 10}},
        {"op": "resize", "params": {"scale": 0.5}},
    ],
}


def make_scans(root: Path, count: int) -> None:
    import cv2
    from skimage import data

    src = data.astronaut()
    rng = np.random.default_rng(0)
    for i in range(count):
        folder = root / f"box{i % 5}" / f"folder{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        y, x = rng.integers(0, 512 - 192, 2)
        crop = cv2.resize(src[y : y + 192, x : x + 192], (256, 192))
        noisy = np.clip(crop + rng.normal(0, 6, crop.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"scan{i:03d}.png"), noisy[:, :, ::-1])


def one_run(name: str, recipe: Path, scans: Path, out: Path, **kw) -> dict:
    t = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        result = run_batch(BatchJob(recipe, [str(scans)], out, recursive=True, **kw), out=quiet)
    dt = time.perf_counter() - t
    n = result.count("done")
    rss = [o.rss_mb for o in result.outcomes]
    row = {
        "engine": name,
        "images": n,
        "failed": result.count("failed"),
        "seconds": dt,
        "images_per_minute": 60 * n / dt,
        "seconds_per_image": dt / max(n, 1),
        "rss_mb_20th": rss[19] if len(rss) >= 20 else None,
        "rss_mb_last": rss[-1],
        "rss_growth_20th_to_last": (rss[-1] / rss[19] - 1) if len(rss) >= 20 else None,
    }
    print(
        f"{name:28s} {row['images_per_minute']:7.1f} images/min  {dt:6.1f} s  "
        f"RSS 20th {row['rss_mb_20th']:.0f} MB -> last {row['rss_mb_last']:.0f} MB",
        flush=True,
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--json", type=Path, default=HERE / "results" / "batch.json")
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        scans = tmp / "scans"
        make_scans(scans, args.count)
        recipe = tmp / "recipe.json"
        recipe.write_text(json.dumps(RECIPE))
        rows.append(one_run("local, 1 worker", recipe, scans, tmp / "o1", workers=1))
        rows.append(one_run(f"local, {cores} workers", recipe, scans, tmp / "o2", workers=cores))
        if not args.no_ray:
            try:
                import ray  # noqa: F401

                rows.append(
                    one_run(
                        f"ray, {cores} CPUs", recipe, scans, tmp / "o3", engine="ray", workers=cores
                    )
                )
            except ImportError:
                print("ray not installed: pip install 'photofix[ray]'")
        from photofix.core.provenance import pixels_sha256

        # the same pixels (files differ only in their records' ids and times)
        identical = all(
            pixels_sha256(tmp / other / p.relative_to(tmp / "o1")) == pixels_sha256(p)
            for p in (tmp / "o1").rglob("scan*.png")
            for other in [d for d in ("o2", "o3") if (tmp / d).is_dir()]
        )
    out = {"count": args.count, "cores": cores, "recipe": RECIPE, "runs": rows,
           "outputs_identical_pixels_all_engines": identical}  # fmt: skip
    if len(rows) == 3:
        out["ray_overhead_seconds_per_image"] = (
            rows[2]["seconds_per_image"] - rows[1]["seconds_per_image"]
        )
        print(f"Ray overhead per image: {out['ray_overhead_seconds_per_image'] * 1000:.0f} ms")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    print(f"same pixels from every engine: {identical}\nwrote {args.json}")


if __name__ == "__main__":
    main()
