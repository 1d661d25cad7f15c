"""``jpeg-clean``: remove JPEG blocking and ringing with waifu2x's photo noise models.

waifu2x denoises while enlarging ×2; the result is brought back to the original size with an
antialiased downscale, or kept at ×2 (``keep_2x``) when the chain upscales anyway. ``level``
0–3 picks the model strength; ``auto`` reads the JPEG's own quantisation tables (see
:mod:`photofix.ops.jpeg_quality`).
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
    return found


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    level = _level(layers, params, ctx)
    image = layers.image
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
    summary="Remove JPEG blocks and ringing (waifu2x photo models), level 0-3 or auto.",
    params=(
        Param("level", "int", AUTO, "strength 0-3, or auto from the file", 0, 3, allow_auto=True),
        Param("keep_2x", "bool", False, "keep the ×2 result instead of returning to size"),
    ),
    run=_run,
)
