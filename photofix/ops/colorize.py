"""``colorize``: colour for black-and-white photographs that never alters their tones.

Two modes, one rule: only chroma is computed; the output's BT.601 luma equals the input's
(see :mod:`photofix.core.chroma` — gray inputs keep their exact gray value as luma, colour
inputs keep their luma and get new chroma).

- ``mode=hints``: the user's painted colour hints (the GUI hint brush, or the CLI ``--hints``
  PNG, transparent = no hint) are propagated over the photograph's luma structure
  (:mod:`photofix.ops.hint_propagation`).
- ``mode=auto,model=ID``: a pretrained network (:mod:`photofix.models.zhang_colorization`)
  predicts chroma at its working size (256×256); it is upsampled guided by the full-resolution
  luma. Hints, when present, are given to the network (SIGGRAPH17 takes them as input) and also
  override its colour locally: the correction (hint − automatic colour) is propagated with a
  limited reach, and painted pixels get exactly their hint colour.

``saturation`` scales the chroma after it is solved: :func:`solve_chroma` returns a
:class:`ColorizeResult` whose :meth:`~ColorizeResult.render` applies any saturation in one
cheap pass (the GUI's slider), and the operation keeps the last solution so a rerun that only
changes ``saturation`` does not solve again.

Image contract: ``Layers.image`` float32 ``H×W×3`` in [0, 1]; hints float32 ``H×W×3`` with bool
``hint_mask``. Returns float32 ``H×W×3`` in [0, 1] of the same size; alpha is passed through.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from photofix.core.chroma import chroma, compose, luma
from photofix.core.errors import OperationError
from photofix.core.progress import Progress
from photofix.inference.runner import runner_for
from photofix.models import zhang_colorization
from photofix.models.spec import ModelSpec
from photofix.ops.hint_propagation import DEFAULT_SETTINGS, _guided_upsample, propagate_chroma
from photofix.ops.registry import Layers, OpContext, Operation, Param

MODEL_SPECS: dict[str, ModelSpec] = {s.id: s for s in zhang_colorization.SPECS}
DEFAULT_MODEL = zhang_colorization.SIGGRAPH17.id
# how far (pixels of a 512-px copy, geodesic) a hint's correction of the automatic colour reaches
CORRECTION_REACH = 24.0


@dataclass(frozen=True)
class ColorizeResult:
    """A solved colorization: the luma to keep and the chroma to apply (float32 ``H×W`` and
    ``H×W×2``). :meth:`render` is cheap (one pass), for a live saturation slider."""

    y: np.ndarray
    chroma: np.ndarray

    def render(self, saturation: float = 1.0) -> np.ndarray:
        """RGB float32 ``H×W×3`` in [0, 1] with luma ``y`` and ``saturation × chroma``."""
        return compose(self.y, self.chroma, saturation)


# ---- hints --------------------------------------------------------------------------------


def hint_chroma(hints: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Chroma (``H×W×2``) of painted hint colours (``H×W×3``), each relative to its own luma;
    computed where ``mask`` is set, zero elsewhere."""
    out = np.zeros((*mask.shape, 2), np.float32)
    painted = np.clip(np.asarray(hints, np.float32)[mask], 0.0, 1.0)
    out[mask] = chroma(painted[None])[0]
    return out


def colorize_from_hints(
    image: np.ndarray,
    hints: np.ndarray,
    hint_mask: np.ndarray,
    progress: Progress | None = None,
) -> ColorizeResult:
    """Propagate painted hints over ``image`` (float32 ``H×W×3``); see the module docstring."""
    y = luma(image)
    c = propagate_chroma(y, hint_chroma(hints, hint_mask), hint_mask, DEFAULT_SETTINGS, progress)
    return ColorizeResult(y, c)


# ---- automatic ----------------------------------------------------------------------------


def _srgb_to_l_star(y: np.ndarray) -> np.ndarray:
    """CIE L* (0..100) of gray sRGB values ``y`` (D65 white), as the networks were trained."""
    lin = np.where(y <= 0.04045, y / 12.92, ((y + 0.055) / 1.055) ** 2.4)
    f = np.where(lin > (6 / 29) ** 3, np.cbrt(lin), lin / (3 * (6 / 29) ** 2) + 4 / 29)
    return (116.0 * f - 16.0).astype(np.float32)


def _lab_to_chroma(l_star: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(luma, chroma) of the sRGB colours with L* ``l_star`` and a*b* ``ab`` (out-of-gamut
    colours clipped, as the reference does)."""
    lab = np.concatenate([l_star[..., None], ab], axis=-1).astype(np.float32)
    rgb = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0.0, 1.0)
    y = luma(rgb)
    return y, chroma(rgb, y)


def _hint_lab(hints: np.ndarray, mask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Hints at the network size: a*b* (``size×size×2``) and a {0, 1} mask (``size×size``)."""
    lab = cv2.cvtColor(np.clip(hints, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)
    m = mask.astype(np.float32)
    cover = cv2.resize(m, (size, size), interpolation=cv2.INTER_AREA)
    ab_sum = cv2.resize(lab[..., 1:] * m[..., None], (size, size), interpolation=cv2.INTER_AREA)
    hit = cover > 1e-6
    ab = np.zeros((size, size, 2), np.float32)
    ab[hit] = ab_sum[hit] / cover[hit][:, None]
    return ab, hit.astype(np.float32)


def colorize_auto(
    image: np.ndarray,
    spec: ModelSpec,
    ctx: OpContext,
    hints: np.ndarray | None = None,
    hint_mask: np.ndarray | None = None,
) -> ColorizeResult:
    """Automatic colour from ``spec``'s network, hints overriding locally (module docstring)."""
    progress = ctx.progress
    size = int(spec.extra["work_size"])
    y = luma(image)
    have_hints = hint_mask is not None and hints is not None and bool(hint_mask.any())
    progress.update(0.02, f"Loading {spec.title}")
    runner = runner_for(spec, ctx.device)
    runner.net()  # load (or say how to install) before the work starts
    progress.check()

    y_small = cv2.resize(y, (size, size), interpolation=cv2.INTER_AREA)
    l_small = _srgb_to_l_star(y_small)
    stack = [l_small[..., None]]
    if spec.extra["hints"]:
        if have_hints:
            ab, m = _hint_lab(hints, hint_mask, size)
        else:
            ab, m = np.zeros((size, size, 2), np.float32), np.zeros((size, size), np.float32)
        stack += [ab, m[..., None]]
    packed = np.concatenate(stack, axis=-1).astype(np.float32)
    # the runner (a fixed-size model: one pass at the working size) through the one tiler
    ab = runner.run(packed, progress=progress.sub(0.05, 0.6))
    y_net, c_net = _lab_to_chroma(l_small, ab)
    progress.check()
    c = _guided_upsample(y_net, c_net, y, DEFAULT_SETTINGS.guide_radius, 1e-3)
    progress.update(0.7, "Applying hints" if have_hints else "Colour predicted")
    if have_hints:
        assert hints is not None and hint_mask is not None
        target = hint_chroma(hints, hint_mask)
        correction = np.where(hint_mask[..., None], target - c, 0.0).astype(np.float32)
        local = replace(DEFAULT_SETTINGS, smooth=0.0)
        c = c + propagate_chroma(
            y, correction, hint_mask, local, progress.sub(0.7, 1.0), reach=CORRECTION_REACH
        )
        c[hint_mask] = target[hint_mask]
    progress.update(1.0, "Colorized")
    return ColorizeResult(y, c.astype(np.float32))


# ---- the operation --------------------------------------------------------------------------


def solve_chroma(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> ColorizeResult:
    """Solve the colorization of ``layers`` for ``params`` (mode, model); saturation is not
    applied here — call :meth:`ColorizeResult.render`."""
    mode = params.get("mode", "hints")
    has_hints = layers.hint_mask is not None and layers.hints is not None and layers.hint_mask.any()
    if mode == "hints":
        if not has_hints:
            raise OperationError(
                "Colorize with hints needs colour hints: paint some with the hint brush (or give"
                " --hints FILE.png), or choose mode=auto."
            )
        return colorize_from_hints(layers.image, layers.hints, layers.hint_mask, ctx.progress)
    model_id = params.get("model") or DEFAULT_MODEL
    spec = MODEL_SPECS.get(model_id)
    if spec is None:
        raise OperationError(f"unknown colorization model {model_id!r}; available: "
                             f"{', '.join(MODEL_SPECS)}")  # fmt: skip
    return colorize_auto(
        layers.image, spec, ctx, layers.hints if has_hints else None,
        layers.hint_mask if has_hints else None,
    )  # fmt: skip


class _LastSolution:
    """The last solved chroma and a digest of what it was solved from (one entry)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: bytes | None = None
        self._result: ColorizeResult | None = None

    @staticmethod
    def key(layers: Layers, params: Mapping[str, Any]) -> bytes:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(repr((params.get("mode"), params.get("model"))).encode())
        for array in (layers.image, layers.hints, layers.hint_mask):
            if array is not None:
                digest.update(repr(array.shape).encode())
                digest.update(np.ascontiguousarray(array).data)
        return digest.digest()

    def get(self, key: bytes) -> ColorizeResult | None:
        with self._lock:
            return self._result if key == self._key else None

    def put(self, key: bytes, result: ColorizeResult) -> None:
        with self._lock:
            self._key, self._result = key, result

    def clear(self) -> None:
        with self._lock:
            self._key, self._result = None, None


LAST_SOLUTION = _LastSolution()


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    key = LAST_SOLUTION.key(layers, params)
    result = LAST_SOLUTION.get(key)
    if result is None:
        result = solve_chroma(layers, params, ctx)
        LAST_SOLUTION.put(key, result)
    else:
        ctx.progress.notice("Reused the colour solved last time; only the saturation changed.")
    ctx.progress.update(1.0, "Colorized")
    return layers.replace(image=result.render(params["saturation"]))


OPERATION = Operation(
    name="colorize",
    title="Colorize",
    summary="Add colour to a black-and-white photo from painted hints or automatically; the"
    " photo's tones are kept exactly.",
    params=(
        Param(
            "mode",
            "choice",
            "hints",
            "hints: spread painted colours; auto: a network",
            choices=("hints", "auto"),
        ),
        Param(
            "model",
            "choice",
            DEFAULT_MODEL,
            "network for mode=auto (downloaded on demand)",
            choices=tuple(MODEL_SPECS),
        ),
        Param("saturation", "float", 1.0, "colour strength (0 = gray, 1 = as solved)", 0.0, 2.0),
    ),
    run=_run,
    reads=("hints", "hint_mask"),
    preview_whole=True,  # every hint colours the whole picture, seen or not
)
