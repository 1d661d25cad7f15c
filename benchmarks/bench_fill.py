"""Fill quality on thin damage (cracks, scratches, real dust and hair shapes) and fill speed.

Prints, and writes to benchmarks/results/fill.json (+ fill_contact.png):

(a) masked PSNR / SSIM of each engine on the thin-damage set: held-out photographs (scikit-image's
    astronaut, camera, coffee, chelsea, rocket, coins, motorcycle; none of them is used to tune
    anything here), each with three masks of its own (crack networks, long scratches, real
    dust/hair/scratch shapes from ``../shared/data/real-damage/dust-shape-masks``; 1-8 px, grown
    1 px; see ``benchmarks/thin_damage.py``), and faces with cracks drawn across the eyes,
    eyebrows and lips (astronaut, camera). Engines: ``fast`` (OpenCV Telea), ``patchmatch``
    (the patch engine before this change: PatchMatch for every hole) and ``patch`` (the patch
    engine now: biharmonic fill for holes up to 24 px thick, PatchMatch above);
(b) the same on larger blob holes 16-128 px (where both patch variants use PatchMatch for the big
    ones), so the change is seen not to cost there;
(c) speed and peak memory of a 12-MP photo with 2 % thin damage, in a child process per engine,
    and ``remove-defects`` end to end (detection + fill) on a 12-MP photo with synthetic
    scratches and dust.

The contact sheet shows the face cases at 200 %: damage | fast | patchmatch | patch | original.

Usage: .venv/bin/python benchmarks/bench_fill.py [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import os
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
from benchmarks import thin_damage as td  # noqa: E402
from photofix.ops.patchmatch import inpaint_fast, inpaint_patch  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "motorcycle")
CROP = 320
COVERAGE = 0.025
ENGINES = {
    "fast": inpaint_fast,
    "patchmatch": lambda im, m: inpaint_patch(im, m, thin="patchmatch"),
    "patch": inpaint_patch,
}
# cracks across facial features: (photo, crop box y0, x0, y1, x1, strokes [(width, points)])
FACES = (
    ("astronaut", (40, 140, 200, 300), [
        (3, [(182, 84), (195, 96), (204, 103), (216, 118)]),  # through the left eye
        (2, [(230, 88), (246, 96), (262, 104)]),  # along the right eyebrow
        (4, [(200, 137), (214, 146), (228, 150), (244, 158)]),  # across the lips
        (1, [(170, 120), (190, 126), (210, 121), (250, 126)]),  # a hairline under the eyes
    ]),
    ("camera", (70, 180, 230, 340), [
        (3, [(215, 130), (228, 140), (240, 146), (256, 158)]),  # through the eye
        (2, [(220, 125), (238, 131), (252, 133)]),  # the eyebrow
        (4, [(225, 168), (238, 174), (252, 182)]),  # the lips
    ]),
)  # fmt: skip


def photo(name: str) -> np.ndarray:
    img = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3], dtype=np.float32) / 255.0


def crop_of(name: str) -> np.ndarray:
    img = photo(name)
    h, w = img.shape[:2]
    size = min(CROP, h, w)
    y0, x0 = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(img[y0 : y0 + size, x0 : x0 + size])


def masked_scores(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """PSNR over the masked pixels; mean SSIM (7×7 windows) over the masked pixels."""
    err = float(((result[mask] - truth[mask]) ** 2).mean())
    _, ssim_map = structural_similarity(
        truth, result, data_range=1.0, channel_axis=2, full=True, win_size=7
    )
    return 10 * np.log10(1.0 / max(err, 1e-12)), float(ssim_map.mean(axis=2)[mask].mean())


def face_mask(shape, strokes) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    for width, pts in strokes:
        cv2.polylines(m, [np.array(pts, np.int32)], False, 1, width, cv2.LINE_AA)
    return cv2.dilate(m, np.ones((3, 3), np.uint8)).astype(bool)


def run_case(truth: np.ndarray, mask: np.ndarray) -> tuple[dict, dict]:
    scores, outs = {}, {}
    for engine, fn in ENGINES.items():
        t = time.perf_counter()
        out = fn(truth, mask)
        seconds = time.perf_counter() - t
        assert np.array_equal(out[~mask], truth[~mask]), "pixels outside the mask changed"
        p, s = masked_scores(out, truth, mask)
        scores[engine] = {"psnr": round(p, 3), "ssim": round(s, 4), "seconds": round(seconds, 3)}
        outs[engine] = out
    return scores, outs


def summarise(rows: list[dict]) -> dict:
    out = {}
    for engine in ENGINES:
        out[engine] = {
            k: round(float(np.mean([r[engine][k] for r in rows])), 3) for k in ("psnr", "ssim")
        }
    for a, b in (("patch", "fast"), ("patch", "patchmatch"), ("patchmatch", "fast")):
        out[f"{a}_minus_{b}_db"] = round(out[a]["psnr"] - out[b]["psnr"], 3)
        out[f"{a}_beats_{b}"] = round(
            float(np.mean([r[a]["psnr"] > r[b]["psnr"] for r in rows])), 3
        )
    out["cases"] = len(rows)
    return out


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = np.ascontiguousarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255,) * 3, 1, cv2.LINE_AA)
    return out


def bench_quality() -> dict:
    rng = np.random.default_rng(20261201)
    rows: dict[str, list[dict]] = {"cracks": [], "scratches": [], "shapes": [], "faces": []}
    holes: list[dict] = []
    sheet = []
    for name in PHOTOS:
        truth = crop_of(name)
        shape = truth.shape[:2]
        grow = np.ones((3, 3), np.uint8)
        masks = {
            "cracks": td.crack_mask(shape, rng, COVERAGE),
            "scratches": td._stroke_truth(shape, rng, COVERAGE),
            "shapes": td.shape_mask(shape, rng, COVERAGE),
        }
        for kind, m in masks.items():
            if not m.any():
                continue  # no real shapes without ../shared
            m = cv2.dilate(m.astype(np.uint8), grow).astype(bool)
            scores, _ = run_case(truth, m)
            rows[kind].append({"photo": name, "masked": round(float(m.mean()), 4), **scores})
            print(f"  {name:10s} {kind:9s} " + "  ".join(
                f"{e} {scores[e]['psnr']:.2f}/{scores[e]['ssim']:.3f}" for e in ENGINES
            ), flush=True)  # fmt: skip
        m = sd.hole_masks(shape, rng, 3)
        scores, _ = run_case(truth, m)
        holes.append({"photo": name, "masked": round(float(m.mean()), 4), **scores})
        print(f"  {name:10s} holes     " + "  ".join(
            f"{e} {scores[e]['psnr']:.2f}/{scores[e]['ssim']:.3f}" for e in ENGINES
        ), flush=True)  # fmt: skip
    for name, (y0, x0, y1, x1), strokes in FACES:
        full = photo(name)
        mask_full = face_mask(full.shape[:2], strokes)
        truth = np.ascontiguousarray(full[y0:y1, x0:x1])
        # strokes are drawn in photo coordinates (x, y); the case is the crop around the face
        m = mask_full[y0:y1, x0:x1]
        scores, outs = run_case(truth, m)
        rows["faces"].append({"photo": name, "masked": round(float(m.mean()), 4), **scores})
        print(f"  {name:10s} face      " + "  ".join(
            f"{e} {scores[e]['psnr']:.2f}/{scores[e]['ssim']:.3f}" for e in ENGINES
        ), flush=True)  # fmt: skip
        shown = np.where(m[..., None], np.float32([1.0, 0.0, 1.0]), truth)
        tiles = [("damage", shown)] + [(e, outs[e]) for e in ENGINES] + [("original", truth)]
        big = [
            label(cv2.resize(t, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST),
                  f"{n}" + (f" {scores[n]['psnr']:.1f} dB" if n in scores else ""))
            for n, t in tiles
        ]  # fmt: skip
        sheet.append(np.concatenate(big, axis=1))
    all_thin = [r for k in ("cracks", "scratches", "shapes", "faces") for r in rows[k]]
    summary = {k: summarise(v) for k, v in rows.items() if v}
    summary["thin_all"] = summarise(all_thin)
    summary["holes_16_128"] = summarise(holes)
    width = max(s.shape[1] for s in sheet)
    sheet = [np.pad(s, ((0, 4), (0, width - s.shape[1]), (0, 0))) for s in sheet]
    cv2.imwrite(str(RESULTS / "fill_contact.png"), np.concatenate(sheet, 0)[..., ::-1])
    return {"summary": summary, "rows": rows, "holes": holes}


SPEED_CHILD = r"""
import json, resource, sys, time
import numpy as np, cv2
sys.path.insert(0, {root!r})
from benchmarks import synthetic_defects as sd
from benchmarks import thin_damage as td
from benchmarks.bench_fill import photo
what = sys.argv[1]
rng = np.random.default_rng(7)
im = cv2.resize(photo("astronaut"), (4000, 3000), interpolation=cv2.INTER_CUBIC)
im = sd.add_grain(np.clip(im, 0, 1), 0.01, rng)
if what == "remove-defects":
    dmg, _ = sd.add_scratches(im, rng, 0.015)
    dmg, _ = sd.add_dust(dmg, rng, 3000)
    from photofix.ops import Layers, OpContext
    from photofix.ops.inpaint import REMOVE
    from photofix.ops.registry import run_operation
    t, c = time.perf_counter(), time.process_time()
    out = run_operation(REMOVE, Layers(dmg), {{}}, OpContext())
    sec, cpu = time.perf_counter() - t, time.process_time() - c
    masked = float(out.mask.mean())
else:
    mask = td.thin_damage_mask(im.shape[:2], rng, 0.016)
    from photofix.ops.patchmatch import inpaint_fast, inpaint_patch
    fn = {{"fast": inpaint_fast, "patch": inpaint_patch,
           "patchmatch": lambda a, m: inpaint_patch(a, m, thin="patchmatch")}}[what]
    t, c = time.perf_counter(), time.process_time()
    fn(im, mask)
    sec, cpu = time.perf_counter() - t, time.process_time() - c
    masked = float(mask.mean())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print(json.dumps({{"seconds": sec, "cpu_seconds": cpu, "peak_gb": peak, "masked": masked}}))
"""


SPEED_CASES = ("fast", "patch", "patchmatch", "remove-defects")


def bench_speed(cases=SPEED_CASES, old: dict | None = None) -> dict:
    out = {**(old or {}), "load_average_before": os.getloadavg()[0]}
    code = SPEED_CHILD.format(root=str(ROOT))
    for what in cases:
        env = {**os.environ, "OMP_NUM_THREADS": "2"}
        res = subprocess.run(
            [sys.executable, "-c", code, what], capture_output=True, text=True, env=env
        )
        if res.returncode != 0:
            print(res.stderr[-2000:])
            raise SystemExit(f"speed child {what} failed")
        out[what] = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"  12 MP, {what}: {out[what]}", flush=True)
    out["load_average_after"] = os.getloadavg()[0]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--only-speed", action="store_true", help="keep the quality results on file")
    ap.add_argument("--speed", choices=SPEED_CASES, action="append", help="speed cases to run")
    args = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict = {"shapes_available": bool(td.shape_bank())}
    path = RESULTS / "fill.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    if args.only_speed:
        report["quality"] = old["quality"]
    else:
        print("(a, b) fill quality, masked PSNR / SSIM")
        report["quality"] = bench_quality()
    if not args.skip_speed:
        print("(c) speed, 12-MP photo")
        report["speed"] = bench_speed(args.speed or SPEED_CASES, old.get("speed"))
    print("\n== summary")
    for case, s in report["quality"]["summary"].items():
        print(f"{case:12s} " + "  ".join(
            f"{e} {s[e]['psnr']:.2f} dB / {s[e]['ssim']:.3f}" for e in ENGINES
        ) + f" | patch − fast {s['patch_minus_fast_db']:+.2f} dB,"
            f" patch − patchmatch {s['patch_minus_patchmatch_db']:+.2f} dB")  # fmt: skip
    path.write_text(json.dumps({**old, **report}, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
