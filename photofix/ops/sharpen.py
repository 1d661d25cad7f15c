"""``sharpen``: gentle capture sharpening for a scanner's or lens's softness.

Unsharp masking of the luminance only (colours are not shifted: the same change is added to
R, G and B), with the three safeguards capture sharpening needs:

* automatic ``radius``: the softness is measured on the picture (the Gaussian σ that
  :func:`photofix.ops.psf_estimate.estimate_parametric` fits to its spectrum, clamped to
  0.5–2 px), so a sharp scan is barely touched and a soft one gets a matching radius;
* noise suppression: detail smaller than ``threshold`` × the measured noise σ is left alone
  (soft-thresholded), so grain is not sharpened;
* halo suppression: the result may overshoot the local 3×3 range of the original luminance by
  at most ``halo`` × that range, which stops the bright and dark rims of plain unsharp masking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from photofix.ops.registry import AUTO, Layers, OpContext, Operation, Param

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
RADIUS_RANGE = (0.5, 2.0)


def auto_radius(image: np.ndarray, noise: float) -> float:
    """The Gaussian σ (px) of the picture's softness, clamped to :data:`RADIUS_RANGE`."""
    from photofix.ops.psf_estimate import estimate_parametric

    family, size, _ = estimate_parametric(image, noise / 255.0)
    sigma = size if family == "gaussian" else size / 2.0 if family == "disk" else 0.5
    return float(np.clip(sigma, *RADIUS_RANGE))


def sharpen_image(
    image: np.ndarray,
    *,
    amount: float = 1.0,
    radius: float = 1.0,
    noise: float = 0.0,
    threshold: float = 2.0,
    halo: float = 0.1,
) -> np.ndarray:
    """Sharpen ``image`` (float32 HxWx3 [0,1]); ``noise`` σ in 8-bit levels."""
    img = np.asarray(image, np.float32)
    y = img @ LUMA
    detail = y - cv2.GaussianBlur(y, (0, 0), radius, borderType=cv2.BORDER_REFLECT)
    t = threshold * noise / 255.0
    if t > 0:
        detail = np.sign(detail) * np.maximum(np.abs(detail) - t, 0.0)
    sharp = y + amount * detail
    if halo < 10:
        k = np.ones((3, 3), np.uint8)
        lo = cv2.erode(y, k, borderType=cv2.BORDER_REFLECT)
        hi = cv2.dilate(y, k, borderType=cv2.BORDER_REFLECT)
        slack = halo * (hi - lo)
        sharp = np.clip(sharp, lo - slack, hi + slack)
    out = img + (sharp - y)[..., None]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    from photofix.ops.noise_level import estimate_noise_sigma

    ctx.progress.update(0.0, "Measuring noise and softness")
    noise = estimate_noise_sigma(layers.image)
    radius = params["radius"]
    if radius == AUTO:
        radius = auto_radius(layers.image, noise)
        ctx.progress.notice(f"Sharpen: radius {radius:.2f} px, noise σ = {noise:.1f}")
    out = sharpen_image(
        layers.image,
        amount=params["amount"],
        radius=radius,
        noise=noise,
        threshold=params["threshold"],
        halo=params["halo"],
    )
    ctx.progress.update(1.0, "Sharpened")
    return layers.replace(image=out)


OPERATION = Operation(
    name="sharpen",
    title="Sharpen",
    summary="Capture sharpening for soft scans, without halos or sharpened grain.",
    params=(
        Param("amount", "float", 1.0, "how strongly to sharpen", 0.0, 5.0),
        Param("radius", "float", AUTO, "detail size in px, or auto", 0.3, 5.0, allow_auto=True),
        Param("threshold", "float", 2.0, "leave detail below this many noise sigmas", 0.0, 10.0),
        Param("halo", "float", 0.1, "allowed overshoot past the local range", 0.0, 1.0),
    ),
    run=_run,
)
