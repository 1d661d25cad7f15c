"""Smoke test of a built PhotoFix bundle, as a user's first start would exercise it.

    python packaging/smoke_test.py dist/PhotoFix            (Linux, Windows)
    python packaging/smoke_test.py dist/PhotoFix.app        (macOS)
    python packaging/smoke_test.py dist/PhotoFix --startup-runs 5 --cold

Runs with any Python 3.10+ and only the standard library (CI runs it with the runner's Python,
outside the venv the bundle was built from). Every program runs in a fresh, empty profile (its
own settings, cache, models and log folders) with proxies pointing at a closed local port, so
anything that tried the network would fail instead of passing quietly. Checks:

1. ``photofix-cli --version`` prints this checkout's version;
2. the bundled sample scan (inside the bundle) goes through detect-defects, denoise and
   upscale ×2 on the CPU and is saved: the output is a PNG twice the sample's size, an image
   (not a flat field), the saved mask marks some of the sample's damage but not most of it; the
   step record ``<output>.photofix.json``, when written, must name the three operations, and
   it must be written when the bundle carries the record schemas (``photofix/schemas``);
3. the window opens offscreen and opens the sample (``PHOTOFIX_EXIT_AFTER_START``): exit 0,
   and the log file in the log folder says "window shown"; ``--startup-runs N`` times N fresh
   starts and prints the median time to the window (``--cold`` first evicts the bundle's files
   from the page cache on Linux).

Exits 0 when everything holds; otherwise prints what failed and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPS = ("detect-defects", "denoise", "upscale")


class Failure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def expected_version() -> str:
    text = (ROOT / "photofix" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    check(match is not None, "cannot read __version__ from photofix/__init__.py")
    return match.group(1)  # type: ignore[union-attr]


def programs(bundle: Path) -> tuple[Path, Path, Path]:
    """(window program, command-line program, folder holding the photofix package data)."""
    exe = ".exe" if sys.platform == "win32" else ""
    folder = bundle / "Contents" / "MacOS" if bundle.suffix == ".app" else bundle
    gui, cli = folder / f"PhotoFix{exe}", folder / f"photofix-cli{exe}"
    check(gui.is_file(), f"no window program at {gui}")
    check(cli.is_file(), f"no command-line program at {cli}")
    samples = sorted(bundle.rglob("photofix/_resources/samples/sample_scan.jpg"))
    check(bool(samples), f"the bundled sample scan is missing from {bundle}")
    return gui, cli, samples[0].parent.parent.parent  # .../photofix


def fresh_env(profile: Path) -> dict[str, str]:
    """A first start: empty settings, cache and log folders, no network, no display."""
    env = dict(os.environ)
    for key in ("PHOTOFIX_MODELS_DIR", "PYTHONPATH", "PYTHONHOME", "QT_PLUGIN_PATH"):
        env.pop(key, None)
    dirs = {
        "HOME": profile / "home",
        "USERPROFILE": profile / "home",
        "APPDATA": profile / "appdata",
        "LOCALAPPDATA": profile / "localappdata",
        "XDG_CONFIG_HOME": profile / "config",
        "XDG_DATA_HOME": profile / "data",
        "XDG_CACHE_HOME": profile / "cache",
        "XDG_STATE_HOME": profile / "state",
        "PHOTOFIX_CACHE_DIR": profile / "weights-cache",
        "PHOTOFIX_LOG_DIR": profile / "log",
    }
    for key, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[key] = str(path)
    dead = "http://127.0.0.1:9"  # discard port: a connection attempt fails at once
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[key] = dead
    env["no_proxy"] = env["NO_PROXY"] = ""
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    shown = " ".join(str(c) for c in cmd)
    print(f"smoke: $ {shown}", flush=True)
    try:
        done = subprocess.run(
            [str(c) for c in cmd], env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise Failure(f"timed out after {timeout:.0f} s: {shown}") from exc
    if done.returncode != 0:
        raise Failure(
            f"exit {done.returncode}: {shown}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


def png_header(path: Path) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG's IHDR."""
    data = path.read_bytes()[:33]
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, colour


def png_rows(path: Path) -> tuple[int, int, int, list[bytes]]:
    """A small PNG reader (8-bit grey/RGB/RGBA, no interlace): (width, height, channels, rows)."""
    data = path.read_bytes()
    width, height, depth, colour = png_header(path)
    check(depth == 8, f"{path.name}: expected 8 bits per channel, got {depth}")
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, cur = line[0], bytearray(line[1:])
        for i in range(stride):
            a = cur[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                cur[i] = (cur[i] + a) & 255
            elif kind == 2:
                cur[i] = (cur[i] + b) & 255
            elif kind == 3:
                cur[i] = (cur[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pred) & 255
        rows.append(bytes(cur))
        prev = cur
    return width, height, channels, rows


def jpeg_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    pos = 2
    while pos < len(data):
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise Failure(f"{path.name}: no JPEG frame header")


def check_processing(cli: Path, package: Path, sample: Path, env: dict, work: Path) -> None:
    out, mask = work / "restored.png", work / "restored-mask.png"
    cmd = [cli, "process", sample, "-o", out, "--device", "cpu", "--save-mask", mask]
    for op in ("detect-defects", "denoise", "upscale:scale=2"):
        cmd += ["--op", op]
    started = time.perf_counter()
    run(cmd, env, timeout=1800)
    print(f"smoke: processed in {time.perf_counter() - started:.1f} s", flush=True)

    sw, sh = jpeg_size(sample)
    width, height, channels, rows = png_rows(out)
    check((width, height) == (2 * sw, 2 * sh), f"output {width}x{height}, expected 2x {sw}x{sh}")
    check(channels in (3, 4), f"output has {channels} channels, expected RGB")
    values = [v for row in rows[:: max(1, height // 64)] for v in row[:: channels * 7]]
    spread = statistics.pstdev(values)
    check(spread > 10, f"output is nearly flat (std {spread:.1f} levels): not a picture")
    mw, mh, _, mrows = png_rows(mask)
    check((mw, mh) == (width, height), f"mask {mw}x{mh}, expected {width}x{height}")
    marked = sum(1 for row in mrows for v in row if v) / (mw * mh)
    check(0.0005 < marked < 0.2, f"detect-defects marked {marked:.2%} of the sample")
    print(
        f"smoke: output {width}x{height} PNG, std {spread:.0f} levels; mask marks {marked:.2%}",
        flush=True,
    )

    record = out.with_name(out.name + ".photofix.json")
    if not record.is_file():
        check(
            not (package / "schemas").is_dir(),
            f"the bundle has step-record schemas but {record.name} was not written",
        )
        print("smoke: this build writes no step record (photofix/schemas absent): not checked")
        return
    steps = json.loads(record.read_text(encoding="utf-8"))
    text = json.dumps(steps)
    missing = [op for op in OPS if op not in text]
    check(not missing, f"{record.name} does not name {', '.join(missing)}")
    print(f"smoke: step record {record.name} names {', '.join(OPS)}", flush=True)


def evict(bundle: Path) -> None:
    """Drop the bundle's files from the page cache (Linux), so the next start reads the disk."""
    if not hasattr(os, "posix_fadvise"):
        return
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _children_cpu() -> float:
    """CPU seconds used so far by this process's waited-for children (0 where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_window(gui: Path, sample: Path, env: dict, profile: Path) -> tuple[float, float]:
    """Start the window on the sample: (seconds until it reported being shown, CPU seconds
    the whole start took, exit included; 0 where unknown)."""
    env = dict(env, PHOTOFIX_EXIT_AFTER_START="1")
    log = Path(env["PHOTOFIX_LOG_DIR"]) / "photofix.log"
    log.unlink(missing_ok=True)
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(gui), str(sample)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    shown_at = None
    assert proc.stdout is not None
    for line in proc.stdout:  # a windowed Windows program has no stdout: the log says it
        if "window shown" in line and shown_at is None:
            shown_at = time.perf_counter() - started
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        raise Failure("the window did not start within 120 s") from exc
    total = time.perf_counter() - started
    check(proc.returncode == 0, f"the window program exited {proc.returncode}:\n{err}")
    check(log.is_file(), f"no log file at {log}")
    text = log.read_text(encoding="utf-8", errors="replace")
    check("window shown" in text, f"the log does not say the window was shown:\n{text}")
    return (shown_at if shown_at is not None else total), _children_cpu() - cpu_before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path, help="dist/PhotoFix, or dist/PhotoFix.app")
    parser.add_argument("--startup-runs", type=int, default=1, metavar="N")
    parser.add_argument("--cold", action="store_true", help="evict the bundle from the cache")
    parser.add_argument("--skip-processing", action="store_true")
    args = parser.parse_args(argv)
    bundle = args.bundle.resolve()
    try:
        gui, cli, package = programs(bundle)
        sample = package / "_resources" / "samples" / "sample_scan.jpg"
        with tempfile.TemporaryDirectory(prefix="photofix-smoke-") as tmp:
            work = Path(tmp)
            env = fresh_env(work / "profile")
            version = run([cli, "--version"], env, timeout=120).stdout.strip()
            check(version == f"PhotoFix {expected_version()}", f"--version said {version!r}")
            print(f"smoke: {version}", flush=True)
            if not args.skip_processing:
                check_processing(cli, package, sample, env, work)
            times, cpus = [], []
            for i in range(max(1, args.startup_runs)):
                if args.cold:
                    evict(bundle)
                profile = work / f"start-{i}"
                wall, cpu = start_window(gui, sample, fresh_env(profile), profile)
                times.append(wall)
                cpus.append(cpu)
            median = statistics.median(times)
            shown = ", ".join(f"{t:.2f}" for t in times)
            print(
                f"smoke: window shown offscreen; start to window {shown} s (median {median:.2f};"
                f" CPU per start, exit included: median {statistics.median(cpus):.2f} s)"
            )
            result = {
                "version": version,
                "cold": args.cold,
                "start_to_window_s": times,
                "median_s": median,
                "cpu_per_start_s": cpus,
            }
            print("smoke: " + json.dumps(result), flush=True)
    except Failure as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    print("smoke: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
