"""Audit class "memory": a header that claims more than the file can hold is refused before
anything is allocated; outputs above the megapixel limit are refused before any work; fade,
resize and saving keep their scratch memory small; running out of memory is one line."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from benchmarks.bench_memory import jpeg_bomb
from photofix.core import imageio
from photofix.ops import fade, resize
from tests.safety.conftest import snapshot, write_png

# A child runs the command under a 2 GB address-space cap (so code that would allocate the
# declared 15000 × 15000 fails fast instead of taking the machine) and reports its peak RSS.
_MEASURED = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from photofix.cli import main
code = main(sys.argv[1:])
# VmHWM starts afresh at exec; ru_maxrss would carry over the parent's (pytest's) peak
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
print(json.dumps({"code": code, "peak": peak}))
"""


def measured(*args: object, cwd: Path) -> tuple[int, int, str]:
    import photofix

    root = str(Path(photofix.__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", _MEASURED, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"})  # fmt: skip
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], report["peak"], done.stderr


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(path: Path, side: int = 15000) -> Path:
    row = b"\x00" + bytes(side * 3)
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = zlib.compress(row * 4)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat)
                     + _chunk(b"IEND", b""))  # fmt: skip
    return path


def tiff_bomb(path: Path, side: int = 15000) -> Path:
    """A small uncompressed TIFF whose header says ``side`` × ``side``."""
    tifffile.imwrite(path, np.zeros((8, 8, 3), np.uint8), photometric="rgb", metadata=None)
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages.first.tags
        for code in (256, 257):
            at = tags[code].valueoffset
            kind = tags[code].dtype
            struct.pack_into("<H" if kind == 3 else "<I", data, at, side)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("make", [jpeg_bomb, png_bomb, tiff_bomb], ids=["jpeg", "png", "tiff"])
def test_declared_size_the_file_cannot_hold_is_refused_cheaply(tmp_path: Path, make) -> None:
    src = make(tmp_path / f"bomb.{make.__name__[:4].replace('_', '')}")
    assert src.stat().st_size < 200_000
    code, peak, err = measured("process", src.name, "-o", "out.png", "--op", "fade", "-q",
                               cwd=tmp_path)  # fmt: skip
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot hold" in lines[0], err
    assert peak < 500 << 20
    assert not (tmp_path / "out.png").exists()


def test_info_of_a_bomb_reads_the_header_only(run, tmp_path: Path) -> None:
    """Describing a file never decodes it, so info still answers."""
    r = run("info", jpeg_bomb(tmp_path / "bomb.jpg"))
    assert r.code == 0 and "15000 x 15000" in r.out


@pytest.mark.parametrize(
    "op",
    ["upscale:long_edge=65535", "resize:width=60000,height=60000", "resize:scale=64"],
)
def test_output_above_the_limit_is_refused_before_starting(run, tmp_path: Path, op) -> None:
    write_png(tmp_path / "crop.png", 32, 40)
    before = snapshot(tmp_path)
    r = run("process", tmp_path / "crop.png", "-o", tmp_path / "big.png", "--op", op,
            "--max-megapixels", "1", "-q")  # fmt: skip
    assert r.code == 1
    r.one_error_line("megapixels", "nothing was done")
    assert snapshot(tmp_path) == before


def test_chained_size_counts(run, tmp_path: Path) -> None:
    """A resize that comes back down within the limit is fine."""
    write_png(tmp_path / "crop.png", 32, 40)
    r = run("process", tmp_path / "crop.png", "-o", tmp_path / "o.png",
            "--op", "resize:scale=4", "--op", "resize:width=40,height=32",
            "--max-megapixels", "0.01", "-q")  # fmt: skip
    assert r.code == 0, r.err


@pytest.mark.parametrize("limit", ["inf", "-1", "0"])
def test_no_limit_spellings_work(run, tmp_path: Path, limit: str) -> None:
    write_png(tmp_path / "a.png")
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png", "--op", "fade",
            "--max-megapixels", limit, "-q")  # fmt: skip
    assert r.code == 0, r.err


def test_nan_limit_is_one_line(run, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png", "--op", "fade",
            "--max-megapixels", "nan", "-q")  # fmt: skip
    assert r.code == 1
    r.one_error_line("--max-megapixels")


def test_input_above_the_limit_is_one_line(run, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png", "--op", "fade",
            "--max-megapixels", "0.001", "-q")  # fmt: skip
    assert r.code == 1
    r.one_error_line("megapixels")


def test_out_of_memory_anywhere_is_one_line(run, tmp_path: Path, monkeypatch) -> None:
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(fade, "correct_fade", exhausted)
    write_png(tmp_path / "a.png")
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png", "--op", "fade", "-q")
    assert r.code == 1
    r.one_error_line("out of memory")
    assert not (tmp_path / "o.png").exists()


def peak_bytes(call) -> int:
    """Peak of numpy allocations (traced by tracemalloc) during ``call()``, beyond its result."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - result.nbytes


def test_fade_scratch_memory_is_a_fraction_of_the_image() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((1200, 1600, 3), dtype=np.float32)
    extra = peak_bytes(lambda: fade.correct_fade(image))
    assert extra < 0.25 * image.nbytes, extra / image.nbytes


def test_resize_scratch_memory_is_a_fraction_of_the_result() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((600, 800, 3), dtype=np.float32)
    extra = peak_bytes(lambda: resize.resize_image(image, (1600, 1200)))
    assert extra < 0.8 * image.nbytes * 4, extra / (image.nbytes * 4)


def test_quantising_for_save_needs_no_float_copy() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((1200, 1600, 3), dtype=np.float32)
    extra = peak_bytes(lambda: imageio.to_uint16(image))
    assert extra < 0.25 * image.nbytes, extra / image.nbytes


def _whole_hash(path: Path) -> str:
    import hashlib

    loaded = imageio.load_image(path, max_pixels=None)
    digest = hashlib.sha256(np.ascontiguousarray(loaded.rgb).tobytes())
    if loaded.alpha is not None:
        digest.update(np.ascontiguousarray(loaded.alpha).tobytes())
    return digest.hexdigest()


def _oriented_jpeg(path: Path, rgb: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the upright picture is the stored one turned
    Image.fromarray(rgb).save(path, "JPEG", exif=exif.tobytes())


@pytest.mark.parametrize(
    "kind", ["png8", "png16", "gray16", "rgba", "tiff16", "float", "jpeg-oriented"]
)
def test_record_hash_in_strips_is_the_hash_of_the_loaded_pixels(tmp_path: Path, kind) -> None:
    """The record's pixels_sha256 is hashed strip by strip from the decoded samples; it must
    be the hash of what load_image returns, for every kind of file PhotoFix writes or reads."""
    rng = np.random.default_rng(3)
    h, w = 601, 333  # more rows than one strip, not a multiple of it
    suffix = {"jpeg-oriented": "jpg", "tiff16": "tif", "float": "tif"}.get(kind, "png")
    path = tmp_path / f"{kind}.{suffix}"
    if kind == "png8":
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    elif kind == "png16":
        imageio.save_image(path, rng.random((h, w, 3), dtype=np.float32), bit_depth=16)
    elif kind == "gray16":
        tifffile.imwrite(path.with_suffix(".tif"), rng.integers(0, 65536, (h, w), dtype=np.uint16))
        path = path.with_suffix(".tif")
    elif kind == "rgba":
        Image.fromarray(rng.integers(0, 256, (h, w, 4), dtype=np.uint8), "RGBA").save(path)
    elif kind == "tiff16":
        tifffile.imwrite(
            path, rng.integers(0, 65536, (h, w, 3), dtype=np.uint16), photometric="rgb"
        )
    elif kind == "float":
        tifffile.imwrite(
            path, rng.normal(0.5, 0.4, (h, w, 3)).astype(np.float32), photometric="rgb"
        )
    else:
        _oriented_jpeg(path, rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    assert imageio.pixels_sha256(path) == _whole_hash(path)


def test_record_hash_needs_no_float_copy(tmp_path: Path) -> None:
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, np.full((1500, 1600, 3), 40000, np.uint16), photometric="rgb")
    as_float = 1500 * 1600 * 3 * 4
    tracemalloc.start()
    try:
        imageio.pixels_sha256(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.75 * as_float, peak / as_float  # the uint16 samples (0.5×) and a strip
