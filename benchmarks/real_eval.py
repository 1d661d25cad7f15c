"""Detection on real damage: the hand-checked prints, the film frames, the clean controls.

Used by ``bench_defects.py --real`` (and runnable alone: ``python benchmarks/real_eval.py``;
``--film-lines``, or ``bench_defects.py --real film-lines``: only the opt-in film-lines kind,
into ``benchmarks/results/defects_real_film_lines.json``).
The images come from ``../shared/data/real-damage`` beside the checkout and are never
committed; the masks are ``benchmarks/real_masks/<sha1>.png`` (see ``real_labels.py``), the split
``benchmarks/real_masks/split.json``. Scores use the synthetic benchmark's 2-px tolerance;
pixels a mask marks ``ignore`` (255: outside the region that was checked, mounts, ambiguous
stains) count neither way.

* per print and pooled per split: P / R / F1 per kind (crack/scratch against the scratch mask,
  dust/spot against the dust mask, any damage against the whole default mask);
* film frames: the whole default mask against their scratch labels;
* clean controls: the share of each picture the default detection flags, and the share of
  pixels one-step ``remove-defects`` changes;
* the opt-in ``film-lines`` kind on its own: P / R / F1 on the film frames per half (the half
  its constants were tuned on, the held-out half), and the share it flags and one step fills
  on the clean controls and the prints.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photofix.ops import REGISTRY, Layers, run_operation  # noqa: E402
from photofix.ops.defects import find_regions  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "real-damage"
MASKS = ROOT / "benchmarks" / "real_masks"
TOLERANCE = 2
KIND = {"crack": 1, "dust": 2, "loss": 3}
IGNORE = 255
FILM_LINES_JSON = ROOT / "benchmarks" / "results" / "defects_real_film_lines.json"


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot read {path}")
    return np.ascontiguousarray(bgr[..., ::-1], dtype=np.float32) / 255.0


def counts(pred: np.ndarray, gt: np.ndarray, care: np.ndarray) -> np.ndarray:
    """(true predicted, predicted, found truth, truth) with the tolerance, on ``care`` pixels."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * TOLERANCE + 1,) * 2)
    near_gt = cv2.dilate(gt.astype(np.uint8), k).astype(bool)
    near_pred = cv2.dilate(pred.astype(np.uint8), k).astype(bool)
    pred, gt = pred & care, gt & care
    return np.array([(pred & near_gt).sum(), pred.sum(), (gt & near_pred).sum(), gt.sum()], float)


def prf(c: np.ndarray) -> dict[str, float]:
    p = c[0] / c[1] if c[1] else float("nan")
    r = c[2] / c[3] if c[3] else float("nan")
    f = 2 * p * r / (p + r) if c[1] and c[3] and p + r > 0 else float("nan")
    return {"precision": p, "recall": r, "f1": f, "truth_px": int(c[3]), "flagged_px": int(c[1])}


def detect(image: np.ndarray, confident_only: bool = False) -> dict[str, np.ndarray]:
    """Masks per detected kind (the default kinds), all regions or only the confident ones."""
    regions = find_regions(image)
    out = {"scratches": np.zeros(image.shape[:2], bool), "dust": np.zeros(image.shape[:2], bool)}
    for r in regions.regions:
        if confident_only and not r.confident:
            continue
        out[r.kind][regions.region_mask(r)] = True
    return out


def labelled_prints(split: str) -> list[tuple[str, Path]]:
    """(name, image path) of the labelled prints of ``split`` ("held_out" or "train"), in
    ``split.json`` order."""
    names = json.loads((MASKS / "split.json").read_text())[split]
    labels = {
        Path(e["file"]).name: e for e in json.loads((MASKS / "labels.json").read_text())["prints"]
    }
    return [(name, DATA / labels[name]["file"]) for name in names]


def read_truth(path: Path) -> np.ndarray:
    """The hand-checked kind map (uint8 HxW, ``KIND`` values, ``IGNORE``) of a print's file."""
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    return cv2.imread(str(MASKS / f"{digest}.png"), cv2.IMREAD_UNCHANGED)


def evaluate_prints(split: str = "held_out", confident_only: bool = False) -> dict:
    totals = {k: np.zeros(4) for k in ("crack", "dust", "any")}
    per_print = []
    for name, path in labelled_prints(split):
        truth = read_truth(path)
        image = read_rgb(path)
        care = truth != IGNORE
        found = detect(image, confident_only)
        row: dict = {"print": name}
        for kind, pred, gt in (
            ("crack", found["scratches"], truth == KIND["crack"]),
            ("dust", found["dust"], truth == KIND["dust"]),
            ("any", found["scratches"] | found["dust"], (truth > 0) & care),
        ):
            c = counts(pred, gt, care)
            totals[kind] += c
            row[kind] = prf(c)
        per_print.append(row)
    return {"pooled": {k: prf(v) for k, v in totals.items()}, "per_print": per_print}


def evaluate_film(limit: int | None = None) -> dict:
    frames = sorted((DATA / "film-scratch-pairs" / "frames").glob("*.jpg"))[:limit]
    total = np.zeros(4)
    per = []
    for f in frames:
        gt = cv2.imread(str(DATA / "film-scratch-pairs" / "masks" / f"label_{f.stem[-3:]}.png"), 0)
        image = read_rgb(f)
        found = detect(image)
        pred = found["scratches"] | found["dust"]
        c = counts(pred, gt > 0, np.ones(gt.shape, bool))
        total += c
        per.append({"frame": f.name, **prf(c)})
    return {"pooled": prf(total), "per_frame": per}


def evaluate_controls() -> dict:
    op = REGISTRY.get("remove-defects")
    params = op.resolve({"engine": "fast"})  # the same mask as patch; only the fill differs
    rows = []
    t, mp = 0.0, 0.0
    for path in sorted((DATA / "clean-controls").glob("*/*")):
        if path.suffix.lower() not in (".jpg", ".png"):
            continue
        image = read_rgb(path)
        t0 = time.perf_counter()
        found = detect(image)
        t += time.perf_counter() - t0
        mp += image.shape[0] * image.shape[1] / 1e6
        result = run_operation(op, Layers(image), params)
        changed = np.any(result.image != image, axis=2)
        rows.append(
            {
                "control": f"{path.parent.name}/{path.name}",
                "flagged_percent": 100 * float((found["scratches"] | found["dust"]).mean()),
                "remove_defects_changed_percent": 100 * float(changed.mean()),
            }
        )
    return {
        "per_control": rows,
        "max_flagged_percent": max(r["flagged_percent"] for r in rows),
        "max_changed_percent": max(r["remove_defects_changed_percent"] for r in rows),
        "detect_seconds_per_mp": t / mp,
    }


def _film_lines(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The opt-in film-lines kind alone: (all regions, confident regions, the highest
    confidence, seconds)."""
    t0 = time.perf_counter()
    regions = find_regions(image, kinds=("film-lines",))
    t = time.perf_counter() - t0
    top = max((r.confidence for r in regions.regions), default=0.0)
    return regions.mask(), regions.confident_mask(), top, t


def evaluate_film_lines() -> dict:
    """The opt-in ``film-lines`` kind on the film frames (scored like :func:`evaluate_film`),
    split by sorted name into the half its constants were tuned on and the half they were not,
    and on the clean controls and the prints: the share it flags and the share one-step
    ``remove-defects:kinds=film-lines`` changes."""
    frames = sorted((DATA / "film-scratch-pairs" / "frames").glob("*.jpg"))
    half = len(frames) // 2
    totals = {
        k: np.zeros(4) for k in ("tuned", "held_out", "tuned_confident", "held_out_confident")
    }
    per, t, mp = [], 0.0, 0.0
    for i, f in enumerate(frames):
        gt = cv2.imread(str(DATA / "film-scratch-pairs" / "masks" / f"label_{f.stem[-3:]}.png"), 0)
        image = read_rgb(f)
        found, confident, _, dt = _film_lines(image)
        t += dt
        mp += image.shape[0] * image.shape[1] / 1e6
        split = "tuned" if i < half else "held_out"
        c = counts(found, gt > 0, np.ones(gt.shape, bool))
        totals[split] += c
        totals[split + "_confident"] += counts(confident, gt > 0, np.ones(gt.shape, bool))
        per.append({"frame": f.name, "split": split, **prf(c)})
    op = REGISTRY.get("remove-defects")
    params = op.resolve({"engine": "fast", "kinds": "film-lines"})
    pictures = {}
    for name, paths in (
        ("controls", sorted((DATA / "clean-controls").glob("*/*"))),
        ("prints", sorted((DATA / "prints").glob("*"))),
    ):
        rows = []
        for path in paths:
            if path.suffix.lower() not in (".jpg", ".png"):
                continue
            image = read_rgb(path)
            found, _, top, dt = _film_lines(image)
            t += dt
            mp += image.shape[0] * image.shape[1] / 1e6
            changed = np.any(run_operation(op, Layers(image), params).image != image, axis=2)
            rows.append(
                {
                    "picture": f"{path.parent.name}/{path.name}",
                    "flagged_percent": 100 * float(found.mean()),
                    "one_step_changed_percent": 100 * float(changed.mean()),
                    "max_confidence": top,
                }
            )
        pictures[name] = {
            "per_picture": rows,
            "max_flagged_percent": max(r["flagged_percent"] for r in rows),
            "mean_flagged_percent": float(np.mean([r["flagged_percent"] for r in rows])),
            "max_one_step_changed_percent": max(r["one_step_changed_percent"] for r in rows),
            "max_confidence": max(r["max_confidence"] for r in rows),
        }
    both = totals["tuned"] + totals["held_out"]
    return {
        "film_pooled": {**{k: prf(v) for k, v in totals.items()}, "all": prf(both)},
        "film_per_frame": per,
        **pictures,
        "detect_seconds_per_mp": t / mp,
    }


def film_lines_report(fl: dict) -> None:
    """One line: the film-lines kind's film scores per half, controls and prints, speed."""
    pooled = fl["film_pooled"]
    print(
        "film-lines (opt-in): film "
        + "  ".join(
            f"{k} P={pooled[k]['precision']:.2f} R={pooled[k]['recall']:.2f}"
            f" F1={pooled[k]['f1']:.2f}"
            for k in ("tuned", "held_out", "all", "held_out_confident")
        )
        + f"; clean controls flagged at most {fl['controls']['max_flagged_percent']:.3f} %,"
        f" one step changed at most {fl['controls']['max_one_step_changed_percent']:.3f} %"
        f" (highest confidence {fl['controls']['max_confidence']:.2f});"
        f" prints flagged {fl['prints']['mean_flagged_percent']:.3f} % on average (at most"
        f" {fl['prints']['max_flagged_percent']:.3f} %); {fl['detect_seconds_per_mp']:.2f} s/MP"
    )


def evaluate(film_limit: int | None = None) -> dict | None:
    if not DATA.is_dir():
        print(f"real-damage data not found at {DATA}: real-print evaluation skipped")
        return None
    out = {
        "held_out": evaluate_prints("held_out"),
        "held_out_confident": evaluate_prints("held_out", confident_only=True),
        "train": evaluate_prints("train"),
        "train_confident": evaluate_prints("train", confident_only=True),
        "film": evaluate_film(film_limit),
        "controls": evaluate_controls(),
        "film_lines": evaluate_film_lines(),
    }
    for split in ("held_out", "held_out_confident", "train", "train_confident"):
        p = out[split]["pooled"]
        print(
            f"real prints {split}: "
            + "  ".join(
                f"{k} P={p[k]['precision']:.2f} R={p[k]['recall']:.2f} F1={p[k]['f1']:.2f}"
                for k in ("crack", "dust", "any")
            )
        )
    f = out["film"]["pooled"]
    print(f"film frames: P={f['precision']:.2f} R={f['recall']:.2f} F1={f['f1']:.2f}")
    c = out["controls"]
    print(
        f"clean controls: flagged at most {c['max_flagged_percent']:.3f} %, remove-defects"
        f" changed at most {c['max_changed_percent']:.3f} %, {c['detect_seconds_per_mp']:.2f} s/MP"
    )
    film_lines_report(out["film_lines"])
    return out


def evaluate_film_lines_only() -> dict | None:
    """:func:`evaluate_film_lines` alone, reported and written to ``FILM_LINES_JSON``."""
    if not DATA.is_dir():
        print(f"real-damage data not found at {DATA}: film-lines evaluation skipped")
        return None
    result = evaluate_film_lines()
    film_lines_report(result)
    FILM_LINES_JSON.write_text(json.dumps(result, indent=1, default=float))
    print(f"wrote {FILM_LINES_JSON}")
    return result


if __name__ == "__main__":
    if "--film-lines" in sys.argv[1:]:
        evaluate_film_lines_only()
    else:
        result = evaluate()
        if result is not None:
            path = ROOT / "benchmarks" / "results" / "defects_real.json"
            path.write_text(json.dumps(result, indent=1, default=float))
            print(f"wrote {path}")
