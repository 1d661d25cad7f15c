"""Classes that passed the audit and must keep passing: CMYK, Lab, 16-bit and float TIFF,
every EXIF orientation, animated and multi-page files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from photofix.core import imageio

ASYM = np.zeros((6, 10, 3), np.uint8)  # a picture whose orientation can be told
ASYM[:2, :3] = (255, 0, 0)


def oriented_copy(upright: np.ndarray, orientation: int) -> np.ndarray:
    """What a camera stores so that applying ``orientation`` gives ``upright``."""
    inverse = {1: lambda a: a, 2: np.fliplr, 3: lambda a: np.rot90(a, 2), 4: np.flipud,
               5: lambda a: np.transpose(a, (1, 0, 2)), 6: lambda a: np.rot90(a, 1),
               7: lambda a: np.rot90(np.flipud(a), 1), 8: lambda a: np.rot90(a, -1)}  # fmt: skip
    return np.ascontiguousarray(inverse[orientation](upright))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_exif_orientation_is_applied_and_reset(run, tmp_path, orientation, suffix) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    src = tmp_path / f"o{suffix}"
    stored = oriented_copy(ASYM, orientation)
    Image.fromarray(stored).save(src, exif=exif.tobytes(), quality=100, subsampling=0)
    out = tmp_path / "out.png"
    r = run("process", src, "-o", out, "--op", "resize:scale=1", "-q")
    assert r.code == 0, r.err
    loaded = imageio.load_image(out)
    assert loaded.meta.orientation == 1
    got = imageio.to_uint8(loaded.rgb)
    assert got.shape == ASYM.shape
    assert np.abs(got.astype(int) - ASYM).max() < 40  # JPEG blurs the corner a little


def _load(path: Path) -> imageio.LoadedImage:
    return imageio.load_image(path)


def test_cmyk_tiff_and_jpeg_become_rgb(tmp_path: Path) -> None:
    ink = np.zeros((8, 8, 4), np.uint8)
    ink[..., 0] = 255  # full cyan
    tifffile.imwrite(tmp_path / "c.tif", ink, photometric="separated", metadata=None)
    Image.fromarray(ink, "CMYK").save(tmp_path / "c.jpg", quality=100)
    for name in ("c.tif", "c.jpg"):
        rgb = imageio.to_uint8(_load(tmp_path / name).rgb)
        assert rgb[..., 0].max() < 30 and rgb[..., 1:].min() > 220, name


def test_lab_tiff_reads_as_rgb(tmp_path: Path) -> None:
    lab = np.zeros((4, 4, 3), np.uint8)
    lab[2:, :, 0] = 255  # L = 100 (white), a = b = 0
    tifffile.imwrite(tmp_path / "lab.tif", lab, photometric="cielab", metadata=None)
    rgb = imageio.to_uint8(_load(tmp_path / "lab.tif").rgb)
    assert rgb[:2].max() < 10 and rgb[2:].min() > 245


def test_float_tiff_is_clipped_not_wrapped(tmp_path: Path) -> None:
    data = np.array([[[-0.5, 0.25, 1.5]]], np.float32).repeat(4, 0).repeat(4, 1)
    tifffile.imwrite(tmp_path / "f.tif", data, photometric="rgb", metadata=None)
    loaded = _load(tmp_path / "f.tif")
    assert loaded.meta.bit_depth == 32
    assert np.allclose(loaded.rgb[0, 0], [0.0, 0.25, 1.0])


def test_sixteen_bit_png_keeps_sixteen_bits(tmp_path: Path) -> None:
    import cv2

    deep = np.random.default_rng(0).integers(0, 65536, (5, 7, 3), np.uint16)
    cv2.imwrite(str(tmp_path / "d.png"), deep[..., ::-1])
    assert np.array_equal(imageio.to_uint16(_load(tmp_path / "d.png").rgb), deep)


@pytest.mark.parametrize("suffix", [".png", ".webp", ".tif"])
def test_animated_or_multipage_file_gives_its_first_frame(run, tmp_path, suffix) -> None:
    frames = [Image.fromarray(np.full((10, 12, 3), v, np.uint8)) for v in (10, 200, 90)]
    src = tmp_path / f"anim{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(src, np.stack([np.asarray(f) for f in frames]), photometric="rgb",
                         metadata=None)  # fmt: skip
    else:
        frames[0].save(src, save_all=True, append_images=frames[1:], lossless=True)
    r = run("process", src, "-o", tmp_path / "out.png", "--op", "resize:scale=1", "-q")
    assert r.code == 0
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("photofix: warning: "), r.err
    assert "only the first" in lines[0]
    assert (imageio.to_uint8(_load(tmp_path / "out.png").rgb) == 10).all()


def test_animated_gif_is_one_line(run, tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), (v, v, v)) for v in (0, 255)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    r = run("process", tmp_path / "a.gif", "-o", tmp_path / "o.png", "--op", "fade", "-q")
    assert r.code == 1
    r.one_error_line("GIF")
