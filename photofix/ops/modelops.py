"""Shared plumbing of the operations that run bundled models."""

from __future__ import annotations

import numpy as np


def gray_to_rgb(channel: np.ndarray) -> np.ndarray:
    """H×W or H×W×1 float32 → H×W×3 with the same value in every channel."""
    if channel.ndim == 3:
        channel = channel[..., 0]
    return np.repeat(channel[..., np.newaxis], 3, axis=2)
