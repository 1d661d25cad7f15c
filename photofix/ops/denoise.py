"""``denoise``: remove grain and sensor noise with FFDNet.

``sigma`` is the noise strength in 8-bit levels (0–75); ``auto`` measures it on the image
itself (see :mod:`photofix.ops.noise_level`), which also accounts for 8-bit clipping, where the
nominal σ is the wrong input. A grayscale picture uses FFDNet's grayscale weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from photofix.core.chroma import is_gray
from photofix.inference.runner import runner_for
from photofix.models import get_model
from photofix.ops.modelops import gray_to_rgb
from photofix.ops.registry import AUTO, Layers, OpContext, Operation, Param


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    image = layers.image
    gray = is_gray(image)
    source = image[..., :1] if gray else image
    sigma = params["sigma"]
    if sigma == AUTO:
        from photofix.ops.noise_level import ffdnet_sigma

        ctx.progress.update(0.0, "Measuring the noise")
        sigma = ffdnet_sigma(source[..., 0] if gray else source)
        ctx.progress.notice(f"Estimated noise level: σ = {sigma:.1f}")
        ctx.facts.resolve("sigma", float(sigma))
    if sigma <= 0:
        return layers.replace(image=image.copy())
    model = "ffdnet-gray" if gray else params["model"]
    ctx.facts.resolve("model", model)
    runner = runner_for(get_model(model), ctx.device)
    out = runner.run(np.ascontiguousarray(source), progress=ctx.progress, sigma=float(sigma))
    return layers.replace(image=gray_to_rgb(out) if gray else out)


OPERATION = Operation(
    name="denoise",
    title="Denoise",
    summary="Remove grain and noise with FFDNet (sigma in 8-bit levels, or auto).",
    params=(
        Param("sigma", "float", AUTO, "noise strength 0-75, or auto", 0, 75, allow_auto=True),
        Param(
            "model",
            "choice",
            "ffdnet-color",
            "network (gray pictures use ffdnet-gray)",
            choices=("ffdnet-color",),
        ),
    ),
    run=_run,
)
