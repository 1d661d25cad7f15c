"""Audit classes "round trips that break" and "metadata kept": what PhotoFix writes it reads
back, with its metadata; JPEG export of grainy pictures works at every high quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from photofix.core import imageio

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def big_icc(size: int = 1_500_000) -> bytes:
    """An RGB ICC profile padded past Pillow's 1 MB text-chunk limit (a private tag's data)."""
    data = bytearray(SRGB) + bytes(np.random.default_rng(0).integers(0, 256, size, np.uint8))
    data[0:4] = len(data).to_bytes(4, "big")
    return bytes(data)


def test_png_with_an_icc_profile_over_1_mb_reads_back(tmp_path: Path) -> None:
    icc = big_icc()
    meta = imageio.ImageMeta("PNG", 8, 6, "RGB", 8, False, False, icc_profile=icc)
    rgb = np.random.default_rng(1).random((6, 8, 3), dtype=np.float32)
    imageio.save_image(tmp_path / "icc.png", rgb, meta=meta)
    loaded = imageio.load_image(tmp_path / "icc.png")
    assert loaded.meta.icc_profile == icc
    assert np.array_equal(imageio.to_uint8(loaded.rgb), imageio.to_uint8(rgb))


def test_process_keeps_a_big_icc_profile(run, tmp_path: Path) -> None:
    icc = big_icc()
    Image.new("RGB", (16, 12), (90, 60, 30)).save(tmp_path / "in.png", icc_profile=icc)
    r = run("process", tmp_path / "in.png", "-o", tmp_path / "out.png", "--op", "fade", "-q")
    assert r.code == 0, r.err
    assert imageio.load_image(tmp_path / "out.png").meta.icc_profile == icc


@pytest.mark.parametrize("quality", [90, 92, 94, 95, 98, 100])
@pytest.mark.parametrize("grain", [0.1, 0.3])
def test_jpeg_export_of_a_grainy_picture(tmp_path: Path, quality: int, grain: float) -> None:
    rng = np.random.default_rng(2)
    rgb = np.clip(0.5 + rng.normal(0, grain, (160, 200, 3)), 0, 1).astype(np.float32)
    path = imageio.save_image(tmp_path / "grain.jpg", rgb, quality=quality)
    back = imageio.load_image(path).rgb
    assert back.shape == rgb.shape
    assert np.abs(back - rgb).mean() < 0.05


def test_cli_jpeg_export_at_quality_100_is_quiet(run, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    grain = np.clip(128 + rng.normal(0, 60, (120, 160, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(grain).save(tmp_path / "g.png")
    r = run("process", tmp_path / "g.png", "-o", tmp_path / "g.jpg", "--op", "fade",
            "--quality", "100", "-q")  # fmt: skip
    assert r.code == 0 and r.err == "", r.err


def _exif(artist: str, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x013B] = artist
    exif[0x0112] = orientation
    return exif.tobytes()


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_metadata_survives_process(run, tmp_path: Path, suffix: str) -> None:
    rgb = np.random.default_rng(4).integers(0, 256, (24, 32, 3), np.uint8)
    src = tmp_path / f"in{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(src, rgb, photometric="rgb", iccprofile=SRGB, resolution=(300, 300),
                         resolutionunit="INCH", metadata=None,
                         extratags=[(315, "s", 0, "Jane Archivist", True)])  # fmt: skip
    else:
        Image.fromarray(rgb).save(src, icc_profile=SRGB, dpi=(300, 300),
                                  exif=_exif("Jane Archivist"))  # fmt: skip
    out = tmp_path / f"out{suffix}"
    r = run("process", src, "-o", out, "--op", "fade", "-q")
    assert r.code == 0, r.err
    meta = imageio.load_image(out).meta
    assert meta.icc_profile == SRGB
    assert meta.dpi == (300, 300)
    assert b"Jane Archivist" in (meta.exif or b"")


def test_sixteen_bit_tiff_round_trip_is_exact(run, tmp_path: Path) -> None:
    deep = np.random.default_rng(5).integers(0, 65536, (20, 30, 3), np.uint16)
    tifffile.imwrite(tmp_path / "deep.tif", deep, photometric="rgb", metadata=None)
    r = run("process", tmp_path / "deep.tif", "-o", tmp_path / "same.tif",
            "--op", "resize:scale=1", "-q")  # fmt: skip
    assert r.code == 0, r.err
    assert np.array_equal(tifffile.imread(tmp_path / "same.tif"), deep)
