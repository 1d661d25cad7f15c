"""Defect detection and inpainting benchmark on synthetic damage (see synthetic_defects.py).

    .venv/bin/python benchmarks/bench_defects.py [--quick] [--no-speed]
        [--real yes|no|only|film-lines]

Prints and writes ``benchmarks/results/defects.json`` and a contact sheet
``benchmarks/results/defects_contact.png``:

* detection precision / recall / F1 with a 2-px tolerance (a predicted pixel is right if a
  true damaged pixel lies within 2 px; a damaged pixel is found if a predicted one lies within
  2 px), per kind (scratches, dust) at the default sensitivity, pooled over every image, on a
  development split (photos the detector was trained on, other crops and noise) and a
  held-out split (photos it never saw: chelsea, rocket, coins); plus the share of a clean,
  grainy photo that gets flagged; the same again with every picture scanned (blurred with the
  damage, then a JPEG), as real scans of damaged prints are; the opt-in tear detection on torn
  corners and edge strips, and what it flags on the clean pictures;
* inpainting PSNR / SSIM inside the mask per engine, for thin scratches, dust and holes
  (16-128 px), on every photo in colour, gray and sepia;
* on real damage (``real_eval.py``, when ``../shared/data/real-damage`` is beside the checkout):
  P / R / F1 per print and per kind on the hand-checked prints (held-out and training splits),
  on the film frames, and the share flagged and changed by ``remove-defects`` on every clean
  control, in ``benchmarks/results/defects_real.json``; and the opt-in ``film-lines`` kind
  alone (a separate line: film frames per half, controls, prints, speed), also in
  ``benchmarks/results/defects_real_film_lines.json`` (``--real film-lines``: only that);
* time per megapixel of detection and of each engine, and the speed test of the issue: a
  12-MP photo with 2 % of it masked (scratches, dust and holes), with peak memory measured in
  a child process (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data
from skimage.metrics import structural_similarity

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import synthetic_defects as sd  # noqa: E402
from photofix.ops.defects import (  # noqa: E402
    defect_probabilities,
    dust_mask,
    luminance,
    scratch_mask,
    tear_mask,
)
from photofix.ops.patchmatch import inpaint_fast, inpaint_patch  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DEV = ("astronaut", "camera", "coffee")
HELD_OUT = ("chelsea", "rocket", "coins")
TOLERANCE = 2


def photo(name: str) -> np.ndarray:
    a = getattr(data, name)()
    a = a[..., :3] if a.ndim == 3 else np.repeat(a[..., None], 3, 2)
    return a.astype(np.float32) / 255.0


def variants(name: str, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Colour (when the photo has colour), gray and sepia versions, plus a random crop scaled
    up 1.5× (a different scale of grain and detail)."""
    im = photo(name)
    out = []
    is_gray = np.array_equal(im[..., 0], im[..., 1])
    if not is_gray:
        out.append(("colour", im))
    out += [("gray", sd.to_gray(im)), ("sepia", sd.to_sepia(im))]
    h, w = im.shape[:2]
    ch, cw = h * 2 // 3, w * 2 // 3
    y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    crop = cv2.resize(im[y0 : y0 + ch, x0 : x0 + cw], (cw * 3 // 2, ch * 3 // 2), cv2.INTER_CUBIC)
    out.append(("crop", np.clip(crop, 0, 1)))
    return out


def counts(pred: np.ndarray, gt: np.ndarray, tol: int = TOLERANCE) -> np.ndarray:
    """(true predicted, predicted, found truth, truth) pixel counts with a ``tol``-px tolerance."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tol + 1, 2 * tol + 1))
    near_gt = cv2.dilate(gt.astype(np.uint8), k).astype(bool)
    near_pred = cv2.dilate(pred.astype(np.uint8), k).astype(bool)
    return np.array([(pred & near_gt).sum(), pred.sum(), (gt & near_pred).sum(), gt.sum()], float)


def prf(c: np.ndarray) -> dict[str, float]:
    p = c[0] / max(c[1], 1)
    r = c[2] / max(c[3], 1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(p + r, 1e-9)}


SCANNER = {"blur": (0.5, 1.0), "jpeg": 1.0, "quality": (70, 90)}


def evaluate_detection(names, rng, sheet, scanned: bool = False) -> dict:
    """Default ``detect-defects`` (dust + scratches, sensitivity 0.5) per kind of damage; also
    ``kinds=<that kind>`` alone (what a user gets asking only for dust, or only scratches).

    ``scanned``: every damaged and clean picture first goes through a scanner (blur σ 0.5-1.0
    px, then JPEG at quality 70-90), and the truth is the damage still visible after it."""
    totals = {k: np.zeros(4) for k in ("scratches", "dust", "scratches_only", "dust_only")}
    per_image = []
    flagged = []
    t_detect, mp = 0.0, 0.0
    for name in names:
        for variant, im in variants(name, rng):
            clean = sd.add_grain(im, rng.uniform(0.005, 0.025), rng)
            shown = sd.through_scanner(clean, clean, [], rng, **SCANNER)[1] if scanned else clean
            t = time.perf_counter()
            p = defect_probabilities(shown)
            fp = dust_mask(p[..., 0]) | scratch_mask(p[..., 1], luma=luminance(shown))
            t_detect += time.perf_counter() - t
            mp += clean.shape[0] * clean.shape[1] / 1e6
            flagged.append(float(fp.mean()))
            for kind, add in (("scratches", sd.add_scratches), ("dust", sd.add_dust)):
                damaged, gt = add(clean, rng)
                if scanned:
                    _, damaged, (gt,) = sd.through_scanner(clean, damaged, [gt], rng, **SCANNER)
                p = defect_probabilities(damaged)
                dust = dust_mask(p[..., 0])
                scratches = scratch_mask(p[..., 1], luma=luminance(damaged))
                pred = dust | scratches
                c = counts(pred, gt)
                totals[kind] += c
                totals[kind + "_only"] += counts(dust if kind == "dust" else scratches, gt)
                per_image.append({"photo": name, "variant": variant, "kind": kind, **prf(c)})
                if len(sheet) < 4 and variant in ("colour", "sepia", "gray"):
                    sheet.append(_overlay(damaged, gt, pred, f"{name} {variant} {kind}"))
    return {
        **{k: prf(v) for k, v in totals.items()},
        "clean_flagged_percent": 100 * float(np.mean(flagged)),
        "detect_seconds_per_mp": t_detect / mp,
        "per_image": per_image,
    }


def evaluate_tears(names, rng) -> dict:
    """``kinds=tears`` (opt-in) on each picture with a torn-off corner or edge strip, pooled;
    and the share of the clean picture it flags (dark or white backgrounds touching the border
    look like what lies behind a torn print)."""
    total, flagged = np.zeros(4), []
    for name in names:
        for _, im in variants(name, rng):
            clean = sd.add_grain(im, rng.uniform(0.005, 0.025), rng)
            flagged.append(float(tear_mask(clean).mean()))
            damaged, gt = sd.add_tear(clean, rng)
            total += counts(tear_mask(damaged), gt)
    return {
        **prf(total),
        "clean_flagged_percent": 100 * float(np.mean(flagged)),
        "clean_flagged_percent_max": 100 * float(np.max(flagged)),
    }


SPOT_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon")


def evaluate_spots() -> dict:
    """``kinds=spots`` (opt-in) on faded sepia prints of seven photos with grain, each once with
    rust-brown foxing and once with neutral dark spots (``synthetic_defects.add_foxing``):
    spots found (any pixel), pixel P/R (2-px tolerance) of the proposal and of its confident
    part; and the share of each clean print flagged."""
    from photofix.ops.spots import spot_regions

    rng = np.random.default_rng(7)
    rows: dict = {}
    flagged = []
    for brown in (True, False):
        rows["brown" if brown else "neutral"] = {"spots": 0, "found": 0, "all": np.zeros(4),
                                                 "confident": np.zeros(4)}  # fmt: skip
    for name in SPOT_PHOTOS:
        faded = np.clip(0.25 + 0.7 * sd.to_sepia(photo(name)), 0, 1)
        clean = sd.add_grain(faded, 0.01, rng)
        flagged.append(float(spot_regions(clean)[0].mean()))
        for brown in (True, False):
            damaged, gt = sd.add_foxing(clean, rng, brown=brown)
            mask, conf = spot_regions(damaged)
            r = rows["brown" if brown else "neutral"]
            n, comp = cv2.connectedComponents(gt.view(np.uint8), connectivity=8)
            r["spots"] += n - 1
            r["found"] += sum(bool(mask[comp == i].any()) for i in range(1, n))
            r["all"] += counts(mask, gt)
            r["confident"] += counts(conf >= 0.9, gt)
    out = {
        k: {
            "spots": v["spots"],
            "found": v["found"],
            "proposal": prf(v["all"]),
            "confident": prf(v["confident"]),
        }
        for k, v in rows.items()
    }
    out["clean_flagged_percent_max"] = 100 * max(flagged)
    return out


def _overlay(image, gt, pred, label):
    """Damaged image | overlay (yellow: found, red: false alarm, green: missed)."""
    ov = image.copy()
    ov[gt & ~pred] = (0, 1, 0)
    ov[pred & ~gt] = (1, 0, 0)
    ov[pred & gt] = (1, 1, 0)
    tile = np.concatenate([image, ov], 1)
    return _label(_fit(tile, 360), label)


def _fit(image: np.ndarray, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * height / h), height), interpolation=cv2.INTER_AREA)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    out = np.ascontiguousarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    cv2.putText(out, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255,) * 3, 1, cv2.LINE_AA)
    return out.astype(np.float32) / 255.0


def masked_scores(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """PSNR over the masked pixels; mean SSIM (7×7 windows) over the masked pixels."""
    err = float(((result[mask] - truth[mask]) ** 2).mean())
    psnr = 10 * np.log10(1.0 / max(err, 1e-12))
    _, ssim_map = structural_similarity(
        truth, result, data_range=1.0, channel_axis=2, full=True, win_size=7
    )
    return psnr, float(ssim_map.mean(axis=2)[mask].mean())


def evaluate_inpainting(names, rng, sheet) -> dict:
    cases = {"thin_scratches": [], "dust": [], "holes": []}
    times = {"fast": 0.0, "patch": 0.0}
    masked_mp = 0.0
    for name in names:
        for variant, im in variants(name, rng)[:3]:
            truth = sd.add_grain(im, 0.01, rng)
            masks = {
                "thin_scratches": sd.add_scratches(truth, rng, 0.02)[1],
                "dust": sd.add_dust(truth, rng)[1],
                "holes": sd.hole_masks(truth.shape[:2], rng, 4),
            }
            for case, mask in masks.items():
                mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
                row = {"photo": name, "variant": variant}
                results = {}
                for engine, fn in (("fast", inpaint_fast), ("patch", inpaint_patch)):
                    t = time.perf_counter()
                    out = fn(truth, mask)
                    times[engine] += time.perf_counter() - t
                    assert np.array_equal(out[~mask], truth[~mask]), "outside changed"
                    row[engine] = dict(
                        zip(("psnr", "ssim"), masked_scores(out, truth, mask), strict=True)
                    )
                    results[engine] = out
                masked_mp += mask.sum() / 1e6
                cases[case].append(row)
                if case == "holes" and len(sheet) < 8 and variant != "sepia":
                    sheet.append(_hole_strip(truth, mask, results, f"{name} {variant}"))
    summary = {}
    for case, rows in cases.items():
        summary[case] = {
            engine: {
                "psnr": float(np.mean([r[engine]["psnr"] for r in rows])),
                "ssim": float(np.mean([r[engine]["ssim"] for r in rows])),
            }
            for engine in ("fast", "patch")
        }
        summary[case]["patch_beats_fast"] = sum(
            r["patch"]["psnr"] > r["fast"]["psnr"] for r in rows
        ) / len(rows)
    summary["seconds_per_masked_mp"] = {k: v / max(masked_mp, 1e-9) for k, v in times.items()}
    return {"summary": summary, "cases": cases}


def _hole_strip(truth, mask, results, label):
    """Around the largest hole: holes shown white | fast | patch | original."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    i = 1 + int(np.argmax(stats[1:, 4]))
    x, y, w, h = stats[i, :4]
    s = max(w, h) * 2
    cy, cx = y + h // 2, x + w // 2
    y0, x0 = max(0, cy - s // 2), max(0, cx - s // 2)
    y1, x1 = min(truth.shape[0], y0 + s), min(truth.shape[1], x0 + s)
    shown = np.where(mask[..., None], 1.0, truth)
    tiles = [shown, results["fast"], results["patch"], truth]
    names = ["hole", "fast", "patch", "original"]
    row = [
        _label(_fit(t[y0:y1, x0:x1], 220), f"{label} {n_}")
        for t, n_ in zip(tiles, names, strict=True)
    ]
    return np.concatenate(row, 1)


SPEED_CHILD = r"""
import resource, sys, time, json
import numpy as np, cv2
sys.path.insert(0, {root!r})
from benchmarks import synthetic_defects as sd
from benchmarks.bench_defects import photo
from photofix.ops.patchmatch import inpaint_fast, inpaint_patch
rng = np.random.default_rng(12)
im = cv2.resize(photo("astronaut"), (4000, 3000), interpolation=cv2.INTER_CUBIC)
im = sd.add_grain(np.clip(im, 0, 1), 0.01, rng)
mask = sd.add_scratches(im[:1500, :2000], rng, 0.011)[1]
mask = np.tile(mask, (2, 2))
mask |= sd.add_dust(im, rng, 6000)[1]
mask |= sd.hole_masks(mask.shape, rng, 12, (16, 128))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, c = time.perf_counter(), time.process_time()
out = {{"fast": inpaint_fast, "patch": inpaint_patch}}[sys.argv[1]](im, mask)
dt, dc = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": dt, "cpu_seconds": dc, "masked_percent": 100 * float(mask.mean()),
                  "peak_rss_mb": peak / 1024, "rss_before_mb": base / 1024}}))
"""


def speed_test() -> dict:
    out = {"load_average_before": os.getloadavg()}
    code = SPEED_CHILD.format(root=str(ROOT))
    for engine in ("fast", "patch"):
        res = subprocess.run(
            [sys.executable, "-c", code, engine], capture_output=True, text=True, check=True
        )
        out[engine] = json.loads(res.stdout.strip().splitlines()[-1])
    out["load_average_after"] = os.getloadavg()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one photo per split")
    parser.add_argument("--no-speed", action="store_true", help="skip the 12-MP speed test")
    parser.add_argument("--spots", action="store_true", help="only kinds=spots (into the JSON)")
    parser.add_argument(
        "--real",
        choices=("yes", "no", "only", "film-lines"),
        default="yes",
        help="also (or only) the real prints, film frames and clean controls of"
        " ../shared/data/real-damage, when present (benchmarks/results/defects_real.json);"
        " film-lines: only the opt-in film-lines kind (defects_real_film_lines.json)",
    )
    args = parser.parse_args()
    if args.spots:
        path = RESULTS / "defects.json"
        report = json.loads(path.read_text()) if path.is_file() else {}
        report["spots"] = spots = evaluate_spots()
        path.write_text(json.dumps(report, indent=1, default=float))
        for kind in ("brown", "neutral"):
            r = spots[kind]
            print(
                f"spots {kind}: found {r['found']}/{r['spots']}  proposal P="
                f"{r['proposal']['precision']:.2f} R={r['proposal']['recall']:.2f}  confident P="
                f"{r['confident']['precision']:.2f} R={r['confident']['recall']:.2f}"
            )
        print(f"spots on the clean prints: at most {spots['clean_flagged_percent_max']:.3f} %")
        return
    if args.real == "film-lines":
        from benchmarks import real_eval

        real_eval.evaluate_film_lines_only()
        return
    if args.real != "no":
        from benchmarks import real_eval

        real = real_eval.evaluate()
        if real is not None:
            RESULTS.mkdir(parents=True, exist_ok=True)
            path = RESULTS / "defects_real.json"
            path.write_text(json.dumps(real, indent=1, default=float))
            print(f"wrote {path}")
            path = real_eval.FILM_LINES_JSON
            path.write_text(json.dumps(real["film_lines"], indent=1, default=float))
            print(f"wrote {path}")
        if args.real == "only":
            return
    rng = np.random.default_rng(2026)
    dev, held = (DEV[:1], HELD_OUT[:1]) if args.quick else (DEV, HELD_OUT)
    det_sheet: list[np.ndarray] = []
    hole_sheet: list[np.ndarray] = []
    report: dict = {"tolerance_px": TOLERANCE, "load_average_start": os.getloadavg()}
    report["detection_dev"] = evaluate_detection(dev, rng, det_sheet)
    report["detection_held_out"] = evaluate_detection(held, rng, det_sheet)
    scan_rng = np.random.default_rng(2027)  # its own stream: the numbers above stay comparable
    report["detection_scanned_dev"] = evaluate_detection(dev, scan_rng, [], scanned=True)
    report["detection_scanned_held_out"] = evaluate_detection(held, scan_rng, [], scanned=True)
    for split in (
        "detection_dev",
        "detection_held_out",
        "detection_scanned_dev",
        "detection_scanned_held_out",
    ):
        r = report[split]
        print(
            f"{split}: "
            + "  ".join(
                f"{k} P={r[k]['precision']:.3f} R={r[k]['recall']:.3f} F1={r[k]['f1']:.3f}"
                for k in ("scratches", "dust", "scratches_only", "dust_only")
            )
            + f"  clean flagged {r['clean_flagged_percent']:.3f} %"
            + f"  {r['detect_seconds_per_mp']:.2f} s/MP"
        )
    tear_rng = np.random.default_rng(2028)
    report["tears"] = {
        "dev": evaluate_tears(dev, tear_rng),
        "held_out": evaluate_tears(held, tear_rng),
    }
    for split, r in report["tears"].items():
        print(
            f"tears {split}: P={r['precision']:.3f} R={r['recall']:.3f} F1={r['f1']:.3f}  clean"
            f" flagged {r['clean_flagged_percent']:.2f} %"
            f" (max {r['clean_flagged_percent_max']:.1f} %)"
        )
    report["spots"] = evaluate_spots()
    report["inpainting"] = evaluate_inpainting(dev + held, rng, hole_sheet)
    for case, s in report["inpainting"]["summary"].items():
        if case == "seconds_per_masked_mp":
            print(f"inpainting time per masked MP: {s}")
            continue
        print(
            f"inpaint {case}: fast PSNR {s['fast']['psnr']:.2f} SSIM {s['fast']['ssim']:.3f} | "
            f"patch PSNR {s['patch']['psnr']:.2f} SSIM {s['patch']['ssim']:.3f} | "
            f"patch better on {100 * s['patch_beats_fast']:.0f} % of images"
        )
    if not args.no_speed:
        report["speed_12mp"] = speed_test()
        print(f"12-MP speed: {json.dumps(report['speed_12mp'])}")
    report["peak_rss_mb_benchmark"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "defects.json").write_text(json.dumps(report, indent=1, default=float))
    width = max(t.shape[1] for t in det_sheet + hole_sheet)
    rows = [np.pad(t, ((0, 4), (0, width - t.shape[1]), (0, 0))) for t in det_sheet + hole_sheet]
    sheet = np.concatenate(rows, 0)
    cv2.imwrite(
        str(RESULTS / "defects_contact.png"),
        (np.clip(sheet, 0, 1)[..., ::-1] * 255 + 0.5).astype(np.uint8),
    )
    print(f"wrote {RESULTS / 'defects.json'} and {RESULTS / 'defects_contact.png'}")


if __name__ == "__main__":
    main()
