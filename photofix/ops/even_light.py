"""``even-light``: correct uneven illumination (vignetting, a bright corner, a lamp's gradient).

The illumination is modelled as a smooth multiplicative field in the log of the luminance:
``vignette`` (light falling off from the centre, never brighter towards the corners),
``gradient`` (a plane) or ``both``. It is fitted by robust regression (Cauchy loss, IRLS) of the
model's gradient to the picture's log-luminance gradients: a picture's own gradients are sparse
(large at edges, near zero elsewhere), the shading's small and everywhere, so edges and texture
get almost no say; clipped black and white pixels are left out of the fit. (An entropy-minimising
fit after Likar et al., IEEE TMI 2001, was tried and removed the scene's own light instead:
docs/deblur.md.)

With ``fit=mask`` the light is measured only where the user painted the mask — a print's
mount or paper border, a sky, a wall that should be evenly lit — and the fitted field is
divided out everywhere: a mounted print's card is the best witness of the lamp there is short
of a blank reference.

The fit runs on a copy reduced to 256 px; the field is evaluated at full resolution and applied
equally to R, G and B (a gain, so colours and 16-bit precision are kept), scaled so that the
best-lit point keeps its value and the shaded parts are lifted. ``strength`` applies a fraction
of the correction (gain ** strength).

A fitted correction is checked against white: dividing out a true shading gives back the
unshaded picture, which fits under white, so a fit that would push more than ``CLIP_BUDGET``
of the pixels (those not already white) past white has taken the picture's own light — a
bright sky, a tarnished plate's dark corners — for shading. Only as much of it is applied as
keeps within that share (``keep_highlights``, on by default; the notice and the record say
how much).

``reference=FILE`` is flat-field correction, the archive's own way: a scan or photograph of a
blank card, an empty scanner bed or a light box without the plate, made with the same set-up,
*is* the light's shape, so nothing has to be told apart from the picture. The reference is
reduced to 256 px, cleared of its own specks (a median) and smoothed, then each channel's gain
is its brightest point over the reference there (a lamp warmer on one side is evened too).
The file's SHA-256 goes into the step record.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import scipy  # its submodules load when first used: the command line starts faster

from photofix.core.errors import OperationError
from photofix.ops.registry import Layers, OpContext, Operation, Param

FIT_SIZE = 256
# the darkest share of its brightest point a blank reference may fall to: below it the frame
# is not lit there (a mask, the scanner lid's edge) and lifting it would only amplify noise
MIN_REFERENCE = 0.1
# the largest difference of aspect ratio (relative) between a reference and the picture
ASPECT_TOLERANCE = 0.03
# fit=mask: the smallest share of the picture the painted mask must cover
MIN_FIT_SHARE = 0.02
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
# keep_highlights: the share of the picture's pixels a fitted correction may push past white
CLIP_BUDGET = 0.001
WHITE = 1 - 0.5 / 255  # a pixel this bright is white already: lifting it loses nothing
PAST_WHITE = 1 + 0.5 / 255  # pushed past white: more than half an 8-bit level over the top


def _basis(h: int, w: int, terms: tuple[str, ...]) -> np.ndarray:
    """The shading model's terms on an h×w grid, (h·w)×T: x, y (a gradient; coordinates in
    [−1, 1] along each side), r², r⁴ (a vignette about the centre, round on the picture: r is
    the distance in pixels over the half-diagonal, 1 in the corners)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x = (xs + 0.5) / w * 2 - 1
    y = (ys + 0.5) / h * 2 - 1
    # the squared distance from the centre in pixels over the half-diagonal's: a lens's or a
    # lamp's fall-off is round on the picture, not stretched to its sides (1 in the corners)
    r2 = (x * x * w * w + y * y * h * h) / float(w * w + h * h)
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


def _fit_size(h: int, w: int) -> tuple[int, int]:
    """(width, height) of the copy a fit works on: the long side at most ``FIT_SIZE``."""
    f = min(1.0, FIT_SIZE / max(h, w))
    return max(8, round(w * f)), max(8, round(h * f))


def fit_shading(
    image: np.ndarray, model: str = "vignette", where: np.ndarray | None = None
) -> np.ndarray:
    """Log-gain coefficients of the model's terms, fitted robustly to the log-luminance
    gradients (a picture's own gradients are sparse: large at edges, near zero elsewhere;
    the shading's are small and everywhere); only inside ``where`` (bool HxW) when given."""
    size = _fit_size(*image.shape[:2])
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    y = np.asarray(small, np.float32) @ LUMA
    logy = np.log(np.maximum(y, 1e-3)).astype(np.float64)
    ok = (y > 0.02) & (y < 0.98)
    if where is not None:  # the fit copy's pixels that lie wholly in the mask
        inside = cv2.resize(where.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        ok &= inside > 0.999
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


def shading_log_gain(
    image: np.ndarray, *, model: str = "vignette", where: np.ndarray | None = None
) -> np.ndarray:
    """The log of the gain (h×w float32, ≥ 0, 0 at the best-lit point) that divides the
    fitted shading out of ``image``; fitted only where ``where`` (bool HxW) is set when given,
    and evaluated everywhere."""
    img = np.asarray(image, np.float32)
    coef = fit_shading(img, model, where)
    h, w = img.shape[:2]
    log_gain = -(_basis(h, w, MODELS[model]) @ coef.astype(np.float32)).reshape(h, w)
    log_gain -= log_gain.min()  # the best-lit point keeps its value; shaded parts are lifted
    return log_gain


def clip_limit(
    image: np.ndarray, log_gain: np.ndarray, strength: float = 1.0
) -> tuple[float, float]:
    """The largest fraction (≤ ``strength``) of ``log_gain`` that pushes at most
    ``CLIP_BUDGET`` of the pixels past white (pixels already white are not counted), and the
    share of the pixels that ``strength`` itself would push past white."""
    top = np.asarray(image, np.float32).max(axis=2)
    lifted = (log_gain > 1e-6) & (top < WHITE)
    # a pixel goes past white once the fraction s of the log gain exceeds log(PAST_WHITE / top)
    at = np.log(PAST_WHITE / np.maximum(top[lifted], 1e-6)) / log_gain[lifted]
    past_white = float(np.count_nonzero(at < strength)) / top.size
    allowed = int(CLIP_BUDGET * top.size)
    if at.size <= allowed:
        return float(strength), past_white
    return float(min(strength, np.partition(at, allowed)[allowed])), past_white


def shading_gain(
    image: np.ndarray,
    *,
    model: str = "vignette",
    strength: float = 1.0,
    where: np.ndarray | None = None,
    keep_highlights: bool = True,
):
    """The gain (h×w float32, ≥ 1) that divides the fitted shading out of ``image``; fitted
    only where ``where`` (bool HxW) is set when given, and applied everywhere; limited by
    :func:`clip_limit` unless ``keep_highlights`` is false."""
    log_gain = shading_log_gain(image, model=model, where=where)
    if keep_highlights:
        strength = clip_limit(image, log_gain, strength)[0]
    return np.exp(strength * log_gain).astype(np.float32)


def even_light(image: np.ndarray, *, model: str = "vignette", strength: float = 1.0) -> np.ndarray:
    """Return ``image`` (float32 HxWx3 [0,1]) with its shading divided out."""
    img = np.asarray(image, np.float32)
    gain = shading_gain(img, model=model, strength=strength)
    return np.clip(img * gain[..., None], 0.0, 1.0).astype(np.float32)


def flat_field_gain(reference: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Per-channel gain (h×w×3 float32, ≥ 1) that evens out the light a blank ``reference``
    (float32 H×W×3) shows, at the picture's size ``shape``: its brightest point keeps its
    value. Specks and grain of the blank frame are smoothed away; raises OperationError for a
    reference of another shape or one with unlit parts."""
    h, w = shape
    rh, rw = reference.shape[:2]
    if abs((rw / rh) / (w / h) - 1) > ASPECT_TOLERANCE:
        raise OperationError(
            f"the reference is {rw}×{rh} px and the picture {w}×{h}: a flat-field reference"
            " must be made with the same framing (same shape)"
        )
    size = _fit_size(rh, rw)
    small = cv2.resize(np.asarray(reference, np.float32), size, interpolation=cv2.INTER_AREA)
    small = cv2.medianBlur(small, 5)  # dust, hair and a pen mark on the blank card
    small = cv2.GaussianBlur(small, (0, 0), max(size) / 128)
    top = small.reshape(-1, 3).max(axis=0)
    if np.any(top <= 0.02):
        raise OperationError("the reference is black: it must be a scan of a blank, lit frame")
    share = small / top
    if share.min() < MIN_REFERENCE:
        raise OperationError(
            f"the reference falls to {100 * share.min():.0f} % of its brightest point somewhere:"
            " it must be lit all over (a blank card or an empty light box)"
        )
    gain = cv2.resize(1.0 / share, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.maximum(gain, 1.0).astype(np.float32)


def _load_reference(path: str) -> np.ndarray:
    from photofix.core.errors import ImageError
    from photofix.core.imageio import load_image

    try:
        return load_image(path).rgb
    except ImageError as exc:
        raise OperationError(f"cannot use the flat-field reference: {exc}") from None


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    if params["reference"]:
        from photofix.core.provenance import file_sha256

        ctx.progress.update(0.0, "Reading the flat-field reference")
        gain = flat_field_gain(_load_reference(params["reference"]), layers.image.shape[:2])
        ctx.facts.resolve("reference_sha256", file_sha256(params["reference"]))
        gain **= params["strength"]
        ctx.progress.notice(
            f"Even light: flat field from {Path(params['reference']).name}, darkest parts"
            f" lifted by up to {100 * (float(gain.max()) - 1):.0f} %"
        )
        out = np.clip(layers.image * gain, 0.0, 1.0).astype(np.float32)
        ctx.progress.update(1.0, "Light evened with the reference")
        return layers.replace(image=out)
    where = None
    if params["fit"] == "mask":
        where = layers.mask
        if where is None or where.mean() < MIN_FIT_SHARE:
            raise OperationError(
                "fit=mask measures the light only in the painted mask: paint the parts that"
                " should be evenly lit (a mount, a sky, a wall), at least"
                f" {100 * MIN_FIT_SHARE:.0f} % of the picture"
            )
    ctx.progress.update(0.0, "Fitting the illumination")
    img = layers.image
    log_gain = shading_log_gain(img, model=params["model"], where=where)
    strength, over = params["strength"], 0.0
    if params["keep_highlights"]:
        strength, over = clip_limit(img, log_gain, strength)
    gain = np.exp(strength * log_gain).astype(np.float32)
    lift = float(gain.max())
    ctx.facts.resolve("largest_gain", round(lift, 4))
    ctx.facts.resolve("applied_strength", round(strength, 4))
    if strength < params["strength"] - 1e-4:
        full = float(np.exp(params["strength"] * float(log_gain.max())))
        ctx.progress.notice(
            f"Even light: the fitted {params['model']} shading would lift the darkest parts by"
            f" up to {100 * (full - 1):.0f} % and push {100 * over:.1f} % of the"
            " pixels past white, so the picture's own light was taken for shading: applied"
            f" {100 * strength / params['strength']:.0f} % of it (lifted by up to"
            f" {100 * (lift - 1):.0f} %). A blank reference scan, or fit=mask on a mount,"
            " measures the light itself"
        )
    elif lift < 1.005:
        ctx.progress.notice(f"Even light: no {params['model']} shading found; nothing changed")
    else:
        ctx.progress.notice(
            f"Even light: fitted {params['model']} shading, darkest parts lifted by up to"
            f" {100 * (lift - 1):.0f} % (a picture's own light can be taken for shading:"
            " lower the strength, or give a blank reference scan)"
        )
    out = np.clip(layers.image * gain[..., None], 0.0, 1.0).astype(np.float32)
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
        Param(
            "fit",
            "choice",
            "picture",
            "where the light is measured: the whole picture, or only the painted mask (a"
            " print's mount or border, a sky, a wall that should be evenly lit)",
            choices=("picture", "mask"),
        ),
        Param(
            "keep_highlights",
            "bool",
            True,
            "apply only as much of a fitted correction as pushes at most"
            f" {100 * CLIP_BUDGET:.1f} % of the pixels past white",
        ),
        Param(
            "reference",
            "str",
            "",
            "flat field: a scan of a blank card or empty light box, same set-up (model unused)",
        ),
    ),
    run=_run,
    # 2: the fit's copy is area-averaged (it was bilinear); 3: keep_highlights
    version=4,  # 4: the vignette is round on the picture (was stretched to its sides)
    reads=("mask",),  # fit=mask
    preview_whole=True,  # the light is fitted to the whole picture, not to the visible part
)
