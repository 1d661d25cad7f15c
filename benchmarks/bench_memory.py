"""Peak memory of ``photofix process`` on a 6000 × 4000 16-bit TIFF, against the image's size.

For each case the command runs in a child process, end to end (read, operation, write), and
its peak resident set size (``ru_maxrss``) is compared with

- the decoded image: float32 RGB, 12 bytes per pixel (288 MB here), the program's convention;
- the file's own samples: uint16 RGB, 6 bytes per pixel (144 MB).

Also measured: the floor of the process itself (``photofix process --op resize:scale=1`` on a
64 × 64 file: Python, numpy, OpenCV, Pillow), and the 15000 × 15000 JPEG header on a 700-byte
file (time to refusal and peak RSS; the issue's bar is 2 s and 500 MB).

Writes ``benchmarks/results/memory.json``.

    nice -n 10 .venv/bin/python benchmarks/bench_memory.py [--quick] [--skip-defects]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "memory.json"

_CHILD = """
import json, resource, sys, time
start = time.perf_counter()
from photofix.cli import main
imported = time.perf_counter()
code = main(sys.argv[1:])
end = time.perf_counter()
print(json.dumps({"code": code, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "seconds": end - start, "seconds_in_main": end - imported}))
"""


def measure(args: list[str], cwd: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], cwd=cwd, capture_output=True, text=True, env=env
    )
    lines = done.stdout.strip().splitlines()
    if not lines:  # it died (a traceback, out of memory): report how
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return {"code": done.returncode, "peak": 0, "seconds": 0.0, "seconds_in_main": 0.0,
                "stderr": tail[0][-300:]}  # fmt: skip
    report = json.loads(lines[-1])
    report["stderr"] = done.stderr.strip()[-300:]
    return report


def scan_like_tiff(path: Path, width: int, height: int) -> None:
    """A faded-looking 16-bit scan: smooth tones, a cast and grain (uncompressed TIFF)."""
    rng = np.random.default_rng(0)
    rows = []
    for y0 in range(0, height, 500):
        y, x = np.mgrid[y0 : min(height, y0 + 500), 0:width].astype(np.float32)
        base = 0.35 + 0.25 * np.sin(x / 700.0) * np.cos(y / 900.0)
        rgb = np.stack([base * 0.9 + 0.12, base * 0.75 + 0.08, base * 0.6 + 0.05], axis=-1)
        rgb += rng.normal(0, 0.01, rgb.shape).astype(np.float32)
        rows.append(np.clip(rgb * 65535, 0, 65535).astype(np.uint16))
    tifffile.imwrite(path, np.concatenate(rows), photometric="rgb", metadata=None)


def jpeg_bomb(path: Path, side: int = 15000) -> Path:
    """A real 64 × 64 JPEG (~700 bytes) whose frame header says ``side`` × ``side``."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (100, 120, 140)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, side, side)
    path.write_bytes(bytes(data))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1500 × 1000 instead of 6000 × 4000")
    parser.add_argument("--skip-defects", action="store_true")
    parser.add_argument("--size", help="WxH instead of 6000x4000 (results are not written)")
    args = parser.parse_args()
    width, height = (1500, 1000) if args.quick else (6000, 4000)
    if args.size:
        width, height = (int(v) for v in args.size.lower().split("x"))
    decoded = width * height * 3 * 4
    samples = width * height * 3 * 2
    results: dict = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "image": f"{width} x {height} RGB 16-bit TIFF",
        "decoded_float32_bytes": decoded,
        "file_samples_uint16_bytes": samples,
        "cases": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        Image.new("RGB", (64, 64)).save(folder / "tiny.png")
        floor = measure(["process", "tiny.png", "-o", "t.png", "--op", "resize:scale=1", "-q"],
                        folder)  # fmt: skip
        results["process_floor_bytes"] = floor["peak"]
        jpeg_bomb(folder / "bomb.jpg")
        bomb = measure(["process", "bomb.jpg", "-o", "b.png", "--op", "fade", "-q"], folder)
        results["bomb_15000x15000_jpeg"] = {
            "file_bytes": (folder / "bomb.jpg").stat().st_size,
            "exit_code": bomb["code"],
            "seconds_with_start_up": round(bomb["seconds"], 3),
            "seconds_in_main": round(bomb["seconds_in_main"], 3),
            "peak_rss_bytes": bomb["peak"],
            "message": bomb["stderr"],
        }
        if not args.skip_defects:  # the detector's fixed cost: torch, its weights, one tile
            scan_like_tiff(folder / "small.tif", 640, 640)
            small = measure(["process", "small.tif", "-o", "s.tif", "--op", "detect-defects",
                             "--save-mask", "smask.png", "-q"], folder)  # fmt: skip
            results["detect_defects_floor_bytes"] = small["peak"]
            results["detect_defects_floor_image"] = "640 x 640 RGB 16-bit TIFF"
        scan_like_tiff(folder / "scan.tif", width, height)
        cases = {
            "fade": ["--op", "fade"],
            "fade --no-record": ["--op", "fade", "--no-record"],
            "detect-defects": ["--op", "detect-defects", "--save-mask", "mask.png"],
        }
        if args.skip_defects:
            del cases["detect-defects"]
        for name, ops in cases.items():
            out = name.split()[0]
            report = measure(["process", "scan.tif", "-o", f"{out}.tif", *ops, "-q"], folder)
            peak = report["peak"]
            results["cases"][name] = {
                "exit_code": report["code"],
                "seconds": round(report["seconds"], 1),
                "peak_rss_bytes": peak,
                "peak_over_decoded": round(peak / decoded, 2),
                "peak_over_file_samples": round(peak / samples, 2),
                "peak_minus_floor_over_decoded": round((peak - floor["peak"]) / decoded, 2),
                "bytes_per_pixel": round(peak / (width * height), 1),
                "stderr": report["stderr"],
            }
            if name == "detect-defects" and "detect_defects_floor_bytes" in results:
                fixed = results["detect_defects_floor_bytes"]
                results["cases"][name]["peak_minus_detector_floor_over_decoded"] = round(
                    (peak - fixed) / decoded, 2
                )
            print(name, json.dumps(results["cases"][name]), flush=True)
    print(json.dumps({k: v for k, v in results.items() if k != "cases"}, indent=1))
    if not args.quick and not args.size:
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
