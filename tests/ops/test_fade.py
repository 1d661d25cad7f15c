"""``fade`` undoes dye fading on real photographs and leaves good photographs nearly alone."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import color

from photofix.ops.fade import correct_fade

# per-channel lift, gain, gamma: a magenta-red cast with lifted blacks, as cyan dye fades
MAGENTA_FADE = ((0.18, 0.10, 0.12), (0.78, 0.60, 0.62), (0.85, 1.05, 1.0))
YELLOW_FADE = ((0.12, 0.12, 0.05), (0.80, 0.75, 0.55), (1.0, 1.0, 1.1))


def _fade(image: np.ndarray, model) -> np.ndarray:
    lift, gain, gamma = (np.asarray(v, np.float32) for v in model)
    return (lift + gain * image**gamma).astype(np.float32)


def _delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(color.deltaE_ciede2000(color.rgb2lab(a), color.rgb2lab(b)).mean())


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
@pytest.mark.parametrize("model", [MAGENTA_FADE, YELLOW_FADE], ids=["magenta", "yellow"])
def test_fade_correction_brings_colours_back(photos, name: str, model) -> None:
    clean = photos[name]
    faded = _fade(clean, model)
    fixed = correct_fade(faded)
    before, after = _delta_e(clean, faded), _delta_e(clean, fixed)
    assert after < 0.45 * before, (before, after)
    assert after < 5.0


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_unfaded_photo_is_nearly_unchanged(photos, name: str) -> None:
    clean = photos[name]
    assert _delta_e(clean, correct_fade(clean)) < 2.0


def test_grey_stays_grey_and_strength_zero_is_identity(photos) -> None:
    grey = np.repeat(photos["astronaut"].mean(axis=2, keepdims=True), 3, axis=2) * 0.6 + 0.2
    fixed = correct_fade(grey, balance=True)
    assert np.array_equal(fixed[..., 0], fixed[..., 1]) and np.array_equal(
        fixed[..., 1], fixed[..., 2]
    )
    assert fixed.min() < 0.02 and fixed.max() > 0.98  # contrast restored
    assert np.abs(correct_fade(grey, strength=0.0) - grey).max() < 1e-6


def test_transparent_pixels_do_not_steer_the_correction(photos) -> None:
    image = _fade(photos["astronaut"], MAGENTA_FADE)
    alpha = np.ones(image.shape[:2], np.float32)
    polluted = image.copy()
    polluted[:, :100] = (0.0, 1.0, 0.0)  # garish colour under fully transparent pixels
    alpha[:, :100] = 0.0
    np.testing.assert_allclose(
        correct_fade(polluted, alpha)[:, 100:], correct_fade(image[:, 100:]), atol=0.02
    )
