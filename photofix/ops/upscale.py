"""``upscale``: enlarge with a bundled super-resolution network.

``scale`` 2, 3 or 4, or ``long_edge`` in pixels. Each model has a native factor (Real-ESRGAN
×4, waifu2x ×2, animevideov3 ×2/×3/×4): the network runs as many times as needed to reach the
size, and a high-quality (antialiased Lanczos) downscale lands on it exactly — so ×2 and ×3
with a ×4 model are ×4 followed by a downscale. Alpha is upscaled separately with Lanczos; the
mask and colour hints follow with nearest neighbour. A grayscale picture stays grayscale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from photofix.core.chroma import is_gray
from photofix.core.errors import OperationError
from photofix.inference.runner import runner_for
from photofix.models import get_model
from photofix.models.spec import ModelSpec
from photofix.ops.modelops import gray_to_rgb
from photofix.ops.registry import Layers, OpContext, Operation, Param
from photofix.ops.resize import MAX_SIDE, resize_image, with_image

MODELS = ("realesrgan-x4plus", "realesrgan-x4plus-anime", "realesr-animevideov3", "waifu2x-photo")


def plan(model: str, factor: float) -> list[ModelSpec]:
    """The network passes that reach at least ``factor`` with the fewest pixels computed."""
    if model == "realesr-animevideov3":
        passes = []
        while factor > 4:
            passes.append(get_model(model))
            factor /= 4
        native = next(s for s in (2, 3, 4) if s >= factor - 1e-9)
        return [*passes, get_model(model if native == 4 else f"{model}-x{native}")]
    spec = get_model(model)
    count = max(1, math.ceil(math.log(factor) / math.log(spec.scale) - 1e-9))
    return [spec] * count


def _target(h: int, w: int, params: Mapping[str, Any]) -> tuple[int, int]:
    if params.get("long_edge") is not None:
        if params.get("scale") is not None:
            raise OperationError("upscale takes scale or long_edge, not both")
        f = params["long_edge"] / max(h, w)
    else:
        f = params.get("scale") or 4
    size = (max(1, round(w * f)), max(1, round(h * f)))
    if max(size) > MAX_SIDE:
        raise OperationError(f"{size[0]}×{size[1]} px is larger than {MAX_SIDE} px a side")
    return size


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    image = layers.image
    h, w = image.shape[:2]
    size = _target(h, w, params)
    factor = max(size[0] / w, size[1] / h)
    if factor <= 1.0:
        ctx.progress.notice("The target is not larger than the image: resized with Lanczos.")
        return with_image(layers, resize_image(image, size, "lanczos"))
    gray = is_gray(image)  # gray pictures run as RGB and are averaged back to gray
    passes = plan(params["model"], factor)
    ctx.facts.resolve("models", [spec.id for spec in passes])
    out = image[..., :1] if gray else image
    for i, spec in enumerate(passes):
        runner = runner_for(spec, ctx.device)
        sub = ctx.progress.sub(i / len(passes), (i + 1) / len(passes))
        sub.update(0.0, f"{spec.title}: pass {i + 1} of {len(passes)}")
        rgb = gray_to_rgb(out) if gray else out
        result = runner.run(rgb, progress=sub)
        out = result.mean(axis=2, keepdims=True, dtype=np.float32) if gray else result
    if (out.shape[1], out.shape[0]) != size:
        out = resize_image(out[..., 0] if gray else out, size, "lanczos")
        if gray:
            out = out[..., np.newaxis]
    return with_image(layers, gray_to_rgb(out) if gray else out)


OPERATION = Operation(
    name="upscale",
    title="Upscale",
    summary="Enlarge ×2/×3/×4 (or to a long edge) with a super-resolution network.",
    params=(
        Param("scale", "int", None, "enlargement factor (default 4)", minimum=2, maximum=4),
        Param("long_edge", "int", None, "target length of the longer side in px", 1, MAX_SIDE),
        Param("model", "choice", "realesrgan-x4plus", "network", choices=MODELS),
    ),
    run=_run,
    writes=("image", "alpha", "mask", "hints", "hint_mask"),
    blendable=False,
)
