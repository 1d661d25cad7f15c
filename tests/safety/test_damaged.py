"""Audit classes "damaged files accepted as results", "truncation" and "tracebacks": a damaged
or unreadable input gives one line naming the file and the damage, and no output; with
--accept-damaged what is readable is kept, with a warning."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.safety.conftest import photo, run_child, snapshot


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_rows(path: Path, width: int, height: int, rows: int, depth: int = 8) -> Path:
    """A PNG that says ``height`` rows but whose (complete, valid) zlib stream holds ``rows``."""
    rng = np.random.default_rng(0)
    row = 1 + width * 3 * depth // 8
    raw = b"".join(b"\x00" + rng.integers(0, 256, row - 1, dtype=np.uint8).tobytes()
                   for _ in range(rows))  # fmt: skip
    header = struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw))
    path.write_bytes(data + _chunk(b"IEND", b""))
    return path


def smooth_jpeg(path: Path) -> bytes:
    y, x = np.mgrid[0:96, 0:128]
    rgb = np.stack([x * 2, y * 2, np.full_like(x, 128)], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(path, quality=90)
    return path.read_bytes()


def garbage_in_scan(path: Path) -> Path:
    """Random bytes (no 0xFF, so no stray marker) over the middle of the scan data: Pillow
    decodes it without a word, into grey and smeared rows."""
    data = bytearray(smooth_jpeg(path))
    rng = np.random.default_rng(1)
    junk = rng.integers(0, 255, len(data) // 4, dtype=np.uint8)
    start = len(data) // 2
    data[start : start + len(junk)] = junk.tobytes()
    path.write_bytes(bytes(data))
    return path


def zeroed_scan(path: Path) -> Path:
    data = bytearray(smooth_jpeg(path))
    data[len(data) // 3 : -2] = bytes(len(data) - 2 - len(data) // 3)
    path.write_bytes(bytes(data))
    return path


DAMAGED = {
    "jpeg-garbage-scan": (lambda p: garbage_in_scan(p / "scan.jpg"), ["scan.jpg", "damaged"]),
    "jpeg-zeroed-scan": (lambda p: zeroed_scan(p / "scan.jpg"), ["scan.jpg", "damaged"]),
    "png-1-of-1000-rows": (
        lambda p: png_with_rows(p / "scan.png", 40, 1000, 1),
        ["scan.png", "1 of 1000 rows"],
    ),
    "png16-short-data": (
        lambda p: png_with_rows(p / "scan.png", 20, 50, 2, depth=16),
        ["scan.png", "damaged"],
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_damaged_input_is_an_error_naming_the_damage(run, tmp_path: Path, case: str) -> None:
    make, words = DAMAGED[case]
    src = make(tmp_path)
    before = snapshot(tmp_path)
    r = run("process", src, "-o", tmp_path / "out.png", "--op", "fade", "-q")
    assert r.code == 1
    r.one_error_line(*words)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("case", ["jpeg-garbage-scan", "png-1-of-1000-rows"])
def test_accept_damaged_keeps_what_is_readable_with_a_warning(run, tmp_path, case) -> None:
    src = DAMAGED[case][0](tmp_path)
    r = run("process", src, "-o", tmp_path / "out.png", "--op", "fade", "--accept-damaged", "-q")
    assert r.code == 0, r.err
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("photofix: warning: "), r.err
    assert "damaged" in lines[0] and src.name in lines[0]
    assert (tmp_path / "out.png").is_file()


def _cut(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _tiff(path: Path) -> Path:
    tifffile.imwrite(path, photo(64, 64), photometric="rgb", metadata=None)
    return path


def _saved(path: Path, **options) -> Path:
    Image.fromarray(photo(64, 64)).save(path, **options)
    return path


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNREADABLE = {
    "png-cut-in-half": (lambda p: _cut(_saved(p / "a.png"), 0.5), "truncated"),
    "jpeg-cut-in-half": (lambda p: _cut(_saved(p / "a.jpg"), 0.5), "truncated"),
    "tiff-cut-in-half": (lambda p: _cut(_tiff(p / "a.tif"), 0.5), "a.tif"),
    "png-under-24-bytes": (
        lambda p: _write(p / "a.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
        "a.png",
    ),
    "png-signature-only": (lambda p: _write(p / "a.png", b"\x89PNG\r\n\x1a\n"), "a.png"),
    "jpeg-marker-only": (lambda p: _write(p / "a.jpg", b"\xff\xd8\xff"), "a.jpg"),
    "empty-file": (lambda p: _write(p / "a.png", b""), "empty"),
    "text-named-png": (lambda p: _write(p / "a.png", b"hello, world\n" * 10), "a.png"),
    "random-bytes-tif": (lambda p: _write(p / "a.tif", b"II*\0" + os.urandom(200)), "a.tif"),
    "bmp-cut": (lambda p: _cut(_saved(p / "a.bmp"), 0.3), "a.bmp"),
    "gif": (lambda p: _saved(p / "a.gif"), "GIF"),
    "folder-named-png": (lambda p: (p / "a.png").mkdir() or p / "a.png", "folder"),
    "missing": (lambda p: p / "nothing.png", "does not exist"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_unreadable_input_is_one_line_and_no_output(run, tmp_path: Path, case: str) -> None:
    make, word = UNREADABLE[case]
    src = make(tmp_path)
    before = snapshot(tmp_path)
    r = run("process", src, "-o", tmp_path / "out.png", "--op", "fade", "-q")
    assert r.code == 1
    r.one_error_line(word)
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_an_image_is_one_line_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "scan.png")
    r = run_child("process", "scan.png", "-o", "out.png", "--op", "fade", "-q",
                  cwd=tmp_path, timeout=30)  # fmt: skip
    assert r.code == 1
    r.one_error_line("scan.png", "not a regular file")
    assert not (tmp_path / "out.png").exists()


def test_info_on_a_damaged_file_is_one_line(run, tmp_path: Path) -> None:
    r = run("info", _write(tmp_path / "a.png", b"\x89PNG\r\n\x1a\n\0\0"))
    assert r.code == 1
    r.one_error_line("a.png")
