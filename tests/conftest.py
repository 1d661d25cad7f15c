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


def sample_scan_truth() -> np.ndarray:
    """The bundled sample scan's damage (bool H×W), rebuilt by its recipe
    (resources/samples/make_sample.py) from the photograph it degrades."""
    import importlib.util

    from skimage import data

    from photofix.resources import sample_scan

    path = sample_scan().parent / "make_sample.py"
    spec = importlib.util.spec_from_file_location("make_sample", path)
    assert spec is not None and spec.loader is not None
    make_sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sample)
    return make_sample.degrade_with_truth(data.astronaut())[1]
