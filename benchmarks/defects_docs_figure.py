"""Make ``docs/images/defects_sample.jpg``: the bundled sample scan, its detected mask, the fill.

The sample (``resources/samples/sample_scan.jpg``) is a public-domain NASA photograph with
*synthetic* dust, scratches and a crease (see ``resources/samples/make_sample.py``): no real
scanned print with scratches is available offline here. Run:

    .venv/bin/python benchmarks/defects_docs_figure.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photofix.core.imageio import load_image, save_image  # noqa: E402
from photofix.core.mask import grow  # noqa: E402
from photofix.ops.defects import detect_defects  # noqa: E402
from photofix.ops.patchmatch import inpaint_patch  # noqa: E402
from photofix.resources import sample_scan  # noqa: E402


def main() -> None:
    image = load_image(sample_scan()).rgb
    t = time.perf_counter()
    mask = detect_defects(image)
    t_detect = time.perf_counter() - t
    t = time.perf_counter()
    fixed = inpaint_patch(image, grow(mask, 1))
    t_fill = time.perf_counter() - t
    overlay = image.copy()
    overlay[mask] = 0.6 * overlay[mask] + 0.4 * np.array([1.0, 0.1, 0.1], np.float32)
    y0, y1, x0, x1 = 0, 300, 120, 420  # face, helmet ring, crease and scratches
    panels = [p[y0:y1, x0:x1] for p in (image, overlay, fixed)]
    sheet = np.concatenate(
        [cv2.resize(p, (600, 600), interpolation=cv2.INTER_NEAREST) for p in panels], 1
    )
    out = ROOT / "docs" / "images" / "defects_sample.jpg"
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(out, sheet, format="jpeg", quality=88)
    flagged = mask.mean() * 100
    print(f"wrote {out}: {flagged:.2f} % flagged, detect {t_detect:.1f} s, fill {t_fill:.1f} s")


if __name__ == "__main__":
    main()
