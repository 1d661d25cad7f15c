"""GPU speed of the bundled models and of a batch run, against the device's own matrix peak.

For each bundled model, on one photo of --megapixels (default 4) through the model's tiled
path exactly as the operations call it (``runner_for(spec, policy).run``: tile size from the
device's free memory, context, feathered blend, OOM retry):

- megapixels per second in fp16 and in bf16 (CUDA), or in the CPU's fast (bf16) and exact
  (fp32) paths with ``--device cpu``;
- the tile size chosen and peak device memory (CUDA's allocator peak; the process's VmHWM on
  the CPU);
- deviation from the fp32 CPU path, max / 99.9th percentile in 8-bit levels, on a central crop
  (the fp32 CPU path over a whole 4-MP image takes minutes for RRDBNet);
- its FLOP per input pixel, counted from the network's own convolutions on a probe input, and
  so the share of the measured matrix peak that the end-to-end run reaches.

Also the device's measured matrix peak (a large matmul in fp16 on CUDA, bf16 on the CPU) and a
batch run: images per minute for ``photofix process`` over --batch small scans (denoise +
upscale ×2), one process, the way a folder is run today.

    .venv/bin/python benchmarks/bench_gpu.py                     # on a CUDA machine
    .venv/bin/python benchmarks/bench_gpu.py --device cpu --megapixels 0.05 --batch 8

Writes benchmarks/results/gpu.json (or gpu_cpu.json with --device cpu) unless --json is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from photofix.inference.device import DevicePolicy, ResolvedDevice  # noqa: E402
from photofix.inference.runner import ModelRunner  # noqa: E402
from photofix.models import MODELS  # noqa: E402
from photofix.models.spec import PackageWeights  # noqa: E402

CROP = 192  # edge of the crop compared against the fp32 CPU path


def photo(megapixels: float) -> np.ndarray:
    """A natural photo (skimage's astronaut, Lanczos-resized) of about ``megapixels``."""
    import cv2
    from skimage import data

    src = data.astronaut()
    edge = max(16, round((megapixels * 1e6) ** 0.5))
    rgb = cv2.resize(src, (edge, edge), interpolation=cv2.INTER_LANCZOS4)
    return rgb.astype(np.float32) / 255


def bundled_models() -> list[str]:
    return [m for m, spec in MODELS.items() if isinstance(spec.weights, PackageWeights)]


def options_for(model_id: str) -> dict:
    return {"sigma": 25.0} if MODELS[model_id].task == "denoise" else {}


def flop_per_pixel(model_id: str) -> float:
    """Multiply-adds ×2 of every convolution, per input pixel, counted on a 64×64 input."""
    import torch

    runner = ModelRunner(MODELS[model_id], DevicePolicy("cpu", half_precision=False).resolve())
    net = runner.net()
    total = [0.0]

    def count(module, _inputs, output):
        w = module.weight
        if isinstance(module, torch.nn.ConvTranspose2d):
            # every input pixel meets the whole kernel once per output channel
            n_in = _inputs[0].shape[-2] * _inputs[0].shape[-1]
            total[0] += 2.0 * n_in * w.shape[0] * w.shape[1] * w.shape[2] * w.shape[3]
        else:
            n_out = output.shape[-2] * output.shape[-1]
            total[0] += 2.0 * n_out * w.shape[0] * w.shape[1] * w.shape[2] * w.shape[3]

    hooks = [
        m.register_forward_hook(count)
        for m in net.modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
    ]
    edge = 64
    channels = MODELS[model_id].channels
    runner.process_tile(np.zeros((edge, edge, channels), np.float32), **options_for(model_id))
    for h in hooks:
        h.remove()
    return total[0] / (edge * edge)


def matmul_peak(device: ResolvedDevice) -> dict:
    """Measured dense matrix throughput: fp16 on CUDA, bf16 (and fp32) on the CPU."""
    import torch

    results = {}
    if device.kind == "cuda":
        cases = [("float16", 8192, 20), ("bfloat16", 8192, 20)]
    else:
        cases = [("bfloat16", 2048, 5), ("float32", 2048, 5)]
    for dtype, n, reps in cases:
        a = torch.randn(n, n, device=device.torch_device(), dtype=getattr(torch, dtype))
        b = torch.randn(n, n, device=device.torch_device(), dtype=getattr(torch, dtype))
        (a @ b).sum().item()  # warm up
        _sync(device)
        t = time.perf_counter()
        for _ in range(reps):
            c = a @ b
        _sync(device)
        dt = time.perf_counter() - t
        del c
        results[dtype] = 2.0 * n**3 * reps / dt / 1e12
    return {"tflops": results, "sizes": {d: n for d, n, _ in cases}}


def _sync(device: ResolvedDevice) -> None:
    import torch

    if device.kind == "cuda":
        torch.cuda.synchronize(device.index)


def _peak_memory(device: ResolvedDevice) -> float:
    import torch

    if device.kind == "cuda":
        return torch.cuda.max_memory_allocated(device.index) / 2**20
    with open("/proc/self/status") as f:  # Linux; elsewhere report nothing
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak(device: ResolvedDevice) -> None:
    import torch

    if device.kind == "cuda":
        torch.cuda.synchronize(device.index)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device.index)


def precisions(kind: str) -> list[tuple[str, ResolvedDevice]]:
    if kind == "cuda":
        base = DevicePolicy("cuda").resolve()
        return [
            ("float16", base),
            ("bfloat16", ResolvedDevice("cuda", base.index, "bfloat16", base.name)),
            ("float32", ResolvedDevice("cuda", base.index, "float32", base.name)),
        ]
    fast = DevicePolicy("cpu").resolve()
    exact = DevicePolicy("cpu", half_precision=False).resolve()
    runs = [(fast.dtype, fast)]
    if fast.dtype != exact.dtype:
        runs.append(("float32", exact))
    return runs


def bench_model(model_id: str, image: np.ndarray, kind: str, repeat: int) -> dict:
    spec = MODELS[model_id]
    options = options_for(model_id)
    if spec.channels == 1:  # the gray models take the photo's luma
        image = np.ascontiguousarray(image.mean(axis=2, keepdims=True, dtype=np.float32))
    edge = min(CROP, image.shape[0], image.shape[1])
    y0, x0 = (image.shape[0] - edge) // 2, (image.shape[1] - edge) // 2
    crop = np.ascontiguousarray(image[y0 : y0 + edge, x0 : x0 + edge])
    reference = ModelRunner(spec, DevicePolicy("cpu", half_precision=False).resolve()).run(
        crop, **options
    )
    mp = image.shape[0] * image.shape[1] / 1e6
    row: dict = {"megapixels": round(mp, 3), "scale": spec.scale, "runs": {}}
    for dtype, device in precisions(kind):
        runner = ModelRunner(spec, device)
        runner.run(crop, **options)  # warm up: load, convert, autotune kernels
        _reset_peak(device)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            runner.run(image, **options)
            _sync(device)
            times.append(time.perf_counter() - t)
        peak = _peak_memory(device)
        out = runner.run(crop, **options)
        dev = np.abs(np.rint(out * 255) - np.rint(reference * 255))
        row["runs"][dtype] = {
            "seconds": min(times),
            "mp_per_s": mp / min(times),
            "tile": runner.tile_size(**options),
            "bytes_per_pixel_measured": None
            if runner.budget is None
            else runner.budget.bytes_per_pixel,
            "peak_memory_mb": peak,
            "vs_cpu_fp32_max_levels": float(dev.max()),
            "vs_cpu_fp32_p999_levels": float(np.percentile(dev, 99.9)),
        }
        run = row["runs"][dtype]
        run["effective_dtype"] = dtype if spec.reduced_precision else "float32 (model opts out)"
        print(
            f"  {model_id:26s} {dtype:9s} {run['mp_per_s']:8.4f} MP/s  tile {run['tile']:5d}  "
            f"peak {peak:8.0f} MB  vs fp32 CPU max/p99.9 {run['vs_cpu_fp32_max_levels']:.0f}/"
            f"{run['vs_cpu_fp32_p999_levels']:.0f}",
            flush=True,
        )
    return row


def bench_batch(count: int, device: str) -> dict:
    """Images per minute for one `photofix process` run over ``count`` small scans."""
    import cv2
    from skimage import data

    src = data.astronaut()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "scans"
        folder.mkdir()
        rng = np.random.default_rng(0)
        for i in range(count):
            y, x = rng.integers(0, 512 - 160, 2)
            crop = src[y : y + 160, x : x + 160]
            noisy = np.clip(crop + rng.normal(0, 8, crop.shape), 0, 255).astype(np.uint8)
            cv2.imwrite(str(folder / f"scan{i:03d}.png"), noisy[:, :, ::-1])
        inputs = sorted(str(p) for p in folder.glob("*.png"))
        cmd = [sys.executable, "-m", "photofix", "process", *inputs, "-o", str(Path(tmp) / "out"),
               "--op", "denoise", "--op", "upscale:scale=2,model=realesr-animevideov3",
               "--device", device]  # fmt: skip
        t = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
        dt = time.perf_counter() - t
        written = len(list((Path(tmp) / "out").glob("*.png")))
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return {
        "images": count,
        "written": written,
        "seconds": dt,
        "images_per_minute": 60 * count / dt,
        "chain": "denoise, upscale x2 (realesr-animevideov3)",
        "image": "160x160 PNG",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--megapixels", type=float, default=4.0)
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit(
            "bench_gpu: no CUDA device here; run with --device cpu for the same code on the CPU"
        )
    device = DevicePolicy(args.device).resolve()
    print(f"device: {device.name}, torch {torch.__version__}", flush=True)
    peak = matmul_peak(device)
    print(f"matrix peak (TFLOP/s): {peak['tflops']}", flush=True)
    image = photo(args.megapixels)
    models = args.models or bundled_models()
    results = {}
    for model_id in models:
        results[model_id] = bench_model(model_id, image, args.device, args.repeat)
        results[model_id]["gflop_per_input_pixel"] = flop_per_pixel(model_id) / 1e9
    ref_dtype = "float16" if args.device == "cuda" else "bfloat16"
    for row in results.values():
        for dtype, run in row["runs"].items():
            peak_t = peak["tflops"].get(dtype if dtype in peak["tflops"] else ref_dtype)
            achieved = row["gflop_per_input_pixel"] * 1e9 * run["mp_per_s"] * 1e6 / 1e12
            run["tflops_achieved"] = achieved
            run["share_of_matrix_peak"] = achieved / peak_t if peak_t else None
    batch = bench_batch(args.batch, args.device) if args.batch else None
    if batch:
        print(f"batch: {batch}", flush=True)
    out = {
        "device": device.name,
        "kind": device.kind,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "matrix_peak": peak,
        "models": results,
        "batch": batch,
        "note": "end to end through the tiled model path (tile from free memory on a GPU); "
        "deviation on a central crop against the fp32 CPU path",
    }
    name = "gpu.json" if args.device == "cuda" else "gpu_cpu.json"
    path = args.json or HERE / "results" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    for model_id, row in results.items():
        for dtype, run in row["runs"].items():
            share = run["share_of_matrix_peak"]
            print(
                f"{model_id:26s} {dtype:9s} {run['mp_per_s']:8.3f} MP/s  "
                f"{run['tflops_achieved']:7.3f} TFLOP/s = {100 * share:5.1f} % of peak"
            )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
