"""``jpeg_quality`` reads how hard a JPEG was compressed and picks the waifu2x clean-up level."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofix.ops.jpeg_quality import (
    LEVEL_THRESHOLDS,
    estimate_jpeg_quality,
    jpeg_noise_level,
    level_for_quality,
)


def _save(photo: np.ndarray, path: Path, **kwargs) -> Path:
    Image.fromarray(np.round(photo * 255).astype(np.uint8)).save(path, **kwargs)
    return path


@pytest.fixture
def crop(photos) -> np.ndarray:
    return photos["coffee"][100:196, 200:296]


@pytest.mark.parametrize("quality", [30, 75, 95])
def test_quality_of_a_pillow_jpeg_is_recovered(crop, tmp_path, quality):
    path = _save(crop, tmp_path / "x.jpg", quality=quality)
    assert abs(estimate_jpeg_quality(path) - quality) <= 3


@pytest.mark.parametrize("quality", [12, 45, 88])
def test_quality_of_grayscale_and_unsubsampled_jpegs(crop, tmp_path, quality):
    gray = _save(crop.mean(axis=2), tmp_path / "g.jpg", quality=quality)  # one (luma) table
    full = _save(crop, tmp_path / "f.jpg", quality=quality, subsampling=0)
    assert abs(estimate_jpeg_quality(gray) - quality) <= 3
    assert abs(estimate_jpeg_quality(full) - quality) <= 3


def test_level_falls_as_quality_rises():
    levels = [level_for_quality(q) for q in range(1, 101)]
    assert all(a >= b for a, b in itertools.pairwise(levels))
    assert levels[0] == 3 and levels[-1] == 0
    assert set(levels) <= {0, 1, 2, 3}
    assert list(LEVEL_THRESHOLDS) == sorted(LEVEL_THRESHOLDS, reverse=True)


def test_heavy_compression_gets_a_stronger_level_than_light(crop, tmp_path):
    heavy = jpeg_noise_level(_save(crop, tmp_path / "h.jpg", quality=25))
    light = jpeg_noise_level(_save(crop, tmp_path / "l.jpg", quality=95))
    assert heavy > light


def test_not_a_jpeg_gives_none(crop, tmp_path):
    assert jpeg_noise_level(_save(crop, tmp_path / "x.png")) is None
    assert estimate_jpeg_quality(_save(crop, tmp_path / "x.tif")) is None


@pytest.mark.slow
def test_auto_level_cleans_a_low_quality_jpeg(crop, tmp_path):
    """waifu2x at the chosen level, ×2 then back down, is clearly nearer the original."""
    from photofix.inference.runner import ModelRunner
    from photofix.models import MODELS
    from photofix.ops.resize import resize_image

    path = _save(crop, tmp_path / "x.jpg", quality=30)
    clean = np.round(crop * 255) / 255
    with Image.open(path) as im:
        jpg = np.asarray(im, dtype=np.float32) / 255
    level = jpeg_noise_level(path)
    up = ModelRunner(MODELS[f"waifu2x-photo-noise{level}"]).run(jpg)
    out = resize_image(up, (jpg.shape[1], jpg.shape[0]), "area")

    def psnr(a, b):
        return 10 * np.log10(1 / np.mean((a.astype(np.float64) - b) ** 2))

    assert psnr(out, clean) > psnr(jpg, clean) + 1.0
