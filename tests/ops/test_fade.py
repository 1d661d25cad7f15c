"""``fade`` undoes dye fading on real photographs and leaves good photographs nearly alone."""

from __future__ import annotations

import cv2
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


def _add_dust_and_scratches(image: np.ndarray, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """White and black specks (up to 6 px) and thin scratches, as on a damaged print;
    returns the damaged image and where the damage is."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    h, w = out.shape[:2]
    for _ in range(150):
        v = 1.0 if rng.random() < 0.6 else 0.0
        cv2.circle(
            out,
            (int(rng.integers(w)), int(rng.integers(h))),
            int(rng.integers(1, 4)),
            (v, v, v),
            -1,
        )
    for _ in range(6):
        pts = rng.integers(0, [w, h], size=(2, 2))
        cv2.line(out, tuple(map(int, pts[0])), tuple(map(int, pts[1])), (1.0, 1.0, 1.0), 2)
    return out, np.any(out != image, axis=2)


def _delta_e(a: np.ndarray, b: np.ndarray, where: np.ndarray | None = None) -> float:
    de = color.deltaE_ciede2000(color.rgb2lab(a), color.rgb2lab(b))
    return float(de.mean() if where is None else de[where].mean())


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
@pytest.mark.parametrize("model", [MAGENTA_FADE, YELLOW_FADE], ids=["magenta", "yellow"])
@pytest.mark.parametrize("damaged", [False, True], ids=["clean-print", "dusty-print"])
def test_fade_correction_brings_colours_back(photos, name: str, model, damaged: bool) -> None:
    clean = photos[name]
    faded = _fade(clean, model)
    intact = np.ones(clean.shape[:2], bool)
    if damaged:
        faded, defects = _add_dust_and_scratches(faded)
        intact = ~defects
    fixed = correct_fade(faded)
    before, after = _delta_e(clean, faded, intact), _delta_e(clean, fixed, intact)
    assert after < 0.45 * before, (before, after)
    assert after < (7.0 if damaged else 5.0)  # measured: at most 6.0 dusty, 4.1 clean


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_unfaded_photo_is_nearly_unchanged(photos, name: str) -> None:
    clean = photos[name]
    assert _delta_e(clean, correct_fade(clean)) < 3.0  # measured: 0.1 astronaut, 2.4 coffee


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
