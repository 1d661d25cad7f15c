"""Point-spread functions: the blur kernels ``deblur`` inverts.

Every kernel is float32, square, odd-sized, non-negative and sums to 1, with the blur's centre
on the middle pixel. Builders:

* :func:`gaussian_psf` — scanner and lens softness (σ in pixels);
* :func:`disk_psf` — defocus, a uniform disk of ``radius`` px, anti-aliased by 8× supersampling;
* :func:`motion_psf` — a straight camera shake of ``length`` px (its extent at angle 0) at
  ``angle`` degrees counter-clockwise from the x axis (as seen on screen: y points down in the
  array, so the line runs towards −y for positive angles);
* :func:`load_kernel` — a grayscale PNG/TIFF the user supplies (values are weights).

Estimation from the image lives in :mod:`photofix.ops.psf_estimate`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from photofix.core.errors import OperationError
from photofix.core.provenance import file_sha256
from photofix.core.recipe import current_facts

MAX_KERNEL = 151  # px: beyond this a blur is not a scan's softness but a different picture


def _normalise(k: np.ndarray) -> np.ndarray:
    k = np.clip(np.asarray(k, np.float64), 0.0, None)
    total = k.sum()
    if not np.isfinite(total) or total <= 0:
        raise OperationError("the blur kernel is empty (all its weights are zero)")
    return (k / total).astype(np.float32)


def gaussian_psf(sigma: float) -> np.ndarray:
    """Isotropic Gaussian, size 2·⌈3σ⌉+1, sampled at pixel centres."""
    if not (sigma > 0 and math.isfinite(sigma)):
        raise OperationError("sigma must be a positive number of pixels")
    half = max(1, math.ceil(3.0 * sigma))
    x = np.arange(-half, half + 1, dtype=np.float64)
    g = np.exp(-0.5 * (x / sigma) ** 2)
    return _normalise(np.outer(g, g))


def disk_psf(radius: float) -> np.ndarray:
    """Uniform disk (defocus) of ``radius`` px; edge pixels weighted by their covered area."""
    if not (radius > 0 and math.isfinite(radius)):
        raise OperationError("radius must be a positive number of pixels")
    half = max(1, math.ceil(radius))
    ss = 8
    # sub-pixel sample positions inside each pixel
    off = (np.arange(ss) + 0.5) / ss - 0.5
    x = np.arange(-half, half + 1, dtype=np.float64)
    fine = (x[:, None] + off[None, :]).reshape(-1)
    inside = (fine[:, None] ** 2 + fine[None, :] ** 2) <= radius**2
    n = 2 * half + 1
    cover = inside.reshape(n, ss, n, ss).mean(axis=(1, 3))
    if cover.sum() == 0:  # radius below half a pixel: the centre pixel only
        cover[half, half] = 1.0
    return _normalise(cover)


def motion_psf(length: float, angle: float) -> np.ndarray:
    """A straight motion line ``length`` px long at ``angle`` degrees CCW from +x.

    The line is drawn by splatting 16 samples per pixel bilinearly, so any angle gives a
    smooth, symmetric kernel; length 1 is the identity.
    """
    if not (length >= 1 and math.isfinite(length)):
        raise OperationError("length must be at least 1 pixel")
    if not math.isfinite(angle):
        raise OperationError("angle must be a finite number of degrees")
    theta = math.radians(angle)
    dx, dy = math.cos(theta), -math.sin(theta)  # y grows downwards in the array
    reach = (length - 1) / 2.0
    half = math.ceil(reach) + 1
    n = 2 * half + 1
    k = np.zeros((n, n), np.float64)
    t = np.linspace(-reach, reach, max(2, math.ceil(length * 16)))
    px, py = half + t * dx, half + t * dy
    x0, y0 = np.floor(px).astype(int), np.floor(py).astype(int)
    fx, fy = px - x0, py - y0
    for ox, oy, w in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        np.add.at(k, (y0 + oy, x0 + ox), w)
    return crop_kernel(_normalise(k))


def load_kernel(path: str | Path) -> np.ndarray:
    """A kernel from a grayscale image file (brighter = more weight), centred on its mass."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise OperationError(f"kernel file not found: {path}")
    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("I;16") if im.mode.startswith("I;16") else im.convert("L"))
    except (UnidentifiedImageError, OSError) as exc:
        raise OperationError(f"cannot read the kernel image {path.name}: {exc}") from None
    arr = arr.astype(np.float64)
    if max(arr.shape) > MAX_KERNEL:
        raise OperationError(
            f"the kernel image {path.name} is {arr.shape[1]}×{arr.shape[0]} px;"
            f" at most {MAX_KERNEL}×{MAX_KERNEL} is accepted"
        )
    return center_kernel(_normalise(arr))


def center_kernel(k: np.ndarray) -> np.ndarray:
    """Pad ``k`` to an odd square with its centre of mass on the middle pixel (±½ px)."""
    k = np.asarray(k, np.float64)
    ys, xs = np.indices(k.shape)
    total = k.sum()
    cy, cx = round((ys * k).sum() / total), round((xs * k).sum() / total)
    half = max(cy, k.shape[0] - 1 - cy, cx, k.shape[1] - 1 - cx)
    out = np.zeros((2 * half + 1, 2 * half + 1), np.float64)
    oy, ox = half - cy, half - cx
    out[oy : oy + k.shape[0], ox : ox + k.shape[1]] = k
    return crop_kernel(_normalise(out))


def crop_kernel(k: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Drop all-but-empty outer rings (keeps it odd, square and centred)."""
    k = np.asarray(k, np.float32)
    half = k.shape[0] // 2
    while half > 1:
        ring = k.copy()
        ring[1:-1, 1:-1] = 0
        if ring.sum() > tol:
            break
        k = k[1:-1, 1:-1]
        half -= 1
    return _normalise(k)


def psf_from_params(params: dict) -> np.ndarray:
    """The kernel a ``deblur`` parameter set names (not ``auto``)."""
    kind = params["psf"]
    if kind == "gaussian":
        return gaussian_psf(params["sigma"])
    if kind == "disk":
        return disk_psf(params["radius"])
    if kind == "motion":
        return motion_psf(params["length"], params["angle"])
    if kind == "kernel":
        if not params.get("kernel"):
            raise OperationError("psf=kernel needs kernel=FILE (a grayscale PNG of the blur)")
        kernel = load_kernel(params["kernel"])
        facts = current_facts()  # the step record names the file by its content, not its path
        if facts is not None:
            facts.resolve("kernel_sha256", file_sha256(params["kernel"]))
        return kernel
    raise OperationError(f"unknown psf {kind!r}")


def motion_from_kernel(k: np.ndarray) -> tuple[float, float]:
    """The straight motion line (length px, angle degrees CCW in [0, 180)) with the kernel's
    second moments: a line of length L spreads its mass with variance (L − 1)²/12 along it
    (``motion_psf(L, a)`` comes back within 0.3 px and 0.01°)."""
    k = np.asarray(k, np.float64)
    k = k / k.sum()
    ys, xs = np.indices(k.shape)
    dy, dx = ys - (ys * k).sum(), xs - (xs * k).sum()
    cov = np.array([[(dx * dx * k).sum(), (dx * dy * k).sum()], [0.0, (dy * dy * k).sum()]])
    cov[1, 0] = cov[0, 1]
    w, v = np.linalg.eigh(cov)
    length = math.sqrt(12.0 * max(w[1] - w[0], 0.0)) + 1.0
    angle = math.degrees(math.atan2(-v[1, 1], v[0, 1])) % 180.0  # y grows downwards
    return float(length), float(angle)


def kernel_picture(k: np.ndarray, size: int = 96) -> np.ndarray:
    """The kernel as a uint8 HxW picture (nearest-neighbour enlarged, peak = white)."""
    k = np.asarray(k, np.float32)
    scale = max(1, size // k.shape[0])
    pic = np.kron(k / max(float(k.max()), 1e-12), np.ones((scale, scale), np.float32))
    return np.clip(pic * 255.0 + 0.5, 0, 255).astype(np.uint8)
