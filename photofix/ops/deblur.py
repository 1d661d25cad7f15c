"""``deblur``: undo a known or estimated blur (defocus, scanner softness, camera shake).

Non-blind deconvolution (:mod:`photofix.ops.deconv`) with the point-spread function the user
names — ``psf=gaussian`` (``sigma``), ``disk`` (defocus ``radius``), ``motion`` (``length``,
``angle`` in degrees counter-clockwise from the x axis), ``kernel`` (``kernel=FILE``, a
grayscale PNG) — or ``psf=auto``: a Gaussian or defocus disk estimated from the whole picture,
or, when a ``region`` (``x,y,w,h`` in pixels) is given, any kernel (camera shake) estimated
blindly inside it (:mod:`photofix.ops.psf_estimate`); ``psf=shake`` does the same in the
region or in the painted mask's bounding box (the mask is not used otherwise).

The default solver is the hyper-Laplacian prior of Krishnan & Fergus; ``method=rl`` is damped
Richardson–Lucy. Regularisation is noise-aware: ``μ = 0.18 · σ · ‖k‖₂ / strength`` with σ the
noise measured on the image (``noise=auto``) or given in 8-bit levels; the constant was tuned on
calibration photos (``benchmarks/bench_deblur.py``). The work runs in 1024-px tiles with
overlap, so memory stays bounded on 12-MP scans; 16-bit input keeps its precision (float32
throughout, no rounding here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from photofix.core.errors import OperationError
from photofix.ops import deconv
from photofix.ops.psf import psf_from_params
from photofix.ops.registry import AUTO, Layers, OpContext, Operation, Param

MU_C = 0.18  # μ = MU_C·σ·‖k‖₂ (σ in [0,1] units), calibrated in bench_deblur.py
ESTIMATED_KERNEL_MU = 4.5  # a blind estimate is not exact: regularise it harder (calibrated)
LINE_KERNEL_MU = 2.5  # ... its straight-line fit less so (calibrated on camera/moon crops)
MIN_REGION = 48
SHAKE_KERNEL = 31  # px: the largest shake kernel psf=auto estimates in a region


def regularisation(noise_sigma: float, k: np.ndarray, strength: float = 1.0) -> float:
    """The hyper-Laplacian weight μ for noise σ (8-bit levels) and kernel ``k``."""
    sigma = max(float(noise_sigma), 0.3) / 255.0
    return MU_C * sigma * float(np.sqrt((np.asarray(k, np.float64) ** 2).sum())) / strength


def parse_region(text: str, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``"x,y,w,h"`` → a box clipped to the image (OperationError if malformed or too small)."""
    try:
        x, y, w, h = (round(float(v)) for v in text.split(","))
    except ValueError:
        raise OperationError(f"region must be x,y,w,h in pixels, not {text!r}") from None
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(shape[1], x + w), min(shape[0], y + h)
    if x1 - x0 < MIN_REGION or y1 - y0 < MIN_REGION:
        raise OperationError(
            f"the region for estimating the blur must be at least {MIN_REGION}×{MIN_REGION} px"
            " inside the image"
        )
    return x0, y0, x1 - x0, y1 - y0


def _mask_box(mask: np.ndarray | None) -> tuple[int, int, int, int] | None:
    if mask is None or not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def choose_psf(
    image: np.ndarray, params: Mapping[str, Any], noise: float, mask: np.ndarray | None, ctx
) -> tuple[np.ndarray | None, str, str, dict[str, Any]]:
    """(kernel or None for "no blur found", a description, "given" | "parametric" | "free" |
    "line" (a shake estimated in a region: the free kernel or its straight line),
    the estimate as explicit parameters: ``{"psf": "gaussian", "sigma": …}``, disk ``radius``,
    or for a free kernel the straight motion line with its second moments; ``{}`` for a given
    kernel or no blur)."""
    from photofix.ops.psf import disk_psf, gaussian_psf, motion_from_kernel
    from photofix.ops.psf_estimate import estimate_parametric, estimate_shake

    if params["psf"] not in (AUTO, "shake"):
        return psf_from_params(dict(params)), params["psf"], "given", {}
    box = None
    if params["region"]:
        box = parse_region(params["region"], image.shape[:2])
    elif params["psf"] == "shake":
        box = _mask_box(mask)
        if box is None:
            raise OperationError(
                "psf=shake needs region=x,y,w,h or a painted mask over a detailed, shaken area"
            )
        box = parse_region(",".join(map(str, box)), image.shape[:2])
    if box is not None:
        x, y, w, h = box
        ctx.progress.update(0.02, "Estimating the blur kernel in the region")
        part = image[y : y + h, x : x + w]

        def deconvolve(region: np.ndarray, kk: np.ndarray) -> np.ndarray:
            return deblur_image(region, kk, noise=noise, estimated=True)

        k, kind = estimate_shake(part, deconvolve, SHAKE_KERNEL, check=ctx.progress.check)
        if k is None:
            return None, f"no shake found in region {x},{y},{w},{h}", "free", {}
        length, angle = motion_from_kernel(k)
        found = {"psf": "motion", "length": round(length, 1), "angle": round(angle, 1)}
        what = (
            f"shake estimated in region {x},{y},{w},{h} as a straight line:"
            f" {length:.1f} px at {angle:.0f}°"
            if kind == "line"
            else f"kernel estimated in region {x},{y},{w},{h} ({k.shape[0]} px)"
        )
        return k, what, kind, found
    ctx.progress.update(0.02, "Estimating the blur")
    family, size, _ = estimate_parametric(image, noise / 255.0)
    if family == "none":
        return None, "no blur found", "parametric", {}
    if family == "gaussian":
        found = {"psf": "gaussian", "sigma": round(size, 2)}
        return gaussian_psf(size), f"gaussian blur, sigma={size:.2f}", "parametric", found
    found = {"psf": "disk", "radius": round(size, 1)}
    return disk_psf(size), f"defocus disk, radius={size:.1f}", "parametric", found


def estimate_psf_params(
    image: np.ndarray, params: Mapping[str, Any], mask: np.ndarray | None = None, ctx=None
) -> tuple[dict[str, Any], np.ndarray | None, str]:
    """What ``psf=auto``/``shake`` would estimate on ``image``, as explicit parameters a form
    can show and the user can change (see :func:`choose_psf`), the kernel (None: no blur
    found) and a description. A kernel estimated freely in a region is given as its straight
    motion line; the description says so."""
    ctx = ctx or OpContext()
    noise = params.get("noise", AUTO)
    if noise == AUTO:
        from photofix.ops.noise_level import estimate_noise_sigma

        noise = estimate_noise_sigma(image)
    full = {"psf": AUTO, "region": "", **params}
    k, what, source, found = choose_psf(image, full, noise, mask, ctx)
    if source == "free" and k is not None:
        what += f", shown as its straight line: {found['length']:.1f} px at {found['angle']:.0f}°"
    return found, k, what


def deblur_image(
    image: np.ndarray,
    k: np.ndarray,
    *,
    noise: float,
    strength: float = 1.0,
    method: str = "hl",
    iterations: int = deconv.RL_ITERATIONS,
    estimated: bool | str = False,
    ctx: OpContext | None = None,
) -> np.ndarray:
    """Deconvolve ``image`` (float32 HxWx3 [0,1]) by ``k``; ``noise`` σ in 8-bit levels.

    ``estimated``: True (or ``"free"``) for a blindly estimated kernel, ``"line"`` for its
    straight-line fit — each regularised harder than a known kernel, by its own factor."""
    from photofix.core.chroma import is_gray

    ctx = ctx or OpContext()
    gray = is_gray(image)
    src = image[..., :1] if gray else image
    if method == "rl":
        sigma = max(noise, 0.3) / 255.0

        def solve(frame: np.ndarray, kk: np.ndarray, valid=None) -> np.ndarray:
            return deconv.richardson_lucy(
                frame,
                kk,
                sigma,
                iterations=iterations,
                damp=2.0 / strength,
                check=ctx.progress.check,
            )
    else:
        scale = LINE_KERNEL_MU if estimated == "line" else ESTIMATED_KERNEL_MU if estimated else 1
        mu = regularisation(noise, k, strength) * scale

        def solve(frame: np.ndarray, kk: np.ndarray, valid=None) -> np.ndarray:
            return deconv.hyper_laplacian(frame, kk, mu, check=ctx.progress.check, valid=valid)

    out = deconv.deconvolve_image(
        np.ascontiguousarray(src, np.float32),
        k,
        solve,
        progress=lambda f: ctx.progress.update(0.05 + 0.95 * f, "Deblurring"),
    )
    np.clip(out, 0.0, 1.0, out=out)
    return np.repeat(out, 3, axis=2) if gray else out


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    image = layers.image
    noise = params["noise"]
    if noise == AUTO:
        from photofix.ops.noise_level import estimate_noise_sigma

        ctx.progress.update(0.0, "Measuring the noise")
        noise = estimate_noise_sigma(image)
    k, what, source, _ = choose_psf(image, params, noise, layers.mask, ctx)
    if k is None:
        where = "region" if source == "free" else "picture"
        ctx.progress.notice(f"Deblur: no blur found in the {where}; it is left unchanged")
        return layers.replace(image=image.copy())
    if k.shape[0] > max(image.shape[:2]):
        raise OperationError(
            f"the blur kernel ({k.shape[0]} px) is larger than the image"
            f" ({image.shape[1]}×{image.shape[0]})"
        )
    if source != "given":
        ctx.progress.notice(f"Deblur: {what}; noise σ = {noise:.1f}")
    out = deblur_image(
        image,
        k,
        noise=noise,
        strength=params["strength"],
        method=params["method"],
        estimated=source if source in ("free", "line") else False,
        ctx=ctx,
    )
    return layers.replace(image=out)


OPERATION = Operation(
    name="deblur",
    title="Deblur",
    summary="Undo defocus, scanner softness or camera shake (known or estimated blur).",
    params=(
        Param(
            "psf",
            "choice",
            AUTO,
            "blur: gaussian, disk (defocus), motion, kernel (file), shake (estimated"
            " in region/mask) or auto",
            choices=("gaussian", "disk", "motion", "kernel", "shake"),
            allow_auto=True,
        ),
        Param("sigma", "float", 1.5, "gaussian blur size in px", 0.2, 25.0),
        Param("radius", "float", 3.0, "defocus disk radius in px", 0.5, 40.0),
        Param("length", "float", 9.0, "motion length in px", 1.0, 120.0),
        Param("angle", "float", 0.0, "motion angle, degrees counter-clockwise", -360.0, 360.0),
        Param("kernel", "str", "", "grayscale PNG of the blur (psf=kernel)"),
        Param("region", "str", "", "x,y,w,h to estimate a shake kernel in (auto/shake)"),
        Param("strength", "float", 1.0, "deblur harder (>1, noisier) or gentler (<1)", 0.1, 10.0),
        Param(
            "noise", "float", AUTO, "noise sigma in 8-bit levels, or auto", 0, 50, allow_auto=True
        ),
        Param("method", "choice", "hl", "solver: hl (hyper-Laplacian) or rl", choices=("hl", "rl")),
    ),
    run=_run,
    reads=("mask",),  # psf=shake without a region: the painted mask's box
    version=2,  # 2: clipped highlights' pockets filled and their colour settled (deconv)
)
