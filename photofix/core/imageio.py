"""Image files in and out: the only place pixels enter and leave PhotoFix.

Inside the program an image is float32 RGB ``H×W×3`` in [0, 1] (C-contiguous), with alpha kept
beside it as float32 ``H×W`` in [0, 1] (straight, not premultiplied) or ``None``; masks are ``H×W``
bool. Everything else — 8/16-bit integers, gray and palette files, CMYK, BGR for OpenCV, EXIF
orientation — is converted here and nowhere else.

Readers: Pillow (JPEG, PNG, WebP, BMP), OpenCV for 16-bit colour PNG (Pillow truncates it to
8 bits), tifffile for TIFF (with OpenCV, then Pillow, when tifffile lacks the file's codec).
Writers: OpenCV + hand-made metadata chunks for PNG, tifffile for TIFF, Pillow for JPEG and WebP.

Errors are the typed :mod:`photofix.core.errors` classes with one readable sentence naming the
file. Pillow's decompression-bomb guard is replaced by our own ``max_pixels`` limit, checked from
the header before any pixel is decoded.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import math
import os
import re
import secrets
import stat
import struct
import tempfile
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image, ImageCms, PngImagePlugin

from photofix.core.errors import (
    CorruptImage,
    EmptyImage,
    ImageError,
    ImageTooLarge,
    PhotoFixError,
    SourceOverwrite,
    UnsupportedImage,
    WriteError,
)

PathLike = str | os.PathLike[str]

DEFAULT_MAX_PIXELS = 250_000_000
# An ICC profile or XMP packet in a PNG may be larger than Pillow's 1 MB default for text chunks
# (PhotoFix writes what it read, so it must read what it writes).
MAX_PNG_CHUNK = 64 * 1024 * 1024
# Prefix of the temporary files atomic_write leaves in the output folder while it writes.
TEMP_MARK = ".photofix-tmp-"
_STALE_TEMP_SECONDS = 24 * 3600

# Caller-wide choices (the CLI sets them from --accept-damaged / --replace-read-only); a call's
# own keyword argument wins.
_ACCEPT_DAMAGED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "accept_damaged", default=False
)
_REPLACE_READ_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "replace_read_only", default=False
)


def replacing_read_only_now() -> bool:
    """Whether :func:`replacing_read_only` is in effect."""
    return _REPLACE_READ_ONLY.get()


def writable_suffixes() -> dict[str, str]:
    """Output suffix → format name (lower case) that :func:`save_image` writes."""
    return {suffix: fmt.lower() for suffix, fmt in _SAVE_SUFFIXES.items()}


@contextlib.contextmanager
def accepting_damaged(accept: bool = True) -> Iterator[None]:
    """Within the block, damaged files load with what is readable and an ImageWarning instead of
    raising CorruptImage (``--accept-damaged``)."""
    token = _ACCEPT_DAMAGED.set(accept)
    try:
        yield
    finally:
        _ACCEPT_DAMAGED.reset(token)


@contextlib.contextmanager
def replacing_read_only(allow: bool = True) -> Iterator[None]:
    """Within the block, saving over a read-only file is allowed (``--replace-read-only``); the
    new file keeps the old one's mode, read-only included."""
    token = _REPLACE_READ_ONLY.set(allow)
    try:
        yield
    finally:
        _REPLACE_READ_ONLY.reset(token)


_SUPPORTED_TEXT = "JPEG, PNG, TIFF, WebP and BMP"
_READ_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".bmp", ".dib"}
_RAW_SUFFIXES = {".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".pef", ".raf", ".srw"}
_SAVE_FORMATS = {"PNG": "PNG", "TIFF": "TIFF", "TIF": "TIFF", "JPEG": "JPEG", "JPG": "JPEG",
                 "WEBP": "WEBP"}  # fmt: skip
_SAVE_SUFFIXES = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG",
                  ".webp": "WEBP"}  # fmt: skip
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAGIC = [
    (b"\xff\xd8\xff", "JPEG"),
    (_PNG_SIGNATURE, "PNG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
]
# Formats people are likely to try that PhotoFix does not read, recognised by their signature.
_OTHER_MAGIC = [(b"GIF8", "GIF"), (b"8BPS", "Photoshop"), (b"%PDF", "PDF"),
                (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"), (b"\xffO\xffQ", "JPEG 2000")]  # fmt: skip

_ORIENTATION = 0x0112
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)
_REVERSED = slice(None, None, -1)
_UPRIGHT_FLIPS = [(), (slice(None), _REVERSED), (_REVERSED, _REVERSED), (_REVERSED,)]
# EXIF fields written into TIFF files as plain baseline tags (TIFF saving carries no EXIF sub-IFD).
_TIFF_TEXT_TAGS = (270, 271, 272, 305, 306, 315, 33432)
_XMP_ORIENTATION = re.compile(rb"(tiff:Orientation\s*=\s*[\"']|<tiff:Orientation>)\s*[1-8]")
# Deflate level for PNG and TIFF. On synthetic 24 MP 16-bit images (2 cores) level 6 took up to
# 3.5× as long as level 3 (13 s against 3.6 s for a TIFF) for files within ±3 % of the size.
_ZLIB_LEVEL = 3
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
_ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}
_DECODE_ERRORS = (OSError, ValueError, KeyError, IndexError, SyntaxError, EOFError,
                  struct.error, zlib.error, cv2.error, tifffile.TiffFileError)  # fmt: skip


class ImageWarning(UserWarning):
    """Something about an image file the user should know, that did not stop the load or save."""


@dataclass
class ImageMeta:
    """What a file held besides its pixels; enough to write a faithful copy.

    ``width``/``height`` are after EXIF orientation was applied. ``source_mode`` is the file's
    layout as a Pillow-style mode name ("RGB", "RGBA", "L", "LA", "P", "CMYK", "I;16", ...) and
    ``bit_depth`` its bits per channel (8, 16, or 32 for float TIFF). ``exif`` is a raw EXIF block
    starting with ``b"Exif\\0\\0"`` whose Orientation is already 1; XMP orientation is reset too.
    """

    format: str
    width: int
    height: int
    source_mode: str
    bit_depth: int
    grayscale: bool
    has_alpha: bool
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    xmp: bytes | None = None
    orientation: int = 1
    n_pages: int = 1


@dataclass
class LoadedImage:
    """A decoded image: ``rgb`` float32 H×W×3 in [0, 1], C-contiguous; ``alpha`` float32 H×W in
    [0, 1] or None; both upright (EXIF orientation applied)."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    meta: ImageMeta
    path: Path | None = None


# ---- sample conversion ----------------------------------------------------------------------


_QUANTIZE_STRIP = 1 << 18  # samples per strip: the float scratch stays small for any image


def _quantize(x: np.ndarray, full_scale: int, dtype: type) -> np.ndarray:
    x = np.asarray(x)
    out = np.empty(x.shape, dtype)
    if x.ndim == 0 or x.size == 0:
        flat_in, flat_out = x.reshape(1, -1), out.reshape(1, -1)
    else:
        flat_in, flat_out = x.reshape(x.shape[0], -1), out.reshape(out.shape[0], -1)
    rows = max(1, _QUANTIZE_STRIP // max(1, flat_in.shape[1]))
    for y in range(0, flat_in.shape[0], rows):
        scaled = np.multiply(flat_in[y : y + rows], np.float32(full_scale), dtype=np.float32)
        np.clip(scaled, 0, full_scale, out=scaled)
        np.nan_to_num(scaled, copy=False, nan=0.0)
        np.rint(scaled, out=scaled)
        flat_out[y : y + rows] = scaled
    return out


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Float samples in [0, 1] (any shape) → uint8 0..255, rounded to nearest and clipped;
    NaN becomes 0."""
    return _quantize(x, 255, np.uint8)


def to_uint16(x: np.ndarray) -> np.ndarray:
    """Float samples in [0, 1] (any shape) → uint16 0..65535, rounded to nearest and clipped;
    NaN becomes 0. ``to_uint16(v / 65535)`` gives back every uint16 ``v`` exactly."""
    return _quantize(x, 65535, np.uint16)


def _oriented(a: np.ndarray, orientation: int) -> np.ndarray:
    """View of ``a`` (H×W[×C]) turned upright for an EXIF orientation 1–8: orientations 5–8 are
    a transpose followed by the flip of 1–4 (none, mirror, 180°, upside down)."""
    if orientation >= 5:
        a = a.swapaxes(0, 1)
    return a[_UPRIGHT_FLIPS[(orientation - 1) % 4]]


@dataclass
class _SourcePixels:
    """Decoded samples as stored (not yet upright): ``color`` H×W×1 (gray) or H×W×3 (RGB),
    ``alpha`` H×W or None. Integer samples mean ``value / full_scale``; float samples are
    already in [0, 1] (clipped)."""

    color: np.ndarray
    alpha: np.ndarray | None
    full_scale: float

    def to_float(self, orientation: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Upright, C-contiguous float32 RGB H×W×3 and alpha H×W, in [0, 1]."""
        color = _oriented(self.color, orientation)
        rgb = self._unit_float(color, (*color.shape[:2], 3))
        alpha = None
        if self.alpha is not None:
            upright = _oriented(self.alpha, orientation)
            alpha = self._unit_float(upright, upright.shape)
        return rgb, alpha

    def _unit_float(self, samples: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        out = np.empty(shape, np.float32)  # gray H×W×1 broadcasts into H×W×3
        if samples.dtype.kind == "f":
            np.clip(samples, 0.0, 1.0, out=out, casting="same_kind")
            np.nan_to_num(out, copy=False, nan=0.0)
        else:
            np.divide(samples, np.float32(self.full_scale), out=out)
        return out

    def coverage(self, orientation: int) -> np.ndarray:
        """Upright H×W bool: alpha > 0 where the file has real transparency, else any channel
        nonzero."""
        if self.alpha is not None and (self.alpha < self.full_scale).any():
            covered = self.alpha > 0
        else:
            covered = (self.color > 0).any(axis=-1)
        return np.ascontiguousarray(_oriented(covered, orientation))


def _cmyk_to_rgb(ink: np.ndarray, full_scale: float, icc: bytes | None) -> np.ndarray:
    """CMYK samples H×W×4 → float32 RGB in [0, 1]: through the file's CMYK ICC profile to sRGB
    when there is one (8-bit), else Pillow's plain formula ``(1 − C)(1 − K)``."""
    if icc is not None and icc[16:20] == b"CMYK" and ink.dtype == np.uint8:
        with contextlib.suppress(ImageCms.PyCMSError, OSError):
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            im = Image.fromarray(np.ascontiguousarray(ink), "CMYK")
            converted = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
            return np.asarray(converted, dtype=np.float32) / np.float32(255)
    unit = ink.astype(np.float32) / np.float32(full_scale)
    white = 1.0 - unit[..., 3:4]
    return np.ascontiguousarray((1.0 - unit[..., :3]) * white)


# ---- EXIF and XMP ---------------------------------------------------------------------------


def _with_exif_header(raw: bytes) -> bytes:
    return raw if raw.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + raw


def _parse_exif(raw: bytes) -> Image.Exif | None:
    exif = Image.Exif()
    try:
        exif.load(_with_exif_header(raw))
    except (*_DECODE_ERRORS, TypeError):
        return None
    return exif


def _exif_orientation(raw: bytes | None) -> int:
    exif = _parse_exif(raw) if raw else None
    value = exif.get(_ORIENTATION, 1) if exif is not None else 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _exif_upright(raw: bytes) -> bytes:
    """The EXIF block with ``b"Exif\\0\\0"`` header and Orientation 1; untouched bytes when it
    already says 1 (Pillow re-serialises it otherwise)."""
    exif = _parse_exif(raw)
    if exif is None or exif.get(_ORIENTATION, 1) == 1:
        return _with_exif_header(raw)
    exif[_ORIENTATION] = 1
    return exif.tobytes()


def _xmp_upright(xmp: bytes) -> bytes:
    return _XMP_ORIENTATION.sub(rb"\g<1>1", xmp)


def _exif_from_tiff_tags(tags: tifffile.TiffTags, skip_description: bool) -> bytes | None:
    exif = Image.Exif()
    for code in _TIFF_TEXT_TAGS:
        value = tags.valueof(code)
        if isinstance(value, str) and value and not (code == 270 and skip_description):
            exif[code] = value.encode("utf-8")
    return exif.tobytes() if len(exif) else None


def _tiff_tags_from_exif(raw: bytes | None) -> list[tuple[int, str, int, bytes, bool]]:
    exif = _parse_exif(raw) if raw else None
    if exif is None:
        return []
    tags = []
    for code in _TIFF_TEXT_TAGS:
        value = exif.get(code)
        if isinstance(value, str):  # Pillow decodes EXIF text as Latin-1: this gives the bytes back
            try:
                value = value.encode("latin-1")
            except UnicodeEncodeError:
                value = value.encode("utf-8")
        if isinstance(value, bytes) and value.strip(b"\x00 "):
            tags.append((code, "s", 0, value.rstrip(b"\x00"), True))
    return tags


# ---- opening files and reporting failures ---------------------------------------------------


class _PillowLimitLift:
    """Turns Pillow's own decompression-bomb check off while any of our reads is running.

    Our ``max_pixels`` (checked from the header) is the limit that counts; Pillow's would raise
    DecompressionBombError or warn at ~89/179 megapixels. Reference-counted so concurrent reads
    don't restore the limit under each other.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved: int | None = None
        self._saved_chunk = (PngImagePlugin.MAX_TEXT_CHUNK, PngImagePlugin.MAX_TEXT_MEMORY)

    def __enter__(self) -> None:
        with self._lock:
            if self._active == 0:
                self._saved = Image.MAX_IMAGE_PIXELS
                self._saved_chunk = (PngImagePlugin.MAX_TEXT_CHUNK, PngImagePlugin.MAX_TEXT_MEMORY)
                Image.MAX_IMAGE_PIXELS = None
                PngImagePlugin.MAX_TEXT_CHUNK = max(MAX_PNG_CHUNK, self._saved_chunk[0])
                PngImagePlugin.MAX_TEXT_MEMORY = max(4 * MAX_PNG_CHUNK, self._saved_chunk[1])
            self._active += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                Image.MAX_IMAGE_PIXELS = self._saved
                PngImagePlugin.MAX_TEXT_CHUNK, PngImagePlugin.MAX_TEXT_MEMORY = self._saved_chunk


_PILLOW_LIMIT_LIFTED = _PillowLimitLift()


def _sniff_format(path: Path) -> tuple[str, bytes]:
    """The file's format from its first bytes, and those bytes."""
    name = path.name
    try:
        kind = os.stat(path).st_mode
        if stat.S_ISDIR(kind):
            raise IsADirectoryError
        if not stat.S_ISREG(kind):  # a FIFO would block open() forever
            raise ImageError(
                f"{name} is not a regular file (a pipe, device or socket); PhotoFix opens image"
                " files."
            )
        with open(path, "rb") as f:
            head = f.read(32)
    except FileNotFoundError:
        raise ImageError(f"{name} does not exist.") from None
    except IsADirectoryError:
        raise ImageError(f"{name} is a folder, not an image file.") from None
    except OSError as exc:
        raise ImageError(f"{name} cannot be read: {_reason(exc)}.") from exc
    if not head:
        raise EmptyImage(f"{name} is empty (0 bytes).")
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            if fmt == "TIFF" and path.suffix.lower() in _RAW_SUFFIXES:
                break
            return fmt, head
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP", head
    raise _not_readable_kind(path, head)


def _not_readable_kind(path: Path, head: bytes) -> ImageError:
    name = path.name
    if path.suffix.lower() in _RAW_SUFFIXES:
        return UnsupportedImage(
            f"{name} is a camera raw file; develop it to TIFF or JPEG first "
            f"(PhotoFix opens {_SUPPORTED_TEXT})."
        )
    other = next((kind for magic, kind in _OTHER_MAGIC if head.startswith(magic)), None)
    if other is None and head[4:8] == b"ftyp":
        other = "HEIF/AVIF"
    if other is not None:
        return UnsupportedImage(f"{name} is a {other} file; PhotoFix opens {_SUPPORTED_TEXT}.")
    if path.suffix.lower() in _READ_SUFFIXES:
        return CorruptImage(f"{name} is not a readable image (damaged or not an image).")
    return UnsupportedImage(
        f"{name} is not an image PhotoFix can open; supported formats are {_SUPPORTED_TEXT}."
    )


def _looks_truncated(path: Path, fmt: str, head: bytes) -> bool:
    """Whether the file ends before its format says it should."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - 12))
        tail = f.read()
    if fmt == "PNG":
        return not tail.endswith(_PNG_IEND)
    if fmt == "JPEG":
        return not tail.endswith(b"\xff\xd9")
    if fmt == "WEBP":
        return int.from_bytes(head[4:8], "little") + 8 > size
    if fmt == "BMP":
        return int.from_bytes(head[2:6], "little") > size
    return False


def _unreadable(path: Path, fmt: str, head: bytes, exc: BaseException | None) -> CorruptImage:
    if "truncated" in str(exc).lower() or _looks_truncated(path, fmt, head):
        return CorruptImage(
            f"{path.name} looks truncated: the file ends before the image is complete "
            "(perhaps an interrupted copy or download)."
        )
    return CorruptImage(f"{path.name} is not a readable image (damaged or not an image).")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f}".rstrip("0").rstrip(".")


def _check_pixels(path: Path, width: int, height: int, max_pixels: int | None) -> None:
    if width <= 0 or height <= 0:
        raise EmptyImage(f"{path.name} has no pixels (its width or height is 0).")
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLarge(
            f"{path.name} is {width} × {height} = {_megapixels(width * height)} megapixels, "
            f"more than the limit of {_megapixels(max_pixels)} megapixels "
            "(Settings → Maximum image size)."
        )


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


@contextlib.contextmanager
def _opened_with_pillow(path: Path, fmt: str, head: bytes) -> Iterator[Image.Image]:
    """Pillow image of ``path`` read as ``fmt``; decoding errors inside the block become
    CorruptImage."""
    with _PILLOW_LIMIT_LIFTED:
        try:
            with Image.open(path, formats=[fmt]) as im:
                yield im
        except _DECODE_ERRORS as exc:
            raise _unreadable(path, fmt, head, exc) from exc


# ---- damage and decompression bombs --------------------------------------------------------

# The fewest bytes per pixel each format can spend on real data. Deflate expands at most about
# 1032:1; a Huffman-coded JPEG spends at least one bit per 8×8 block (its DC code); PackBits at
# most 128:2; LZW codes reach about 4096 bytes per 12 bits. A file smaller than its declared size
# allows cannot hold that image: it is refused before any pixel buffer is allocated. Halved again
# for slack. Formats and codecs not listed (WebP, arithmetic JPEG, zstd, LZMA) are not bounded.
_DEFLATE_RATIO = 1032 * 2
_TIFF_RATIOS = {1: 1, 5: 4096 * 2, 7: 512 * 8 * 2, 8: _DEFLATE_RATIO, 32946: _DEFLATE_RATIO,
                32773: 64 * 2}  # fmt: skip
_JPEG_HUFFMAN_SOF = (0xC0, 0xC1, 0xC2, 0xC3)
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DAMAGE_WORDS = ("corrupt", "premature", "truncat", "not enough", "bad huffman", "crc",
                 "extraneous", "invalid", "incomplete", "error")  # fmt: skip


def _too_little_data(path: Path, width: int, height: int, needed: float) -> CorruptImage:
    have = path.stat().st_size
    return CorruptImage(
        f"{path.name} says it is {width} × {height} pixels, but its {have:,} bytes cannot hold "
        f"that picture (at least {math.ceil(needed):,} bytes are needed): it is damaged or "
        "made to exhaust memory, and was not decoded."
    )


def _check_data_can_fill(path: Path, fmt: str, head: bytes, im: Image.Image) -> None:
    """CorruptImage when the file is too small for the size its header declares."""
    width, height = im.size
    size = path.stat().st_size
    if fmt == "PNG":
        depth, channels = head[24], _PNG_CHANNELS.get(head[25], 4)
        raw = height * (1 + math.ceil(width * channels * depth / 8))
        needed = raw / _DEFLATE_RATIO
    elif fmt == "JPEG":
        if _jpeg_sof(path) not in _JPEG_HUFFMAN_SOF:
            return
        needed = width * height / 64 / 8 / 2
    elif fmt == "BMP":
        compression = int.from_bytes(head[30:34], "little") if len(head) >= 34 else 0
        bits = int.from_bytes(head[28:30], "little") if len(head) >= 30 else 24
        rows = height * (((width * bits + 31) // 32) * 4)
        needed = rows if compression in (0, 3) else rows / 128 / 2
    else:
        return
    if size < needed:
        raise _too_little_data(path, width, height, needed)


def _check_tiff_data_can_fill(path: Path, page: tifffile.TiffPage) -> None:
    ratio = _TIFF_RATIOS.get(int(page.compression))
    if ratio is None:
        return
    raw = page.imagelength * page.imagewidth * page.samplesperpixel * page.bitspersample / 8
    counts = page.databytecounts
    stored = sum(int(c) for c in counts) if counts else path.stat().st_size
    stored = min(stored, path.stat().st_size)
    if stored < raw / ratio:
        raise _too_little_data(path, page.imagewidth, page.imagelength, raw / ratio)


def _jpeg_sof(path: Path) -> int | None:
    """The start-of-frame marker (0xC0…0xCF) of a JPEG: which coding it uses."""
    with open(path, "rb") as f:
        f.seek(2)
        for _ in range(1000):  # segments before the frame header
            segment = f.read(4)
            if len(segment) < 4 or segment[0] != 0xFF:
                return None
            marker = segment[1]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return marker
            f.seek(int.from_bytes(segment[2:4], "big") - 2, 1)
    return None


def _jpeg_damage(path: Path) -> str | None:
    """What libjpeg says is wrong with the file's coded data, or None when it decodes cleanly.

    Pillow silences libjpeg's warnings ("Corrupt JPEG data: premature end of data segment") and
    returns grey or smeared rows; here the whole scan is decoded once more at 1/8 scale with
    warnings as errors (simplejpeg, libjpeg-turbo), which costs a fraction of the real decode.
    """
    try:
        import simplejpeg
    except ImportError:  # an optional check: without it damaged JPEGs are not detected
        return None
    data = path.read_bytes()
    failure = None
    for space in ("GRAY", "CMYK"):
        try:
            simplejpeg.decode_jpeg(data, colorspace=space, min_factor=8, strict=True)
            return None
        except ValueError as exc:
            failure = str(exc)
            if any(word in failure.lower() for word in ("corrupt", "premature", "huffman")):
                break
    if failure is None or ("color" in failure.lower() and "conversion" in failure.lower()):
        return None
    return failure.rstrip(".").lower().replace("jpeg data: ", "data: ")


def _png_short_data(path: Path, head: bytes) -> str | None:
    """'the image data ends after N of H rows' when a PNG's compressed data holds fewer bytes
    than its rows need (Pillow fills the missing rows silently), else None."""
    width, height = struct.unpack(">II", head[16:24])
    depth, channels, interlaced = head[24], _PNG_CHANNELS.get(head[25], 4), head[28] == 1
    row = 1 + math.ceil(width * channels * depth / 8)
    if interlaced:
        need = 0
        for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                               (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):  # fmt: skip
            pw, ph = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
            if pw and ph:
                need += ph * (1 + math.ceil(pw * channels * depth / 8))
    else:
        need = height * row
    inflate = zlib.decompressobj()
    got = 0
    with open(path, "rb") as f:
        f.seek(8)
        while header := f.read(8):
            if len(header) < 8:
                break
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IDAT":
                data = f.read(length)
                while data and got < need:
                    got += len(inflate.decompress(data, 1 << 22))
                    data = inflate.unconsumed_tail
                f.seek(4, 1)
            elif kind == b"IEND":
                break
            else:
                f.seek(length + 4, 1)
            if got >= need:
                return None
    with contextlib.suppress(zlib.error):
        got += len(inflate.flush())
    if got >= need:
        return None
    rows = got // row if not interlaced else None
    where = f"after {rows} of {height} rows" if rows is not None else "early (interlaced)"
    return f"its image data ends {where}"


def _damaged(path: Path, what: str) -> None:
    """Refuse a damaged file (CorruptImage), or, with accept-damaged, warn and go on."""
    if _ACCEPT_DAMAGED.get():
        warnings.warn(
            f"{path.name} is damaged ({what}); kept what was readable, as asked.",
            ImageWarning,
            stacklevel=4,
        )
        return
    raise CorruptImage(
        f"{path.name} is damaged: {what}. PhotoFix does not hand back a partly decoded picture"
        " as a result (--accept-damaged keeps what is readable)."
    )


@contextlib.contextmanager
def _truncated_allowed(allow: bool) -> Iterator[None]:
    from PIL import ImageFile

    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = allow or saved
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _c_stderr_captured() -> Iterator[Callable[[], str]]:
    """Collect what C libraries (libpng, libjpeg, libtiff inside OpenCV) print on file
    descriptor 2 during the block, instead of letting it reach the user's terminal; yields a
    function returning the text."""
    text = ""
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all (a windowed app): nothing to capture
            yield lambda: ""
            return
        try:
            os.dup2(sink.fileno(), 2)
            yield lambda: text
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")


def _decoder_complaint(said: str) -> str | None:
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    bad = [line for line in lines if any(w in line.lower() for w in _DAMAGE_WORDS)]
    if not bad:
        return None
    return bad[0].removeprefix("libpng error: ").removeprefix("libpng warning: ").lower()


# ---- reading through Pillow (JPEG, PNG, WebP, BMP; TIFF fallback) ---------------------------


def _read_with_pillow(
    path: Path, fmt: str, head: bytes, max_pixels: int | None, decode: bool
) -> tuple[ImageMeta, _SourcePixels | None]:
    if fmt == "PNG":  # Pillow refuses a zero-size IHDR as "not an image"
        if len(head) < 26 or head[12:16] != b"IHDR":
            raise _unreadable(path, fmt, head, None)
        _check_pixels(path, *struct.unpack(">II", head[16:24]), max_pixels)
    # IHDR bit depth 16 with colour type RGB, gray+alpha or RGBA: Pillow would give 8 bits
    deep_png = fmt == "PNG" and head[24] == 16 and head[25] in (2, 4, 6)
    with _opened_with_pillow(path, fmt, head) as im:
        meta = _pillow_meta(im, fmt)
        if deep_png:
            meta.bit_depth, meta.grayscale = 16, head[25] == 4
            meta.source_mode = "LA" if meta.grayscale else meta.source_mode
        _check_pixels(path, meta.width, meta.height, max_pixels)
        if not decode:
            return meta, None
        _check_data_can_fill(path, fmt, head, im)
        damage = _jpeg_damage(path) if fmt == "JPEG" else None
        if fmt == "PNG":
            damage = _png_short_data(path, head)
        if damage is not None and _looks_truncated(path, fmt, head):
            damage = (
                "it looks truncated, the file ends before the image is complete (perhaps an"
                " interrupted copy or download)"
            )
        if damage is not None:
            _damaged(path, damage)
        if deep_png:
            encoded = np.fromfile(path, dtype=np.uint8)
            pixels = _decode_with_opencv(encoded, path, fmt, head, meta)
        else:
            with _truncated_allowed(_ACCEPT_DAMAGED.get()):
                pixels = _pillow_pixels(im, meta)
        return meta, pixels


def _pillow_meta(im: Image.Image, fmt: str) -> ImageMeta:
    info = im.info
    raw_exif = info.get("exif") or None
    orientation = _exif_orientation(raw_exif)
    width, height = im.size
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    mode = im.mode
    xmp = info.get("xmp") or None
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    if xmp is not None and orientation != 1:
        xmp = _xmp_upright(xmp)
    return ImageMeta(
        format=fmt,
        width=width,
        height=height,
        source_mode=mode,
        bit_depth=16 if mode.startswith("I") else 32 if mode == "F" else 8,
        grayscale=mode in _GRAY_MODES,
        has_alpha=mode in _ALPHA_MODES or ("transparency" in info and mode in ("L", "P", "RGB")),
        # CMYK is converted to sRGB on load: its profile no longer describes the pixels
        icc_profile=None if mode == "CMYK" else info.get("icc_profile") or None,
        exif=_exif_upright(raw_exif) if raw_exif else None,
        dpi=_clean_dpi(info.get("dpi")),
        xmp=xmp,
        orientation=orientation,
        n_pages=1 if fmt == "JPEG" else getattr(im, "n_frames", 1),  # MPO extras aren't pages
    )


def _clean_dpi(dpi: object) -> tuple[float, float] | None:
    if not isinstance(dpi, tuple) or len(dpi) != 2:
        return None
    x, y = (round(float(v), 2) for v in dpi)  # PNG's pixels-per-metre gives 599.9988
    return (x, y) if x > 0 and y > 0 else None


def _pillow_pixels(im: Image.Image, meta: ImageMeta) -> _SourcePixels:
    mode = im.mode
    if mode == "CMYK":
        rgb = _cmyk_to_rgb(np.asarray(im), 255, im.info.get("icc_profile") or None)
        return _SourcePixels(rgb, None, 1.0)
    if mode == "F":
        return _SourcePixels(np.asarray(im, dtype=np.float32)[..., None], None, 1.0)
    if mode.startswith("I"):
        gray = np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
        return _SourcePixels(gray[..., None], None, 65535)
    if meta.grayscale:
        target = "LA" if meta.has_alpha else "L"
    else:
        target = "RGBA" if meta.has_alpha else "RGB"
    samples = np.asarray(im if mode == target else im.convert(target))
    if samples.ndim == 2:
        samples = samples[..., None]
    if meta.has_alpha:
        return _SourcePixels(samples[..., :-1], samples[..., -1], 255)
    return _SourcePixels(samples, None, 255)


def _decode_with_opencv(
    encoded: np.ndarray, path: Path, fmt: str, head: bytes, meta: ImageMeta
) -> _SourcePixels:
    """8/16-bit gray or colour pixels of the file's bytes ``encoded`` through OpenCV (BGR(A)
    order, undone here)."""
    with _c_stderr_captured() as said:
        samples = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    if samples is None or samples.dtype not in (np.uint8, np.uint16):
        raise _unreadable(path, fmt, head, None)
    if complaint := _decoder_complaint(said()):
        _damaged(path, complaint)
    if samples.ndim == 2:
        samples = samples[..., None]
    channels = samples.shape[2]
    color = samples[..., :1] if meta.grayscale or channels < 3 else samples[..., 2::-1]
    alpha = samples[..., -1] if meta.has_alpha and channels in (2, 4) else None
    return _SourcePixels(color, alpha, 65535 if samples.dtype == np.uint16 else 255)


# ---- reading TIFF through tifffile ----------------------------------------------------------

_PHOTOMETRIC = tifffile.PHOTOMETRIC
_ALPHA_SAMPLES = (tifffile.EXTRASAMPLE.ASSOCALPHA, tifffile.EXTRASAMPLE.UNASSALPHA)
_TIFFFILE_PHOTOMETRICS = (_PHOTOMETRIC.MINISWHITE, _PHOTOMETRIC.MINISBLACK, _PHOTOMETRIC.RGB,
                          _PHOTOMETRIC.PALETTE, _PHOTOMETRIC.SEPARATED)  # fmt: skip


def _read_tiff(
    path: Path, head: bytes, max_pixels: int | None, decode: bool
) -> tuple[ImageMeta, _SourcePixels | None]:
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            meta = _tiff_meta(page, len(tif.pages))
            _check_pixels(path, meta.width, meta.height, max_pixels)
            if not decode:
                return meta, None
            _check_tiff_data_can_fill(path, page)
            if (
                page.compression in tifffile.TIFF.DECOMPRESSORS
                and page.predictor in tifffile.TIFF.UNPREDICTORS
                and page.photometric in _TIFFFILE_PHOTOMETRICS
            ):
                return meta, _tiff_pixels(path, page, meta)
            orientation_tag = page.tags.get(274)
            byteorder = tif.byteorder
            plain = (
                page.photometric in (_PHOTOMETRIC.MINISBLACK, _PHOTOMETRIC.RGB)
                and page.bitspersample in (8, 16)
                and page.planarconfig == tifffile.PLANARCONFIG.CONTIG
                and tifffile.EXTRASAMPLE.ASSOCALPHA not in page.extrasamples
            )
    except PhotoFixError:
        raise
    except _DECODE_ERRORS as exc:
        raise _unreadable(path, "TIFF", head, exc) from exc
    # tifffile lacks this codec (LZW, JPEG... need imagecodecs) or layout (YCbCr): OpenCV keeps
    # 16 bits, Pillow knows the rest.
    if plain:
        encoded = np.fromfile(path, dtype=np.uint8)
        if orientation_tag is not None and meta.orientation != 1:
            # OpenCV applies a TIFF's orientation itself; we apply it later, so reset it here
            at = orientation_tag.valueoffset
            encoded[at : at + 2] = np.frombuffer(struct.pack(f"{byteorder}H", 1), np.uint8)
        return meta, _decode_with_opencv(encoded, path, "TIFF", head, meta)
    with _opened_with_pillow(path, "TIFF", head) as im:
        return meta, _pillow_pixels(im, meta)


def _tiff_meta(page: tifffile.TiffPage, n_pages: int) -> ImageMeta:
    tags = page.tags
    orientation = int(tags.valueof(274, 1))
    orientation = orientation if 1 <= orientation <= 8 else 1
    width, height = page.imagewidth, page.imagelength
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    photometric = page.photometric
    has_alpha = bool(page.extrasamples) and page.extrasamples[0] in _ALPHA_SAMPLES
    grayscale = photometric in (_PHOTOMETRIC.MINISBLACK, _PHOTOMETRIC.MINISWHITE)
    is_float = page.sampleformat == tifffile.SAMPLEFORMAT.IEEEFP
    bits = page.bitspersample
    bit_depth = 32 if is_float else (8 if bits <= 8 else 16)
    icc = tags.valueof(34675)
    xmp = tags.valueof(700)
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    if xmp and orientation != 1:
        xmp = _xmp_upright(bytes(xmp))
    is_cmyk = photometric == _PHOTOMETRIC.SEPARATED
    return ImageMeta(
        format="TIFF",
        width=width,
        height=height,
        source_mode=_tiff_mode(photometric, bits, is_float, has_alpha),
        bit_depth=bit_depth,
        grayscale=grayscale,
        has_alpha=has_alpha,
        icc_profile=bytes(icc) if icc is not None and len(icc) and not is_cmyk else None,
        exif=_exif_from_tiff_tags(tags, skip_description=page.is_shaped or page.is_imagej),
        dpi=_tiff_dpi(tags),
        xmp=bytes(xmp) if xmp else None,
        orientation=orientation,
        n_pages=n_pages,
    )


def _tiff_mode(photometric: int, bits: int, is_float: bool, has_alpha: bool) -> str:
    if photometric in (_PHOTOMETRIC.MINISBLACK, _PHOTOMETRIC.MINISWHITE):
        if has_alpha:
            return "LA"
        return "1" if bits == 1 else "F" if is_float else "I;16" if bits > 8 else "L"
    names = {_PHOTOMETRIC.PALETTE: "P", _PHOTOMETRIC.SEPARATED: "CMYK", _PHOTOMETRIC.RGB: "RGB"}
    name = names.get(photometric, getattr(photometric, "name", str(photometric)))
    return name + "A" if has_alpha and name in ("RGB", "CMYK") else name


def _tiff_dpi(tags: tifffile.TiffTags) -> tuple[float, float] | None:
    x, y, unit = tags.valueof(282), tags.valueof(283), int(tags.valueof(296, 2))
    if not (isinstance(x, tuple) and isinstance(y, tuple) and x[1] and y[1]) or unit not in (2, 3):
        return None
    per_inch = 2.54 if unit == 3 else 1.0
    dpi = (round(x[0] / x[1] * per_inch, 2), round(y[0] / y[1] * per_inch, 2))
    return dpi if dpi[0] > 0 and dpi[1] > 0 else None


def _tiff_pixels(path: Path, page: tifffile.TiffPage, meta: ImageMeta) -> _SourcePixels:
    samples = page.asarray()
    if "S" in page.axes:
        samples = np.moveaxis(samples, page.axes.index("S"), -1)
    else:
        samples = samples[..., None]
    samples = samples.reshape(page.imagelength, page.imagewidth, -1)
    if samples.dtype == bool:
        samples, full_scale = samples.view(np.uint8), 1.0
    elif samples.dtype in (np.uint8, np.uint16):
        full_scale = float(2**page.bitspersample - 1)
    elif samples.dtype.kind == "f":
        full_scale = 1.0
    else:
        raise UnsupportedImage(
            f"{path.name} stores {samples.dtype} samples; PhotoFix reads 8- and 16-bit integer "
            "or floating-point TIFF."
        )
    photometric = page.photometric
    if photometric == _PHOTOMETRIC.RGB:
        n_color, color = 3, samples[..., :3]
    elif photometric == _PHOTOMETRIC.MINISBLACK:
        n_color, color = 1, samples[..., :1]
    elif photometric == _PHOTOMETRIC.MINISWHITE:
        black = samples[..., :1]
        n_color = 1
        color = 1.0 - black if black.dtype.kind == "f" else black.dtype.type(full_scale) - black
    elif photometric == _PHOTOMETRIC.PALETTE:
        colormap = page.colormap  # 3×N uint16; 8-bit tables are stored ×256 or ×257
        lut = (colormap >> 8 if colormap.max() > 255 else colormap).T.astype(np.uint8)
        n_color, color, full_scale = 1, lut[samples[..., 0]], 255.0
    else:  # SEPARATED, i.e. CMYK
        icc = page.tags.valueof(34675)
        n_color, color = 4, _cmyk_to_rgb(samples[..., :4], full_scale, icc and bytes(icc))
    alpha = samples[..., n_color] if meta.has_alpha else None
    if alpha is not None and page.extrasamples[0] == tifffile.EXTRASAMPLE.ASSOCALPHA:
        return _unpremultiplied(_SourcePixels(color, alpha, full_scale))
    return _SourcePixels(color, alpha, full_scale)


def _unpremultiplied(premultiplied: _SourcePixels) -> _SourcePixels:
    color, alpha = premultiplied.to_float(orientation=1)
    np.divide(color, alpha[..., None], out=color, where=alpha[..., None] > 0)
    return _SourcePixels(np.clip(color, 0.0, 1.0, out=color), alpha, 1.0)


# ---- public reading API ---------------------------------------------------------------------


def _read(
    path: Path, max_pixels: int | None, *, decode: bool
) -> tuple[ImageMeta, _SourcePixels | None]:
    fmt, head = _sniff_format(path)
    try:
        if fmt == "TIFF":
            return _read_tiff(path, head, max_pixels, decode)
        return _read_with_pillow(path, fmt, head, max_pixels, decode)
    except MemoryError:
        raise ImageTooLarge(f"{path.name} is too large for the memory available.") from None


def _read_pixels(path: Path, max_pixels: int | None) -> tuple[ImageMeta, _SourcePixels]:
    meta, pixels = _read(path, max_pixels, decode=True)
    assert pixels is not None
    if meta.n_pages > 1:
        warnings.warn(
            f"{path.name} holds {meta.n_pages} pages or frames; only the first was loaded.",
            ImageWarning,
            stacklevel=3,
        )
    return meta, pixels


def read_info(path: PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> ImageMeta:
    """Describe an image file from its header, without decoding the pixels (the EXIF of a PNG
    stored after its image data is not seen). Raises the same typed errors as
    :func:`load_image` for missing, empty, unsupported, damaged and too-large files."""
    meta, _ = _read(Path(path), max_pixels, decode=False)
    return meta


def load_image(path: PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Decode an image file to the program's convention.

    Returns float32 RGB H×W×3 in [0, 1] (C-contiguous; gray is repeated in three channels,
    palette expanded, CMYK converted to sRGB) and float32 alpha H×W in [0, 1] (None without
    transparency), upright: the EXIF/TIFF orientation is applied and recorded in ``meta``.
    uint8 samples are divided by 255 and uint16 by 65535, so saving at the source bit depth gives
    back the same integers. Reads JPEG, PNG (8/16 bit), TIFF (8/16 bit integer, float; first
    page, with an :class:`ImageWarning` when there are more), WebP and BMP.

    Raises ImageError (missing/unreadable), EmptyImage, UnsupportedImage, CorruptImage
    (damaged or truncated) and ImageTooLarge (more than ``max_pixels``; None means no limit).
    """
    path = Path(path)
    meta, pixels = _read_pixels(path, max_pixels)
    rgb, alpha = pixels.to_float(meta.orientation)
    return LoadedImage(rgb=rgb, alpha=alpha, meta=meta, path=path)


def pixels_sha256(path: PathLike, *, max_pixels: int | None = None) -> str:
    """SHA-256 (hex) of the pixels :func:`load_image` would return for ``path`` (its float32
    RGB bytes, then its alpha's), computed strip by strip from the decoded samples: the same
    digest as hashing ``load_image(path).rgb`` whole, without holding the float32 image (a
    16-bit RGB file costs its samples, 6 bytes a pixel, instead of 12 more)."""
    meta, pixels = _read_pixels(Path(path), max_pixels)
    digest = hashlib.sha256()
    color = _oriented(pixels.color, meta.orientation)
    _digest_strips(digest, pixels, color, 3)
    if pixels.alpha is not None:
        _digest_strips(digest, pixels, _oriented(pixels.alpha, meta.orientation), 0)
    return digest.hexdigest()


def _digest_strips(
    digest: hashlib._Hash, pixels: _SourcePixels, samples: np.ndarray, bands: int
) -> None:
    """Feed ``samples`` (upright, gray H×W×1 / colour H×W×3, or alpha H×W with ``bands`` 0)
    converted exactly as :meth:`_SourcePixels._unit_float` does, ``_DIGEST_ROWS``-row strips."""
    h, w = samples.shape[:2]
    for y in range(0, h, _DIGEST_ROWS):
        strip = samples[y : y + _DIGEST_ROWS]
        shape = (strip.shape[0], w, bands) if bands else strip.shape
        digest.update(pixels._unit_float(strip, shape).data)


_DIGEST_ROWS = 256


def _check_same_size(path: Path, meta: ImageMeta, shape: tuple[int, int], what: str) -> None:
    if (meta.height, meta.width) != tuple(shape):
        raise ImageError(
            f"The {what} {path.name} is {meta.width} × {meta.height} pixels but the image is "
            f"{shape[1]} × {shape[0]}; it must have the same size."
        )


def load_mask(
    path: PathLike, shape: tuple[int, int], *, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Read a mask file as H×W bool (upright), for an image of ``shape`` = (H, W).

    A pixel is set where the file is nonzero — or, when the file has real transparency (an alpha
    channel that is not fully opaque), where it is not fully transparent, whatever its colour.
    A size other than ``shape`` raises ImageError; other errors as :func:`load_image`.
    """
    path = Path(path)
    meta, pixels = _read_pixels(path, max_pixels)
    _check_same_size(path, meta, shape, "mask")
    return pixels.coverage(meta.orientation)


def load_hints(
    path: PathLike, shape: tuple[int, int], *, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, np.ndarray]:
    """Read a colour-hint file for an image of ``shape`` = (H, W).

    Returns (float32 RGB H×W×3 in [0, 1], H×W bool set where alpha > 0). A file without alpha
    is a hint everywhere. A size other than ``shape`` raises ImageError.
    """
    path = Path(path)
    meta, pixels = _read_pixels(path, max_pixels)
    _check_same_size(path, meta, shape, "colour-hint image")
    rgb, alpha = pixels.to_float(meta.orientation)
    present = np.ones(shape, bool) if alpha is None else alpha > 0
    return rgb, present


# ---- writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """What a writer gets: ``color`` H×W (gray) or H×W×3 (RGB) and ``alpha`` H×W or None, both
    uint8 or uint16, plus metadata already fitted to them (orientation 1, matching ICC)."""

    color: np.ndarray
    alpha: np.ndarray | None
    icc_profile: bytes | None
    exif: bytes | None
    dpi: tuple[float, float] | None
    xmp: bytes | None

    @property
    def samples(self) -> np.ndarray:
        """H×W×C with the alpha as last channel (C = 1…4)."""
        color = self.color if self.color.ndim == 3 else self.color[..., None]
        if self.alpha is None:
            return color
        return np.concatenate([color, self.alpha[..., None]], axis=-1)


def _frame(
    rgb: np.ndarray, alpha: np.ndarray | None, meta: ImageMeta | None, gray: bool, bit_depth: int
) -> _Frame:
    quantize = to_uint16 if bit_depth == 16 else to_uint8
    luma_weights = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as Pillow
    color = quantize(rgb @ luma_weights if gray else rgb)
    icc = meta.icc_profile if meta is not None else None
    if icc is not None and icc[16:20] != (b"GRAY" if gray else b"RGB "):
        icc = None  # a profile must describe the colour space actually written
    return _Frame(
        color=color,
        alpha=None if alpha is None else quantize(alpha),
        icc_profile=icc,
        exif=_exif_upright(meta.exif) if meta is not None and meta.exif else None,
        dpi=meta.dpi if meta is not None else None,
        xmp=_xmp_upright(meta.xmp) if meta is not None and meta.xmp else None,
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_metadata_chunks(frame: _Frame) -> bytes:
    chunks = []
    if frame.icc_profile:
        chunks.append(
            _png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(frame.icc_profile))
        )
    if frame.dpi:
        per_metre = [round(d / 0.0254) for d in frame.dpi]
        chunks.append(_png_chunk(b"pHYs", struct.pack(">IIB", *per_metre, 1)))
    if frame.exif:
        chunks.append(_png_chunk(b"eXIf", frame.exif.removeprefix(b"Exif\x00\x00")))
    if frame.xmp:
        chunks.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + frame.xmp))
    return b"".join(chunks)


def _encode_png_gray_alpha(samples: np.ndarray) -> bytes:
    """A gray+alpha PNG (colour type 4, 8 or 16 bit), which OpenCV cannot write; rows use the
    "Up" filter."""
    height, width = samples.shape[:2]
    depth = samples.dtype.itemsize * 8
    rows = samples.astype(samples.dtype.newbyteorder(">")).reshape(height, -1).view(np.uint8)
    scanlines = np.empty((height, rows.shape[1] + 1), np.uint8)
    scanlines[:, 0] = 2  # Up: each byte minus the byte above (mod 256)
    scanlines[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])
    header = struct.pack(">IIBBBBB", width, height, depth, 4, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(scanlines.tobytes(), _ZLIB_LEVEL))
        + _png_chunk(b"IEND", b"")
    )


def _write_png(target: Path, frame: _Frame) -> None:
    """PNG 8/16 bit, gray/RGB ± alpha; ICC, DPI, EXIF and XMP as chunks right after IHDR."""
    samples = frame.samples
    if samples.shape[2] == 2:
        encoded = _encode_png_gray_alpha(samples)
    else:
        bgr = samples[..., [2, 1, 0, 3][: samples.shape[2]]] if samples.shape[2] > 1 else samples
        ok, buffer = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, _ZLIB_LEVEL])
        if not ok:
            raise WriteError(f"OpenCV could not encode {target.name} as PNG.")
        encoded = buffer.tobytes()
    ihdr_end = len(_PNG_SIGNATURE) + 8 + 13 + 4
    assert encoded[12:16] == b"IHDR"
    target.write_bytes(encoded[:ihdr_end] + _png_metadata_chunks(frame) + encoded[ihdr_end:])


def _write_tiff(target: Path, frame: _Frame) -> None:
    """TIFF 8/16 bit, gray/RGB ± unassociated alpha, Deflate with predictor; ICC, DPI, XMP
    (tag 700), Orientation 1 and the EXIF's descriptive fields as baseline tags."""
    extratags = [(274, "H", 1, 1, True), *_tiff_tags_from_exif(frame.exif)]
    if frame.xmp:
        extratags.append((700, "B", len(frame.xmp), frame.xmp, True))
    tifffile.imwrite(
        target,
        frame.samples,
        photometric="minisblack" if frame.color.ndim == 2 else "rgb",
        extrasamples=["unassalpha"] if frame.alpha is not None else None,
        compression="zlib",
        compressionargs={"level": _ZLIB_LEVEL},
        predictor=True,
        iccprofile=frame.icc_profile,
        resolution=frame.dpi,
        resolutionunit="INCH" if frame.dpi else None,
        software=False,
        metadata=None,
        extratags=extratags,
    )


def _write_with_pillow(target: Path, frame: _Frame, *, fmt: str, quality: int) -> None:
    """JPEG (always 8 bit, no alpha; 4:4:4 chroma at quality ≥ 90) or WebP (lossless at
    quality 100), with ICC, EXIF, XMP and (JPEG) DPI."""
    samples = frame.samples
    image = Image.fromarray(samples[..., 0] if samples.shape[2] == 1 else samples)
    options: dict[str, object] = {"quality": quality}
    if fmt == "JPEG":
        options["optimize"] = True
        if quality >= 90:
            options["subsampling"] = 0
        if frame.dpi:
            options["dpi"] = frame.dpi
    elif quality >= 100:
        options.update(lossless=True, exact=True)  # exact: keep colours under transparency
    for key in ("icc_profile", "exif", "xmp"):
        if value := getattr(frame, key):
            options[key] = value
    try:
        with _c_stderr_captured():  # libjpeg's "Suspension not allowed here"
            image.save(target, format=fmt, **options)
    except OSError:
        if not options.get("optimize"):
            raise
        # Pillow sizes the buffer of an optimised JPEG at 2 bytes per pixel; grainy pictures at
        # quality 90-100 need more ("broken data stream"). Unoptimised JPEG streams instead.
        options["optimize"] = False
        image.save(target, format=fmt, **options)


def _output_format(path: Path, format: str | None) -> str:
    fmt = _SAVE_FORMATS.get(format.upper()) if format else _SAVE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        asked = f"the format {format!r}" if format else f"the extension {path.suffix or '(none)'!r}"
        raise UnsupportedImage(
            f"Cannot save {path.name}: {asked} is not supported; use PNG, TIFF, JPEG or WebP."
        )
    return fmt


def refuse_protected(path: Path, protect: Iterable[PathLike]) -> None:
    """SourceOverwrite when ``path`` is (or is a hard link to) one of ``protect``."""
    for source in protect:
        same = Path(source).resolve() == path.resolve()
        if not same and path.exists() and Path(source).exists():
            same = os.path.samefile(path, source)
        if same:
            raise SourceOverwrite(
                f"Refusing to overwrite the original {path.name}; choose another name or "
                "confirm overwriting."
            )


def save_image(
    path: PathLike,
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    meta: ImageMeta | None = None,
    format: str | None = None,
    bit_depth: int | None = None,
    quality: int = 95,
    grayscale: bool | None = None,
    protect: Iterable[PathLike] = (),
    replace_read_only: bool | None = None,
) -> Path:
    """Write float32 RGB H×W×3 in [0, 1] (and optional alpha H×W in [0, 1]) to ``path``,
    atomically; returns the path.

    ``format`` ("png", "tiff", "jpeg", "webp"; any case) defaults to the suffix. ``bit_depth``
    8 or 16 defaults to 16 when ``meta`` says the source had 16 or more bits, else 8; JPEG and
    WebP are always 8. ``grayscale`` None writes one gray channel when ``meta`` says the source
    was gray and the channels still agree within 0.5/255; True writes BT.601 luma. Values are
    rounded to the nearest integer, so a load → save at the source depth is bit-exact.

    Metadata from ``meta``: PNG — ICC (iCCP), DPI (pHYs), EXIF (eXIf), XMP (iTXt); TIFF — ICC,
    DPI, XMP (tag 700), and only the EXIF's baseline text fields (ImageDescription, Make, Model,
    Software, DateTime, Artist, Copyright) as plain TIFF tags, no EXIF sub-IFD; JPEG — ICC,
    EXIF, DPI, XMP; WebP — ICC, EXIF, XMP. EXIF and XMP are written with Orientation 1 (the
    pixels are upright). An ICC profile whose colour space does not match the written channels
    is left out. Alpha is kept in PNG, TIFF and WebP; for JPEG it is dropped with an
    :class:`ImageWarning` if any pixel was not opaque.

    Raises UnsupportedImage for an unknown format, SourceOverwrite when ``path`` is one of
    ``protect``, WriteError when the file cannot be written (nothing is left behind) or is
    read-only (unless ``replace_read_only``; None follows :func:`replacing_read_only`).
    """
    path = Path(path)
    fmt = _output_format(path, format)
    refuse_protected(path, protect)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype.kind != "f":
        raise ValueError(f"save_image needs float RGB H×W×3, got {rgb.dtype} {rgb.shape}")
    if alpha is not None and np.shape(alpha) != rgb.shape[:2]:
        raise ValueError(f"alpha must be H×W {rgb.shape[:2]}, got {np.shape(alpha)}")
    if bit_depth not in (None, 8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality}")

    if bit_depth is None:
        bit_depth = 16 if meta is not None and meta.bit_depth >= 16 else 8
    if fmt in ("JPEG", "WEBP"):
        bit_depth = 8
    if grayscale is None:
        grayscale = bool(meta is not None and meta.grayscale) and _channels_agree(rgb)
    if fmt == "JPEG" and alpha is not None:
        if (np.asarray(alpha) < 1.0).any():
            warnings.warn(
                f"JPEG has no transparency: the alpha channel was dropped from {path.name}.",
                ImageWarning,
                stacklevel=2,
            )
        alpha = None

    frame = _frame(rgb, alpha, meta, grayscale, bit_depth)
    writers: dict[str, Callable[[Path, _Frame], None]] = {
        "PNG": _write_png,
        "TIFF": _write_tiff,
        "JPEG": partial(_write_with_pillow, fmt="JPEG", quality=quality),
        "WEBP": partial(_write_with_pillow, fmt="WEBP", quality=quality),
    }
    return atomic_write(
        path, partial(writers[fmt], frame=frame), replace_read_only=replace_read_only
    )


def _channels_agree(rgb: np.ndarray) -> bool:
    tolerance = 0.5 / 255
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return bool(np.abs(r - g).max() <= tolerance and np.abs(g - b).max() <= tolerance)


def save_mask(path: PathLike, mask: np.ndarray, *, replace_read_only: bool | None = None) -> Path:
    """Write an H×W bool mask as an 8-bit grayscale PNG (set = 255, clear = 0), atomically."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask is H×W, got shape {mask.shape}")
    samples = np.where(mask, np.uint8(255), np.uint8(0))
    frame = _Frame(samples, None, None, None, None, None)
    return atomic_write(
        Path(path), partial(_write_png, frame=frame), replace_read_only=replace_read_only
    )


def atomic_write(
    path: PathLike, write: Callable[[Path], None], *, replace_read_only: bool | None = None
) -> Path:
    """Call ``write(temp)`` to produce the file at a temporary name in the same folder
    (``.{name}.photofix-tmp-<pid>-<random>``), flush it to disk and rename it over ``path``.

    Either the complete new file is at ``path`` or — on any failure, Ctrl-C and the signals the
    CLI turns into exceptions included — the old file is untouched and no temporary file
    remains. A replaced file keeps its permission bits and, where the system allows, its owner
    and group. A read-only file is refused with WriteError unless ``replace_read_only`` (None:
    as set by :func:`replacing_read_only`). Temporary files that a killed PhotoFix left in the
    folder are removed. PhotoFix errors from ``write`` propagate as they are; anything else
    becomes WriteError.
    """
    path = Path(path)
    allow_read_only = _REPLACE_READ_ONLY.get() if replace_read_only is None else replace_read_only
    try:
        old = os.stat(path)
    except OSError:
        old = None
    replaceable = old is None or not stat.S_ISREG(old.st_mode) or allow_read_only
    if not replaceable and (not old.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK)):
        raise WriteError(
            f"{path.name} is read-only; PhotoFix does not replace it (pass"
            " --replace-read-only, or make it writable first)."
        )
    sweep_stale_temps(path.parent)
    temp = path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(6)}")
    try:
        write(temp)
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        if old is not None and stat.S_ISREG(old.st_mode):
            _copy_ownership(temp, old)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        if isinstance(exc, PhotoFixError) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, MemoryError):
            raise WriteError(f"Could not save {path.name}: out of memory.") from None
        raise WriteError(f"Could not save {path.name}: {_write_failure(path, exc)}.") from exc
    _sync_folder(path.parent)
    return path


def _copy_ownership(temp: Path, old: os.stat_result) -> None:
    """Give the new file the replaced one's owner, group (where allowed) and mode."""
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):
            os.chown(temp, old.st_uid, old.st_gid)
    os.chmod(temp, stat.S_IMODE(old.st_mode))


_TEMP_NAME = re.compile(r"^\..+" + re.escape(TEMP_MARK) + r"(?:(\d+)-)?[0-9a-f]{12}$")


def sweep_stale_temps(folder: PathLike) -> list[Path]:
    """Remove temporary files of earlier PhotoFix runs that were killed while writing (their
    process no longer runs, or, for unnamed ones, older than a day); returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if TEMP_MARK not in entry.name or not (match := _TEMP_NAME.match(entry.name)):
            continue
        pid = match.group(1)
        try:
            old = now - entry.stat().st_mtime > _STALE_TEMP_SECONDS
            orphan = pid is not None and int(pid) != os.getpid() and not _process_alive(int(pid))
            if not (old or orphan):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _process_alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no cheap check: leave it to the age rule
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _write_failure(path: Path, exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError) and not path.parent.is_dir():
        return f"the folder {path.parent} does not exist"
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        return "a folder of that name is in the way"
    if isinstance(exc, OSError):
        return _reason(exc)
    return str(exc) or type(exc).__name__


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no folder fsync)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
