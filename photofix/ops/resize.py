"""``resize``: change the pixel size with a proper (antialiased) Lanczos filter.

Every layer is resized with it: the image and alpha with the chosen filter, the mask and the
colour hints with nearest-neighbour so they stay crisp and valid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
from PIL import Image

from photofix.core.errors import OperationError
from photofix.ops.registry import Layers, OpContext, Operation, Param

MAX_SIDE = 65_535

_PIL_FILTERS = {
    "lanczos": Image.Resampling.LANCZOS,
    "cubic": Image.Resampling.BICUBIC,
    "linear": Image.Resampling.BILINEAR,
    "area": Image.Resampling.BOX,
    "nearest": Image.Resampling.NEAREST,
}


def target_size(width: int, height: int, params: Mapping[str, Any]) -> tuple[int, int]:
    """(new_width, new_height) from exactly one of scale / width / height / long_edge
    (width and height together give an exact size)."""
    scale, w, h, long_edge = (params.get(k) for k in ("scale", "width", "height", "long_edge"))
    given = [k for k in ("scale", "width", "height", "long_edge") if params.get(k) is not None]
    if not given:
        raise OperationError("resize needs one of scale, width, height or long_edge")
    if len(given) > 1 and set(given) != {"width", "height"}:
        raise OperationError(
            "resize takes only one of scale, width, height, long_edge (or width and height)"
        )
    if scale is not None:
        new = (round(width * scale), round(height * scale))
    elif w is not None and h is not None:
        new = (w, h)
    elif w is not None:
        new = (w, round(height * w / width))
    elif h is not None:
        new = (round(width * h / height), h)
    else:
        f = long_edge / max(width, height)
        new = (round(width * f), round(height * f))
    new = (max(new[0], 1), max(new[1], 1))
    if max(new) > MAX_SIDE:
        raise OperationError(f"resize to {new[0]}x{new[1]} px is larger than {MAX_SIDE} px a side")
    return new


def resize_image(image: np.ndarray, size: tuple[int, int], method: str = "lanczos") -> np.ndarray:
    """Resize float32 HxW or HxWxC [0,1] to ``size`` = (width, height); result clipped to [0,1].

    Uses Pillow's float resampling, whose filters widen when shrinking (no aliasing).
    """
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image.copy()
    flt = _PIL_FILTERS[method]
    channels = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    out = [
        np.asarray(Image.fromarray(np.ascontiguousarray(ch, np.float32), "F").resize(size, flt))
        for ch in channels
    ]
    result = out[0] if image.ndim == 2 else np.stack(out, axis=2)
    return np.clip(result, 0.0, 1.0).astype(np.float32, copy=False)


def _nearest(layer: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    if layer is None or layer.shape[:2] == (size[1], size[0]):
        return layer
    if layer.dtype == np.bool_:
        return cv2.resize(layer.view(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    return cv2.resize(layer, size, interpolation=cv2.INTER_NEAREST)


def with_image(layers: Layers, image: np.ndarray, alpha_method: str = "lanczos") -> Layers:
    """``layers`` with ``image`` as the new image and every other layer brought to its size:
    alpha with ``alpha_method``, mask and hints with nearest neighbour (they stay crisp and
    valid). Layers already at that size are kept as they are. The DPI in ``meta`` is scaled
    with the size, so the print size stays the same."""
    size = (image.shape[1], image.shape[0])
    meta = layers.meta
    old_h, old_w = layers.image.shape[:2]
    if meta is not None and meta.dpi and size != (old_w, old_h):
        # the same print at more (or fewer) pixels: the print size is kept
        dpi = (meta.dpi[0] * size[0] / old_w, meta.dpi[1] * size[1] / old_h)
        meta = dataclasses.replace(meta, dpi=(round(dpi[0], 4), round(dpi[1], 4)))
    alpha = layers.alpha
    if alpha is not None and alpha.shape[:2] != image.shape[:2]:
        alpha = resize_image(alpha, size, alpha_method)
    return layers.replace(
        image=image,
        meta=meta,
        alpha=alpha,
        mask=_nearest(layers.mask, size),
        hints=_nearest(layers.hints, size),
        hint_mask=_nearest(layers.hint_mask, size),
    )


def _run(layers: Layers, params: Mapping[str, Any], ctx: OpContext) -> Layers:
    h, w = layers.image.shape[:2]
    size = target_size(w, h, params)
    method = params["method"]
    ctx.progress.update(0.0, "Resizing")
    image = resize_image(layers.image, size, method)
    ctx.progress.check()
    resized = with_image(layers, image, method)
    ctx.progress.update(1.0, "Resized")
    return resized


OPERATION = Operation(
    name="resize",
    title="Resize",
    summary="Change the pixel size (Lanczos by default). Give scale, width, height or long_edge.",
    params=(
        Param("scale", "float", None, "factor, e.g. 0.5 or 2", minimum=0.001, maximum=64),
        Param("width", "int", None, "new width in pixels", minimum=1, maximum=MAX_SIDE),
        Param("height", "int", None, "new height in pixels", minimum=1, maximum=MAX_SIDE),
        Param(
            "long_edge", "int", None, "new length of the longer side", minimum=1, maximum=MAX_SIDE
        ),
        Param("method", "choice", "lanczos", "resampling filter", choices=tuple(_PIL_FILTERS)),
    ),
    run=_run,
    writes=("image", "alpha", "mask", "hints", "hint_mask"),
    blendable=False,
)
