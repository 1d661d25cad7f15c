"""``jpeg-clean``: remove JPEG blocking and ringing.

``model=waifu2x-photo`` (bundled, the default): waifu2x's photo noise models denoise while
enlarging ×2; the result is brought back to the original size with an antialiased downscale,
or kept at ×2 (``keep_2x``) when the chain upscales anyway. ``level`` 0–3 picks the model
strength; ``auto`` reads the JPEG's own quantisation tables (see
:mod:`photofix.ops.jpeg_quality`).

``model=fbcnn-color`` (downloaded on demand, :mod:`photofix.models.fbcnn`): a network trained
for JPEG artefacts at every quality, steered by the compression quality: ``level=auto`` reads
it from the file (or, for a picture that is not a JPEG file, lets the network estimate it once
for the whole picture); a fixed level stands for a quality (0: 80, 1: 60, 2: 40, 3: 20).
``keep_2x`` does not apply (FBCNN keeps the size).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from photofix.core.chroma import is_gray
from photofix.core.errors import OperationError
from photofix.inference.runner import runner_for
from photofix.models import get_model
from photofix.ops.modelops import gray_to_rgb
from photofix.ops.registry import AUTO, Layers, OpContext, Operation, Param
from photofix.ops.resize import resize_image, with_image

DOWNSCALE = "area"
MODELS = ("waifu2x-photo", "fbcnn-color")
LEVEL_QUALITY = {0: 80, 1: 60, 2: 40, 3: 20}
"""The JPEG quality FBCNN is told for a fixed level (lower quality: stronger clean-up)."""


def _level(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> int:
    level = params["level"]
    if level != AUTO:
        return int(level)
    from photofix.ops.jpeg_quality import jpeg_noise_level

    found = None if layers.source is None else jpeg_noise_level(layers.source)
    if found is None:
        raise OperationError(
            "jpeg-clean level=auto reads the compression settings of a JPEG file, and this"
            " image did not come from one; choose a level from 0 (light) to 3 (strong)"
        )
    ctx.progress.notice(f"JPEG compression read from the file: level {found}")
    ctx.facts.resolve("level", found)
    return found


def _fbcnn_quality(layers: Layers, params: Mapping[str, Any], ctx: OpContext, runner) -> float:
    if params["level"] != AUTO:
        return float(LEVEL_QUALITY[int(params["level"])])
    from photofix.ops.jpeg_quality import estimate_jpeg_quality

    quality = None if layers.source is None else estimate_jpeg_quality(layers.source)
    if quality is not None:
        ctx.progress.notice(f"JPEG quality read from the file: {quality}")
        ctx.facts.resolve("quality", float(quality))
        return float(quality)
    from photofix.models.fbcnn import predict_quality

    found = predict_quality(runner, layers.image)
    ctx.progress.notice(f"Not a JPEG file: compression estimated by FBCNN as quality {found:.0f}")
    ctx.facts.resolve("quality", float(found))
    return found


def _run_fbcnn(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    image = layers.image
    runner = runner_for(get_model("fbcnn-color"), ctx.device)
    runner.net()  # load (or say how to install) before anything is reported
    quality = _fbcnn_quality(layers, params, ctx, runner)
    out = runner.run(image, progress=ctx.progress, quality=quality)
    if is_gray(image):
        out = gray_to_rgb(out.mean(axis=2, dtype=np.float32))
    return layers.replace(image=out)


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    if params.get("model", MODELS[0]) == "fbcnn-color":
        return _run_fbcnn(layers, params, ctx)
    level = _level(layers, params, ctx)
    image = layers.image
    ctx.facts.resolve("model", f"waifu2x-photo-noise{level}")
    runner = runner_for(get_model(f"waifu2x-photo-noise{level}"), ctx.device)
    out = runner.run(image, progress=ctx.progress)
    if is_gray(image):
        out = gray_to_rgb(out.mean(axis=2, dtype=np.float32))
    if params["keep_2x"]:
        return with_image(layers, out)
    h, w = image.shape[:2]
    return layers.replace(image=resize_image(out, (w, h), DOWNSCALE))


OPERATION = Operation(
    name="jpeg-clean",
    title="Clean JPEG artefacts",
    summary="Remove JPEG blocks and ringing (waifu2x photo models, or FBCNN), level 0-3 or auto.",
    params=(
        Param("level", "int", AUTO, "strength 0-3, or auto from the file", 0, 3, allow_auto=True),
        Param("keep_2x", "bool", False, "keep the ×2 result instead of returning to size"),
        Param(
            "model",
            "choice",
            MODELS[0],
            "network (fbcnn-color is downloaded on demand)",
            choices=MODELS,
        ),
    ),
    run=_run,
)
