"""Make ``docs/images/defects_sample.jpg`` (the bundled sample scan, its detected mask, the fill)
and ``docs/images/defects_real_print.jpg`` (a real daguerreotype: before, mask, one-step
``remove-defects``).

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
from photofix.ops import REGISTRY, Layers, run_operation  # noqa: E402
from photofix.ops.defects import detect_defects, find_regions  # noqa: E402
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


def real_print() -> None:
    """Louis Daguerre, Boulevard du Temple (1838, public domain): the whole plate and a crop of
    its sky at 200 %; mask red where one-step ``remove-defects`` fills (confident regions),
    orange where ``detect-defects`` proposes more for review."""
    path = ROOT / "resources" / "samples" / "BoulevardDuTemple1838.jpg"
    image = load_image(path).rgb
    t = time.perf_counter()
    found = find_regions(image)
    t_detect = time.perf_counter() - t
    op = REGISTRY.get("remove-defects")
    fixed = run_operation(op, Layers(image), op.resolve({})).image
    confident = found.confident_mask()
    proposal = found.mask() & ~confident
    overlay = image.copy()
    for m, colour in ((proposal, (1.0, 0.6, 0.0)), (confident, (1.0, 0.05, 0.05))):
        k = cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        overlay[k] = 0.3 * overlay[k] + 0.7 * np.array(colour, np.float32)
    y0, y1, x0, x1 = 0, 150, 480, 780  # sky over the rooftops: scratches, specks, tarnish
    rows = []
    for crop, size in ((np.s_[:, :], (533, 383)), (np.s_[y0:y1, x0:x1], (600, 300))):
        panels = [p[crop] for p in (image, overlay, fixed)]
        rows.append(
            np.concatenate([cv2.resize(p, size, interpolation=cv2.INTER_AREA if size[0] < 600
                            else cv2.INTER_NEAREST) for p in panels], 1)
        )  # fmt: skip
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=1.0) for r in rows]
    out = ROOT / "docs" / "images" / "defects_real_print.jpg"
    save_image(out, np.concatenate(rows, 0), format="jpeg", quality=88)
    changed = np.any(fixed != image, axis=2).mean() * 100
    print(
        f"wrote {out}: {len(found.regions)} regions ({found.mask().mean() * 100:.2f} %),"
        f" {sum(r.confident for r in found.regions)} confident; remove-defects changed"
        f" {changed:.3f} %; detect {t_detect:.1f} s"
    )


if __name__ == "__main__":
    main()
    real_print()
