"""Make ``docs/images/even_light_mount.jpg``: two public-domain Library of Congress prints
(*Detroit circa 1915* and *Nipomo, February 1936*, from
``../shared/data/real-damage/clean-controls/ddcolor_clean_PD``), each mounted on a synthetic
card under a synthetic round vignette (corners at 55 %, as ``bench_deblur.py --even-light``),
then ``even-light`` fitted on the whole scan and fitted on the painted mount (``fit=mask``),
each with the share of the picture's low-frequency error it removed: one print whose own light
the whole-scan fit tells from the lamp's, and one whose own light misleads it. The shading is
synthetic so that the clean picture is known. Run:

    .venv/bin/python benchmarks/even_light_figure.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_deblur import CONTROLS, mounted, shadings  # noqa: E402
from photofix.ops import REGISTRY, Layers, run_operation  # noqa: E402

PICTURES = [
    CONTROLS / "ddcolor_clean_PD" / "Detroit circa 1915.jpg",
    CONTROLS
    / "ddcolor_clean_PD"
    / (
        "February 1936. Nipomo, Calif. Destitute pea pickers living in tent in migrant camp."
        " Mother of seven children. Age 32.jpg"
    ),
]
HEIGHT = 300  # of each tile in the figure
OUT = ROOT / "docs" / "images" / "even_light_mount.jpg"


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = np.ascontiguousarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    cv2.rectangle(out, (0, 0), (out.shape[1], 26), (0, 0, 0), -1)
    cv2.putText(out, text, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def column(path: Path) -> tuple[list[np.ndarray], float, float]:
    """Under the vignette with the mount painted, fitted on the whole scan, fitted on the
    mount (tiles of height ``HEIGHT``), and the two shares removed."""
    im = cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0
    card, mount = mounted(im, seed=0)
    h, w = card.shape[:2]
    g = dict(shadings(h, w))["vignette"].astype(np.float32)
    lit = np.clip(card * g[..., None], 0, 1).astype(np.float32)
    op = REGISTRY.get("even-light")
    whole = run_operation(op, Layers(lit), op.resolve({})).image
    on_mount = run_operation(op, Layers(lit, mask=mount), op.resolve({"fit": "mask"})).image
    s = max(h, w) / 16
    e_in = np.sqrt(np.mean(cv2.GaussianBlur(lit - card, (0, 0), s)[~mount] ** 2))

    def removed(a: np.ndarray) -> float:
        err = cv2.GaussianBlur(a - card, (0, 0), s)[~mount]
        return 100 * (1 - np.sqrt(np.mean(err**2)) / e_in)

    shown = lit.copy()
    shown[mount] = 0.5 * shown[mount] + 0.5 * np.array([1.0, 0.2, 0.2], np.float32)
    size = (round(w * HEIGHT / h), HEIGHT)
    tiles = [
        (shown, "vignette, mount painted"),
        (whole, f"whole scan: {removed(whole):.0f} %"),
        (on_mount, f"on the mount: {removed(on_mount):.0f} %"),
    ]
    out = [label(cv2.resize(t, size, interpolation=cv2.INTER_AREA), text) for t, text in tiles]
    return out, removed(whole), removed(on_mount)


def main() -> None:
    missing = [p for p in PICTURES if not p.is_file()]
    if missing:
        sys.exit(f"{missing[0]} not found: the figure needs ../shared/data/real-damage")
    columns = []
    for path in PICTURES:
        tiles, whole, mount = column(path)
        columns.append(tiles)
        print(f"{path.stem[:40]}: whole {whole:.1f} %, mount {mount:.1f} %")
    gap = np.zeros((HEIGHT, 4, 3), np.uint8)
    rows = [np.concatenate([columns[0][i], gap, columns[1][i]], 1) for i in range(3)]
    sheet = np.concatenate([np.pad(r, ((0, 4), (0, 0), (0, 0))) for r in rows])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(OUT), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
