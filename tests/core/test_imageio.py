"""Image files in and out, as an archivist would notice: exact pixels, kept metadata, upright
photos, readable errors, and nothing half-written."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from photofix.core import imageio
from photofix.core.errors import (
    CorruptImage,
    EmptyImage,
    ImageError,
    ImageTooLarge,
    SourceOverwrite,
    UnsupportedImage,
    WriteError,
)
from photofix.core.imageio import (
    ImageWarning,
    load_hints,
    load_image,
    load_mask,
    read_info,
    save_image,
    save_mask,
    to_uint8,
    to_uint16,
)

SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/>Caf\xc3\xa9 1932</x:xmpmeta>'
RNG = np.random.default_rng(1932)

# Channel counts of the sample layouts, and the PNG colour type of each count.
LAYOUTS = {"gray": 1, "la": 2, "rgb": 3, "rgba": 4}
PNG_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(samples: np.ndarray, *chunks: bytes) -> bytes:
    """A minimal PNG of H×W×C uint8/uint16 samples, written by hand (independent of the code
    under test and of OpenCV/Pillow)."""
    h, w, c = samples.shape
    depth = samples.dtype.itemsize * 8
    rows = samples.astype(samples.dtype.newbyteorder(">")).reshape(h, -1).view(np.uint8)
    raw = np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, depth, PNG_COLOUR_TYPE[c], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + b"".join(chunks)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def decode_png_independently(path: Path) -> np.ndarray:
    """H×W×C samples in RGB(A) order (gray+alpha as 2 channels) via OpenCV."""
    data = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
    colour_type = path.read_bytes()[25]
    if data.ndim == 2:
        return data[..., None]
    if colour_type == 4:  # OpenCV expands gray+alpha to BGRA
        return data[..., [0, 3]]
    return data[..., [2, 1, 0, 3][: data.shape[2]]]


def random_samples(h: int, w: int, channels: int, depth: int) -> np.ndarray:
    dtype = np.uint16 if depth == 16 else np.uint8
    samples = RNG.integers(0, 2**depth, (h, w, channels), dtype=dtype)
    samples[0, 0] = 0
    samples[0, 1] = 2**depth - 1  # the extremes must survive too
    return samples


def as_rgb_alpha(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    c = samples.shape[2]
    color = np.repeat(samples[..., :1], 3, axis=2) if c < 3 else samples[..., :3]
    return color, (samples[..., -1] if c in (2, 4) else None)


def jpeg_with_exif(path: Path, pixels: np.ndarray, exif: dict[int, object], **kw: object) -> None:
    e = Image.Exif()
    e.update(exif)
    Image.fromarray(pixels).save(path, quality=98, subsampling=0, exif=e.tobytes(), **kw)


# ---- exact round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_lossless_files_load_and_save_bit_exact(
    tmp_path: Path, suffix: str, depth: int, layout: str
) -> None:
    channels = LAYOUTS[layout]
    samples = random_samples(13, 17, channels, depth)
    source = tmp_path / f"scan{suffix}"
    if suffix == ".png":
        source.write_bytes(png_bytes(samples))
    else:
        tifffile.imwrite(
            source,
            samples if channels > 1 else samples[..., 0],
            photometric="rgb" if channels >= 3 else "minisblack",
            extrasamples=["unassalpha"] if channels in (2, 4) else None,
            metadata=None,
        )

    loaded = load_image(source)
    color, alpha = as_rgb_alpha(samples)
    to_int = to_uint16 if depth == 16 else to_uint8
    assert loaded.rgb.dtype == np.float32 and loaded.rgb.flags.c_contiguous
    assert np.array_equal(to_int(loaded.rgb), color)
    assert (loaded.alpha is None) == (alpha is None)
    if alpha is not None:
        assert np.array_equal(to_int(loaded.alpha), alpha)
    meta = loaded.meta
    assert (meta.bit_depth, meta.grayscale, meta.has_alpha) == (
        depth,
        channels < 3,
        alpha is not None,
    )
    assert (meta.width, meta.height) == (17, 13)

    out = save_image(tmp_path / f"out{suffix}", loaded.rgb, alpha=loaded.alpha, meta=meta)
    written = decode_png_independently(out) if suffix == ".png" else tifffile.imread(out)
    assert np.array_equal(written.reshape(samples.shape), samples)  # same depth, gray stays gray


def test_uint16_survives_float_conversion_for_every_value() -> None:
    every = np.arange(65536, dtype=np.uint16)
    assert np.array_equal(to_uint16(every.astype(np.float32) / 65535), every)
    assert np.array_equal(to_uint8(np.arange(256, dtype=np.float32) / 255), np.arange(256))
    assert to_uint8(np.array([-0.5, 0.5, 2.0, np.nan], np.float32)).tolist() == [0, 128, 255, 0]


def test_sixteen_bit_tiff_keeps_icc_profile_and_dpi(tmp_path: Path) -> None:
    samples = random_samples(8, 9, 3, 16)
    source = tmp_path / "scan.tif"
    tifffile.imwrite(
        source,
        samples,
        photometric="rgb",
        iccprofile=SRGB_ICC,
        resolution=(600, 600),
        resolutionunit="INCH",
        metadata=None,
        extratags=[(271, "s", 0, "Nikon", True), (315, "s", 0, "Zoë".encode(), True)],
    )
    loaded = load_image(source)
    assert loaded.meta.icc_profile == SRGB_ICC and loaded.meta.dpi == (600.0, 600.0)
    jpeg = save_image(tmp_path / "preview.jpg", loaded.rgb, meta=loaded.meta)
    with Image.open(jpeg) as im:
        assert im.getexif()[271] == "Nikon" and im.info["icc_profile"] == SRGB_ICC

    out = save_image(tmp_path / "restored.tif", loaded.rgb, meta=loaded.meta)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages.first
        assert page.dtype == np.uint16 and page.tags.valueof(34675) == SRGB_ICC
        assert page.tags.valueof(282) == (600, 1) and page.tags.valueof(296) == 2
        assert page.tags.valueof(271) == "Nikon" and page.tags.valueof(315) == "Zoë"
        assert np.array_equal(page.asarray(), samples)
    again = read_info(out)
    assert again.icc_profile == SRGB_ICC and again.dpi == (600.0, 600.0)


def test_saved_eight_bit_tiff_opens_in_pillow_with_its_metadata(tmp_path: Path) -> None:
    rgb = random_samples(6, 7, 3, 8)
    meta = imageio.ImageMeta("TIFF", 7, 6, "RGB", 8, False, False, icc_profile=SRGB_ICC,
                             dpi=(300.0, 300.0), xmp=XMP)  # fmt: skip
    out = save_image(tmp_path / "out.tiff", rgb / np.float32(255), meta=meta)
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im), rgb)
        assert im.info["icc_profile"] == SRGB_ICC and im.info["dpi"] == (300.0, 300.0)
        assert im.tag_v2[700] == XMP


def test_float_tiff_loads_clipped_and_saves_as_16_bit_by_default(tmp_path: Path) -> None:
    values = np.array([[[-0.25, 0.5, 1.5]]], np.float32).repeat(3, axis=1)
    tifffile.imwrite(tmp_path / "hdr.tif", values, photometric="rgb", metadata=None)
    loaded = load_image(tmp_path / "hdr.tif")
    assert loaded.meta.bit_depth == 32 and loaded.rgb[0, 0].tolist() == [0.0, 0.5, 1.0]
    out = save_image(tmp_path / "out.tif", loaded.rgb, meta=loaded.meta)
    assert tifffile.imread(out).dtype == np.uint16


# ---- orientation ----------------------------------------------------------------------------


def test_jpeg_with_orientation_6_loads_upright_and_saves_with_orientation_1(
    tmp_path: Path,
) -> None:
    stored = np.zeros((32, 64, 3), np.uint8)  # 64 wide, 32 tall as stored
    stored[...] = (0, 0, 255)
    stored[:16, :16] = (255, 0, 0)  # red block in the stored top-left corner
    source = tmp_path / "portrait.jpg"
    jpeg_with_exif(source, stored, {0x0112: 6, 0x010F: "Zeiss Ikon", 0x013B: "A. Archivist"})

    loaded = load_image(source)
    assert loaded.rgb.shape == (64, 32, 3)  # turned 90° clockwise: now portrait
    assert (loaded.meta.width, loaded.meta.height, loaded.meta.orientation) == (32, 64, 6)
    assert np.allclose(loaded.rgb[2, -3], (1, 0, 0), atol=0.1)  # red is now top-right
    assert np.allclose(loaded.rgb[2, 2], (0, 0, 1), atol=0.1)
    exif = Image.Exif()
    exif.load(loaded.meta.exif)
    assert exif[0x0112] == 1 and exif[0x010F] == "Zeiss Ikon"

    out = save_image(tmp_path / "restored.jpg", loaded.rgb, meta=loaded.meta)
    with Image.open(out) as im:
        assert im.size == (32, 64)
        saved_exif = im.getexif()
        assert saved_exif[0x0112] == 1
        assert saved_exif[0x010F] == "Zeiss Ikon" and saved_exif[0x013B] == "A. Archivist"
        assert np.allclose(np.asarray(im)[2, -3], (255, 0, 0), atol=25)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_exif_transpose(
    tmp_path: Path, orientation: int
) -> None:
    stored = random_samples(5, 8, 3, 8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    source = tmp_path / f"o{orientation}.png"
    Image.fromarray(stored).save(source, exif=exif.tobytes())

    with Image.open(source) as im:
        expected = np.asarray(ImageOps.exif_transpose(im))
    loaded = load_image(source)
    assert np.array_equal(to_uint8(loaded.rgb), expected)
    assert loaded.rgb.flags.c_contiguous
    info = read_info(source)
    assert (info.width, info.height) == (expected.shape[1], expected.shape[0])


def test_sixteen_bit_png_orientation_is_applied_once(tmp_path: Path) -> None:
    samples = random_samples(4, 6, 3, 16)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif_chunk = png_chunk(b"eXIf", exif.tobytes()[6:])
    (tmp_path / "deep.png").write_bytes(png_bytes(samples, exif_chunk))
    loaded = load_image(tmp_path / "deep.png")
    assert loaded.meta.orientation == 6 and loaded.meta.bit_depth == 16
    assert np.array_equal(to_uint16(loaded.rgb), np.rot90(samples, -1))


def test_tiff_orientation_tag_is_applied_to_pixels_and_alpha(tmp_path: Path) -> None:
    samples = random_samples(4, 6, 4, 8)
    tifffile.imwrite(tmp_path / "o.tif", samples, photometric="rgb", extrasamples=["unassalpha"],
                     extratags=[(274, "H", 1, 8, True)], metadata=None)  # fmt: skip
    loaded = load_image(tmp_path / "o.tif")
    upright = np.rot90(samples)  # orientation 8: turned 90° counter-clockwise
    assert np.array_equal(to_uint8(loaded.rgb), upright[..., :3])
    assert np.array_equal(to_uint8(loaded.alpha), upright[..., 3])


# ---- colour models --------------------------------------------------------------------------


def test_cmyk_jpeg_and_tiff_load_as_rgb(tmp_path: Path) -> None:
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "red.jpg", quality=100)
    red = load_image(tmp_path / "red.jpg")
    assert red.meta.source_mode == "CMYK" and red.meta.icc_profile is None
    assert np.allclose(red.rgb, (1, 0, 0), atol=0.03)

    ink = np.zeros((4, 4, 4), np.uint8)
    ink[..., 0] = 255  # full cyan
    tifffile.imwrite(tmp_path / "cyan.tif", ink, photometric="separated", metadata=None)
    cyan = load_image(tmp_path / "cyan.tif")
    assert cyan.meta.source_mode == "CMYK" and np.allclose(cyan.rgb, (0, 1, 1))


def test_palette_png_with_transparency_loads_colours_and_alpha(tmp_path: Path) -> None:
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    im.putdata([0, 1, 2])
    im.save(tmp_path / "pal.png", transparency=bytes([255, 128, 0]))
    loaded = load_image(tmp_path / "pal.png")
    assert loaded.meta.source_mode == "P" and loaded.meta.has_alpha
    assert to_uint8(loaded.rgb[0]).tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
    assert to_uint8(loaded.alpha[0]).tolist() == [255, 128, 0]


def test_palette_and_bilevel_tiffs_keep_full_white(tmp_path: Path) -> None:
    im = Image.new("P", (2, 1))
    im.putpalette([255, 255, 255, 255, 0, 0])  # Pillow stores the colormap ×256
    im.putdata([0, 1])
    im.save(tmp_path / "pal.tif")
    Image.new("1", (3, 2), 1).save(tmp_path / "line.tif")
    assert to_uint8(load_image(tmp_path / "pal.tif").rgb[0]).tolist() == [
        [255, 255, 255],
        [255, 0, 0],
    ]
    line = load_image(tmp_path / "line.tif")
    assert line.meta.grayscale and line.meta.source_mode == "1" and (line.rgb == 1).all()


def test_gray_source_is_saved_gray_unless_it_was_colourised(tmp_path: Path) -> None:
    gray = random_samples(5, 6, 1, 8)
    (tmp_path / "gray.png").write_bytes(png_bytes(gray))
    loaded = load_image(tmp_path / "gray.png")
    for fmt in (".png", ".jpg", ".tif"):
        with Image.open(save_image(tmp_path / f"same{fmt}", loaded.rgb, meta=loaded.meta)) as im:
            assert im.mode == "L"
    tinted = loaded.rgb * np.array([1.0, 0.9, 0.8], np.float32)
    with Image.open(save_image(tmp_path / "tinted.png", tinted, meta=loaded.meta)) as im:
        assert im.mode == "RGB"
    with Image.open(save_image(tmp_path / "forced.png", tinted, grayscale=True)) as im:
        assert im.mode == "L"


def test_lzw_tiff_loads_even_when_tifffile_lacks_the_codec(tmp_path: Path) -> None:
    deep = random_samples(6, 5, 3, 16)
    assert cv2.imwrite(str(tmp_path / "deep.tif"), deep[..., ::-1],
                       [cv2.IMWRITE_TIFF_COMPRESSION, 5])  # fmt: skip
    assert np.array_equal(to_uint16(load_image(tmp_path / "deep.tif").rgb), deep)

    flat = random_samples(6, 5, 3, 8)
    Image.fromarray(flat).save(tmp_path / "flat.tif", compression="tiff_lzw", tiffinfo={274: 6})
    loaded = load_image(tmp_path / "flat.tif")
    assert np.array_equal(to_uint8(loaded.rgb), np.rot90(flat, -1))


# ---- multi-page and errors ------------------------------------------------------------------


def test_multipage_tiff_warns_and_gives_the_first_page(tmp_path: Path) -> None:
    pages = np.stack([np.full((4, 5, 3), v, np.uint8) for v in (10, 20, 30)])
    tifffile.imwrite(tmp_path / "album.tif", pages, photometric="rgb", metadata=None)
    assert read_info(tmp_path / "album.tif").n_pages == 3  # no warning for a header read
    with pytest.warns(ImageWarning, match=r"album\.tif holds 3 pages or frames; only the first"):
        loaded = load_image(tmp_path / "album.tif")
    assert (to_uint8(loaded.rgb) == 10).all()


def assert_raises_readably(
    error: type[Exception], path: Path, *words: str, in_header: bool = True
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. no DecompressionBombWarning may leak
        with pytest.raises(error) as caught:
            load_image(path)
        if in_header:  # read_info sees only what the header says
            with pytest.raises(error):
                read_info(path)
    message = str(caught.value)
    assert path.name in message and message.endswith(".")
    for word in words:
        assert word in message


def test_random_bytes_with_an_image_extension_are_corrupt(tmp_path: Path) -> None:
    (tmp_path / "holiday.jpg").write_bytes(RNG.integers(0, 256, 4000, np.uint8).tobytes())
    assert_raises_readably(CorruptImage, tmp_path / "holiday.jpg", "not a readable image")


def test_other_files_are_unsupported_and_name_the_supported_formats(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("dear diary")
    assert_raises_readably(UnsupportedImage, tmp_path / "notes.txt", "JPEG, PNG, TIFF")
    Image.new("RGB", (4, 4)).save(tmp_path / "anim.gif")
    assert_raises_readably(UnsupportedImage, tmp_path / "anim.gif", "GIF")


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_file_says_it_looks_truncated(tmp_path: Path, suffix: str) -> None:
    full = tmp_path / f"full{suffix}"
    Image.fromarray(random_samples(64, 64, 3, 8)).save(full)
    data = full.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    assert_raises_readably(CorruptImage, cut, "truncated", in_header=False)


def test_empty_file_and_zero_size_image_are_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    assert_raises_readably(EmptyImage, tmp_path / "empty.png", "empty")
    header = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)
    zero = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IEND", b"")
    (tmp_path / "zero.png").write_bytes(zero)
    assert_raises_readably(EmptyImage, tmp_path / "zero.png", "width or height is 0")


def test_missing_file_is_named(tmp_path: Path) -> None:
    assert_raises_readably(ImageError, tmp_path / "gone.tif", "does not exist")


def test_huge_image_is_refused_from_its_header_without_pillows_bomb_check(
    tmp_path: Path,
) -> None:
    header = struct.pack(">IIBBBBB", 20000, 15000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100)
    huge = tmp_path / "mural.png"
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat))
    limit_before = Image.MAX_IMAGE_PIXELS
    assert_raises_readably(
        ImageTooLarge, huge, "20000 × 15000 = 300 megapixels", "limit of 250 megapixels"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_info(huge, max_pixels=None).width == 20000  # past Pillow's own 179 MP guard
    assert limit_before == Image.MAX_IMAGE_PIXELS


# ---- metadata -------------------------------------------------------------------------------


def test_png_carries_icc_dpi_exif_and_xmp_through_a_save(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    exif = Image.Exif()
    exif[0x010F] = "Leica"
    Image.fromarray(random_samples(4, 4, 3, 8)).save(
        tmp_path / "in.png", pnginfo=info, icc_profile=SRGB_ICC, dpi=(300, 300), exif=exif
    )
    loaded = load_image(tmp_path / "in.png")
    assert loaded.meta.xmp == XMP and loaded.meta.dpi == (300.0, 300.0)

    out = save_image(tmp_path / "out.png", loaded.rgb, meta=loaded.meta)
    with Image.open(out) as im:
        im.load()
        assert im.info["xmp"] == XMP and im.info["icc_profile"] == SRGB_ICC
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert im.getexif()[0x010F] == "Leica"


def test_jpeg_carries_xmp_icc_and_dpi_through_a_save(tmp_path: Path) -> None:
    pixels = np.full((8, 8, 3), 128, np.uint8)
    jpeg_with_exif(tmp_path / "in.jpg", pixels, {0x8298: "(c) Archive"}, xmp=XMP,
                   icc_profile=SRGB_ICC, dpi=(1200, 1200))  # fmt: skip
    loaded = load_image(tmp_path / "in.jpg")
    assert loaded.meta.xmp == XMP
    out = save_image(tmp_path / "out.jpg", loaded.rgb, meta=loaded.meta, quality=80)
    with Image.open(out) as im:
        assert im.info["xmp"] == XMP and im.info["icc_profile"] == SRGB_ICC
        assert im.info["dpi"] == (1200, 1200) and im.getexif()[0x8298] == "(c) Archive"


def test_xmp_orientation_is_reset_with_exif(tmp_path: Path) -> None:
    xmp = b'<rdf:Description tiff:Orientation="6"/>'
    jpeg_with_exif(tmp_path / "in.jpg", np.zeros((8, 16, 3), np.uint8), {0x0112: 6}, xmp=xmp)
    assert read_info(tmp_path / "in.jpg").xmp == b'<rdf:Description tiff:Orientation="1"/>'


def test_webp_round_trip_with_alpha(tmp_path: Path) -> None:
    rgba = random_samples(5, 7, 4, 8)
    rgb, alpha = rgba[..., :3] / np.float32(255), rgba[..., 3] / np.float32(255)
    out = save_image(tmp_path / "out.webp", rgb, alpha=alpha, quality=100)
    loaded = load_image(out)
    assert loaded.meta.format == "WEBP" and np.array_equal(to_uint8(loaded.alpha), rgba[..., 3])
    assert np.array_equal(to_uint8(loaded.rgb), rgba[..., :3])


def test_jpeg_drops_alpha_with_a_warning_only_when_something_was_transparent(
    tmp_path: Path,
) -> None:
    rgb = np.full((4, 4, 3), 0.5, np.float32)
    with pytest.warns(ImageWarning, match="alpha channel was dropped"):
        save_image(tmp_path / "a.jpg", rgb, alpha=np.zeros((4, 4), np.float32))
    save_image(tmp_path / "b.jpg", rgb, alpha=np.ones((4, 4), np.float32))  # no warning
    assert load_image(tmp_path / "a.jpg").alpha is None


# ---- saving safely --------------------------------------------------------------------------


def test_save_refuses_to_overwrite_a_protected_source(tmp_path: Path) -> None:
    source = tmp_path / "original.png"
    source.write_bytes(png_bytes(random_samples(4, 4, 3, 8)))
    before = source.read_bytes()
    loaded = load_image(source)
    for spelling in (source, tmp_path / "sub" / ".." / "original.png"):
        with pytest.raises(SourceOverwrite, match="Refusing to overwrite the original"):
            save_image(spelling, loaded.rgb * 0.5, meta=loaded.meta, protect=[source])
    assert source.read_bytes() == before
    save_image(source, loaded.rgb * 0.5, meta=loaded.meta)  # allowed when not protected
    assert source.read_bytes() != before


def test_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.tif"
    target.write_bytes(b"previous version")

    def fail_midway(path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(b"II*\x00 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(imageio.tifffile, "imwrite", fail_midway)
    with pytest.raises(WriteError, match=r"Could not save out\.tif: no space left on device"):
        save_image(target, np.zeros((4, 4, 3), np.float32))
    assert target.read_bytes() == b"previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]


def test_atomic_write_passes_our_errors_through_and_cleans_up(tmp_path: Path) -> None:
    def refuse(path: Path) -> None:
        path.write_bytes(b"partial")
        raise UnsupportedImage("nope.")

    with pytest.raises(UnsupportedImage):
        imageio.atomic_write(tmp_path / "x.png", refuse)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(WriteError, match="does not exist"):
        imageio.atomic_write(tmp_path / "no" / "x.png", lambda p: p.write_bytes(b"x"))


def test_unknown_output_format_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedImage, match=r"\.xcf"):
        save_image(tmp_path / "out.xcf", np.zeros((2, 2, 3), np.float32))
    assert list(tmp_path.iterdir()) == []


# ---- masks and hints ------------------------------------------------------------------------


def test_mask_is_set_where_nonzero_or_where_not_transparent(tmp_path: Path) -> None:
    gray = np.zeros((3, 4, 1), np.uint8)
    gray[1, 2] = 7
    (tmp_path / "gray.png").write_bytes(png_bytes(gray))
    assert np.array_equal(load_mask(tmp_path / "gray.png", (3, 4)), gray[..., 0] > 0)

    strokes = np.zeros((3, 4, 4), np.uint8)  # black strokes painted on a transparent layer
    strokes[0, 0, 3] = 255
    strokes[2, 3, 3] = 40
    (tmp_path / "layer.png").write_bytes(png_bytes(strokes))
    assert np.array_equal(load_mask(tmp_path / "layer.png", (3, 4)), strokes[..., 3] > 0)

    with pytest.raises(ImageError, match=r"mask gray\.png is 4 × 3 pixels but the image is 5 × 3"):
        load_mask(tmp_path / "gray.png", (3, 5))


def test_saved_mask_is_an_8_bit_gray_png_that_loads_back(tmp_path: Path) -> None:
    mask = RNG.random((6, 9)) > 0.5
    out = save_mask(tmp_path / "mask.png", mask)
    with Image.open(out) as im:
        assert im.mode == "L" and set(np.unique(np.asarray(im))) <= {0, 255}
    assert np.array_equal(load_mask(out, (6, 9)), mask)


def test_hints_give_colours_and_presence_from_alpha(tmp_path: Path) -> None:
    hints = np.zeros((2, 3, 4), np.uint8)
    hints[0, 1] = (200, 100, 50, 255)
    (tmp_path / "hints.png").write_bytes(png_bytes(hints))
    colours, present = load_hints(tmp_path / "hints.png", (2, 3))
    assert present.tolist() == [[False, True, False], [False, False, False]]
    assert to_uint8(colours[0, 1]).tolist() == [200, 100, 50]
    (tmp_path / "opaque.png").write_bytes(png_bytes(hints[..., :3]))
    assert load_hints(tmp_path / "opaque.png", (2, 3))[1].all()
    with pytest.raises(ImageError, match="same size"):
        load_hints(tmp_path / "hints.png", (3, 2))


def test_bmp_loads(tmp_path: Path) -> None:
    rgb = random_samples(3, 5, 3, 8)
    Image.fromarray(rgb).save(tmp_path / "old.bmp")
    loaded = load_image(tmp_path / "old.bmp")
    assert loaded.meta.format == "BMP" and np.array_equal(to_uint8(loaded.rgb), rgb)
