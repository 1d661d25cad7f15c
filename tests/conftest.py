"""Shared fixtures. Qt runs offscreen: set before anything imports Qt."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """Natural photographs (float32 HxWx3 [0,1]) from scikit-image's bundled data."""
    from skimage import data

    return {
        name: getattr(data, name)().astype(np.float32) / 255.0
        for name in ("astronaut", "coffee", "chelsea")
    }


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
