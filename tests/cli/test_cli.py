"""The ``photofix`` command line, driven as a user would, on files the tests build."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from photofix import __version__
from photofix.__main__ import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _faded(photo: np.ndarray) -> np.ndarray:
    return np.clip(0.15 + 0.6 * photo, 0, 1)


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("photofix: error: ")
    return lines[0]


def _no_leftovers(folder: Path, keep: set[str]) -> None:
    assert {p.name for p in folder.iterdir()} == keep


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("photofix")
    assert exe.exists(), "run scripts/setup.sh: the photofix command is not installed"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"PhotoFix {__version__}"


def test_info_describes_a_16_bit_tiff(tmp_path, capsys, photos) -> None:
    path = tmp_path / "scan.tif"
    data = (photos["coffee"] * 65535).round().astype(np.uint16)
    tifffile.imwrite(
        path,
        data,
        photometric="rgb",
        iccprofile=_srgb_icc(),
        resolution=(600, 600),
        resolutionunit="INCH",
    )
    code, out, _ = run(capsys, "info", path)
    assert code == 0
    assert "600 x 400 px" in out and "16 bits per channel" in out
    assert "ICC profile: yes" in out and "600 x 600" in out


def test_fade_keeps_16_bit_tiff_icc_and_dpi(tmp_path, capsys, photos) -> None:
    src, dst = tmp_path / "in.tif", tmp_path / "out.tif"
    smooth = cv2.GaussianBlur(_faded(photos["astronaut"]), (0, 0), 1.0)  # > 256 levels
    data = (smooth * 65535).round().astype(np.uint16)
    assert len(np.unique(data[..., 0])) > 5000
    icc = _srgb_icc()
    tifffile.imwrite(
        src, data, photometric="rgb", iccprofile=icc, resolution=(600, 600), resolutionunit="INCH"
    )
    code, _, err = run(capsys, "process", src, "-o", dst, "--op", "fade", "-q")
    assert code == 0, err
    with tifffile.TiffFile(dst) as tif:
        page = tif.pages[0]
        out = page.asarray()
        assert out.dtype == np.uint16 and out.shape == data.shape
        assert page.tags[34675].value == icc
        assert page.tags[282].value == (600, 1)
        assert len(np.unique(out[..., 0])) > 5000  # real 16-bit data, not 8-bit scaled up
    assert out.std() > data.std() * 1.3  # the fade correction restored contrast


def test_jpeg_with_exif_orientation_6_comes_out_upright(tmp_path, capsys) -> None:
    # stored landscape 60x40 with a red left column; orientation 6 = rotate 90° clockwise
    stored = np.full((40, 60, 3), 128, np.uint8)
    stored[:, :6] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Acme Scanners"  # Make
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    Image.fromarray(stored).save(src, exif=exif.tobytes(), quality=98)
    code, _, err = run(capsys, "process", src, "-o", dst, "--op", "fade:strength=0", "-q")
    assert code == 0, err
    with Image.open(dst) as im:
        assert im.size == (40, 60)  # upright: portrait
        out = np.asarray(im)
        assert (out[:4, 5:35, 0] > 200).all() and (out[:4, 5:35, 1] < 60).all()  # red on top
        assert (out[10:, :, 0] < 160).all()
        exif_out = im.getexif()
        assert exif_out.get(0x0112) == 1 and exif_out.get(0x010F) == "Acme Scanners"


def test_rgba_png_keeps_alpha(tmp_path, capsys, photos) -> None:
    rgba = np.dstack(
        [
            (photos["chelsea"] * 255).astype(np.uint8),
            np.tile(np.linspace(0, 255, 451).astype(np.uint8), (300, 1)),
        ]
    )
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(rgba, "RGBA").save(src)
    code, _, err = run(capsys, "process", src, "-o", dst, "--op", "fade", "-q")
    assert code == 0, err
    with Image.open(dst) as im:
        assert im.mode == "RGBA"
        assert np.array_equal(np.asarray(im)[..., 3], rgba[..., 3])


def _png_with_header_only(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _bad_files(folder: Path, photos) -> dict[str, Path]:
    good = folder / "good.png"
    Image.fromarray((photos["coffee"] * 255).astype(np.uint8)).save(good)
    files = {
        "corrupt": folder / "corrupt.jpg",
        "truncated": folder / "truncated.png",
        "empty": folder / "empty.png",
        "huge": folder / "huge.png",
    }
    files["corrupt"].write_bytes(np.random.default_rng(0).bytes(5000))
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    files["empty"].write_bytes(b"")
    _png_with_header_only(files["huge"], 20000, 15000)  # 300 MP
    good.unlink()
    return files


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "empty", "huge"])
def test_bad_input_fails_with_one_line_and_no_output(tmp_path, capsys, photos, kind) -> None:
    src = _bad_files(tmp_path, photos)[kind]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, _, err = run(capsys, "process", src, "-o", out_dir / "result.png", "--op", "fade")
    assert code != 0
    line = _one_error_line(err)
    assert src.name in line
    expected = {
        "corrupt": "damaged",
        "truncated": "truncated",
        "empty": "empty",
        "huge": "megapixels",
    }[kind]
    assert expected in line.lower()
    _no_leftovers(out_dir, set())


def test_batch_into_directory_keeps_going_after_a_bad_file(tmp_path, capsys, photos) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.jpg"
    Image.fromarray((photos["coffee"] * 255).astype(np.uint8)).save(a)
    b.write_bytes(b"not a jpeg at all")
    out = tmp_path / "restored"
    code, _, err = run(capsys, "process", a, b, "-o", out, "--op", "resize:scale=0.5", "-q")
    assert code == 1
    assert "b.jpg" in err and "1 of 2 images failed" in err
    _no_leftovers(out, {"a.png", "a.png.photofix.json"})
    with Image.open(out / "a.png") as im:
        assert im.size == (300, 200)


def test_refuses_to_overwrite_the_original(tmp_path, capsys, photos) -> None:
    src = tmp_path / "original.png"
    Image.fromarray((photos["coffee"] * 255).astype(np.uint8)).save(src)
    before = src.read_bytes()
    code, _, err = run(capsys, "process", src, "-o", src, "--op", "fade")
    assert code == 1 and "overwrite" in _one_error_line(err)
    assert src.read_bytes() == before
    code, _, err = run(
        capsys, "process", src, "-o", src, "--op", "fade", "--overwrite-source", "-q"
    )
    assert code == 0, err
    assert src.read_bytes() != before


def test_mask_in_and_out_follow_the_chain(tmp_path, capsys, photos) -> None:
    src, mask_in = tmp_path / "in.png", tmp_path / "mask.png"
    Image.fromarray((photos["coffee"] * 255).astype(np.uint8)).save(src)
    mask = np.zeros((400, 600), np.uint8)
    mask[100:150, 200:300] = 255
    Image.fromarray(mask).save(mask_in)
    mask_out = tmp_path / "mask_out.png"
    code, _, err = run(
        capsys,
        "process",
        src,
        "-o",
        tmp_path / "out.png",
        "--mask",
        mask_in,
        "--op",
        "resize:scale=0.5",
        "--save-mask",
        mask_out,
        "-q",
    )
    assert code == 0, err
    saved = np.asarray(Image.open(mask_out))
    assert saved.shape == (200, 300) and (saved > 0).sum() == 25 * 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--op", "sharpen"], "unknown operation 'sharpen'"),
        (["--op", "resize:scale=abc"], "must be a number"),
        (["--op", "resize"], "needs one of scale"),
        ([], "at least one --op"),
    ],
)
def test_bad_operations_fail_with_a_reason(tmp_path, capsys, photos, args, message) -> None:
    src = tmp_path / "in.png"
    Image.fromarray((photos["coffee"] * 255).astype(np.uint8)).save(src)
    code, _, err = run(capsys, "process", src, "-o", tmp_path / "out.png", *args, "-q")
    assert code == 1 and message in _one_error_line(err)
    assert not (tmp_path / "out.png").exists()


def test_ops_lists_operations_with_parameters(capsys) -> None:
    code, out, _ = run(capsys, "ops")
    assert code == 0 and "fade:" in out and "resize:" in out and "long_edge=" in out


def test_detect_then_inpaint_from_the_command_line(tmp_path, capsys, photos) -> None:
    from benchmarks import synthetic_defects as sd

    rng = np.random.default_rng(3)
    damaged, truth = sd.add_scratches(photos["chelsea"][:200, :260].copy(), rng, 0.02)
    src, mask_png, out = tmp_path / "in.png", tmp_path / "mask.png", tmp_path / "out.png"
    Image.fromarray((damaged * 255 + 0.5).astype(np.uint8)).save(src)
    spec = "detect-defects:sensitivity=0.5,kinds=dust,scratches"
    code, _, err = run(capsys, "process", src, "-o", tmp_path / "same.png", "--op", spec,
                       "--save-mask", mask_png, "-q")  # fmt: skip
    assert code == 0, err
    mask = np.asarray(Image.open(mask_png)) > 0
    assert (mask & truth).sum() > 0.5 * truth.sum()
    code, _, err = run(capsys, "process", src, "-o", out, "--mask", mask_png,
                       "--op", "inpaint:engine=fast", "-q")  # fmt: skip
    assert code == 0, err
    before, after = np.asarray(Image.open(src)), np.asarray(Image.open(out))
    assert np.array_equal(before[~mask], after[~mask])
    assert not np.array_equal(before[mask], after[mask])
