"""Study: does detection hold when the same print is scanned at a higher resolution?

The training-split prints (their first 10 JPEG files in ``split.json`` order) are upscaled 2×
and 3× (cubic, then Gaussian grain σ 0.01 at the new size, as a scanner adds its own), their
masks with them (nearest), and scored with the default detection at each scale; pixel counts
at 2× and 3× are divided by the scale's area, so every scale weighs a print alike. Prints of
the held-out split are not used. Writes ``benchmarks/results/scale_study.json``.

    .venv/bin/python benchmarks/scale_study.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.real_eval import (  # noqa: E402
    DATA,
    IGNORE,
    KIND,
    counts,
    detect,
    labelled_prints,
    prf,
    read_rgb,
    read_truth,
)

SCALES = (1, 2, 3)
GRAIN = 0.01


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"{DATA} is not here")
    prints = [(n, p) for n, p in labelled_prints("train") if p.suffix == ".jpg"][:10]
    rng = np.random.default_rng(1)
    out: dict = {"prints": [n for n, _ in prints], "grain": GRAIN, "scales": {}}
    for f in SCALES:
        total = {k: np.zeros(4) for k in ("crack", "dust")}
        for _, path in prints:
            truth = read_truth(path)
            image = read_rgb(path)
            if f > 1:
                image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
                grain = rng.normal(0, GRAIN, image.shape[:2]).astype(np.float32)
                image = np.clip(image + grain[..., None], 0, 1)
                truth = cv2.resize(truth, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)
            found = detect(image)
            care = truth != IGNORE
            for kind, pred in (("crack", found["scratches"]), ("dust", found["dust"])):
                total[kind] += counts(pred, truth == KIND[kind], care) / (f * f)
        out["scales"][str(f)] = {k: prf(c) for k, c in total.items()}
        d = out["scales"][str(f)]["dust"]
        print(f"{f}x: dust P={d['precision']:.2f} R={d['recall']:.2f} F1={d['f1']:.2f}", flush=True)
    text = json.dumps(out, indent=1, default=float).replace("NaN", "null")
    (ROOT / "benchmarks" / "results" / "scale_study.json").write_text(text)


if __name__ == "__main__":
    main()
