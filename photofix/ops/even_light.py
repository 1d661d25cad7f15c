"""``even-light``: correct uneven illumination (vignetting, a bright corner, a lamp's gradient).

The illumination is modelled as a smooth multiplicative field in the log of the luminance:
``vignette`` (light falling off from the centre, never brighter towards the corners),
``gradient`` (a plane) or ``both``. It is fitted by robust regression (Cauchy loss, IRLS) of the
model's gradient to the picture's log-luminance gradients: a picture's own gradients are sparse
(large at edges, near zero elsewhere), the shading's small and everywhere, so edges and texture
get almost no say; clipped black and white pixels are left out of the fit. (An entropy-minimising
fit after Likar et al., IEEE TMI 2001, was tried and removed the scene's own light instead:
docs/deblur.md.)

The fit runs on a copy reduced to 256 px; the field is evaluated at full resolution and applied
equally to R, G and B (a gain, so colours and 16-bit precision are kept), scaled so that the
best-lit point keeps its value and the shaded parts are lifted. ``strength`` applies a fraction
of the correction (gain ** strength).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import scipy  # its submodules load when first used: the command line starts faster

from photofix.ops.registry import Layers, OpContext, Operation, Param

FIT_SIZE = 256
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


def _basis(h: int, w: int, terms: tuple[str, ...]) -> np.ndarray:
    """The shading model's terms on an h×w grid, (h·w)×T: x, y (a gradient), r², r⁴ (a
    vignette about the centre); coordinates in [−1, 1] along each side."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x = (xs + 0.5) / w * 2 - 1
    y = (ys + 0.5) / h * 2 - 1
    r2 = (x * x + y * y) / 2.0
    # the vignette as u·(r² − r⁴/2) + v·r⁴/2: with u, v ≤ 0 the light falls off monotonically
    # from the centre (never brighter towards the corners), which a picture's own content
    # often is but lens and lamp fall-off never are
    table = {"x": x, "y": y, "r2": r2 - r2 * r2 / 2, "r4": r2 * r2 / 2}
    return np.stack([table[t].ravel() for t in terms], axis=1)


MODELS = {
    "both": ("x", "y", "r2", "r4"),
    "vignette": ("r2", "r4"),
    "gradient": ("x", "y"),
}


def fit_shading(image: np.ndarray, model: str = "vignette") -> np.ndarray:
    """Log-gain coefficients of the model's terms, fitted robustly to the log-luminance
    gradients (a picture's own gradients are sparse: large at edges, near zero elsewhere;
    the shading's are small and everywhere)."""
    h, w = image.shape[:2]
    f = min(1.0, FIT_SIZE / max(h, w))
    small = cv2.resize(image, (max(8, round(w * f)), max(8, round(h * f))), cv2.INTER_AREA)
    y = np.asarray(small, np.float32) @ LUMA
    logy = np.log(np.maximum(y, 1e-3)).astype(np.float64)
    ok = (y > 0.02) & (y < 0.98)
    sh, sw = logy.shape
    basis = _basis(sh, sw, MODELS[model]).astype(np.float64).reshape(sh, sw, -1)
    gx, gy = np.diff(logy, axis=1), np.diff(logy, axis=0)
    bx, by = np.diff(basis, axis=1), np.diff(basis, axis=0)
    okx, oky = ok[:, 1:] & ok[:, :-1], ok[1:, :] & ok[:-1, :]
    a = np.concatenate([bx[okx], by[oky]])
    b = np.concatenate([gx[okx], gy[oky]])
    coef = np.zeros(a.shape[1])
    radial = np.array([t in ("r2", "r4") for t in MODELS[model]])
    lower = np.full(a.shape[1], -np.inf)
    upper = np.where(radial, 0.0, np.inf)
    scale = max(float(np.median(np.abs(b))), 1e-4)
    for _ in range(30):  # IRLS for a Cauchy loss: edges get almost no weight
        r = b - a @ coef
        wgt = 1.0 / (1.0 + (r / scale) ** 2)
        sw_ = np.sqrt(wgt)
        coef = scipy.optimize.lsq_linear(a * sw_[:, None], b * sw_, bounds=(lower, upper)).x
    return coef


def even_light(image: np.ndarray, *, model: str = "vignette", strength: float = 1.0) -> np.ndarray:
    """Return ``image`` (float32 HxWx3 [0,1]) with its shading divided out."""
    img = np.asarray(image, np.float32)
    coef = fit_shading(img, model)
    h, w = img.shape[:2]
    log_gain = -(_basis(h, w, MODELS[model]) @ coef.astype(np.float32)).reshape(h, w)
    log_gain -= log_gain.min()  # the best-lit point keeps its value; shaded parts are lifted
    gain = np.exp(strength * log_gain).astype(np.float32)
    return np.clip(img * gain[..., None], 0.0, 1.0).astype(np.float32)


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    ctx.progress.update(0.0, "Fitting the illumination")
    out = even_light(layers.image, model=params["model"], strength=params["strength"])
    ctx.progress.update(1.0, "Light evened")
    return layers.replace(image=out)


OPERATION = Operation(
    name="even-light",
    title="Even out light",
    summary="Remove vignetting and uneven illumination, keeping tones and detail.",
    params=(
        Param("strength", "float", 1.0, "how much of the correction to apply", 0.0, 1.0),
        Param(
            "model",
            "choice",
            "vignette",
            "shading to remove: vignette, gradient or both",
            choices=tuple(MODELS),
        ),
    ),
    run=_run,
)
