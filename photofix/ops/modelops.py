"""Shared plumbing of the operations that run bundled models."""

from __future__ import annotations

import numpy as np

from photofix.ops.registry import Layers
from photofix.ops.resize import resize_image


def is_gray(image: np.ndarray) -> bool:
    """True when all three channels of a float32 H×W×3 image are identical."""
    return bool(np.array_equal(image[..., 0], image[..., 1])) and bool(
        np.array_equal(image[..., 1], image[..., 2])
    )


def gray_to_rgb(channel: np.ndarray) -> np.ndarray:
    """H×W or H×W×1 float32 → H×W×3 with the same value in every channel."""
    if channel.ndim == 3:
        channel = channel[..., 0]
    return np.repeat(channel[..., np.newaxis], 3, axis=2)


def resize_other_layers(layers: Layers, image: np.ndarray) -> Layers:
    """``layers`` with ``image`` as the new image and every other layer brought to its size:
    alpha with Lanczos, mask and hints with nearest neighbour (they stay crisp and valid)."""
    import cv2

    h, w = image.shape[:2]
    size = (w, h)

    def nearest(layer: np.ndarray | None) -> np.ndarray | None:
        if layer is None or layer.shape[:2] == (h, w):
            return layer
        if layer.dtype == np.bool_:
            u8 = cv2.resize(layer.view(np.uint8), size, interpolation=cv2.INTER_NEAREST)
            return u8.astype(bool)
        return cv2.resize(layer, size, interpolation=cv2.INTER_NEAREST)

    alpha = layers.alpha
    if alpha is not None and alpha.shape[:2] != (h, w):
        alpha = resize_image(alpha, size, "lanczos")
    return layers.replace(
        image=image,
        alpha=alpha,
        mask=nearest(layers.mask),
        hints=nearest(layers.hints),
        hint_mask=nearest(layers.hint_mask),
    )
