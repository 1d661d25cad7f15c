"""``noise_level`` measures how noisy a photo is, and gives FFDNet the σ that denoises it best."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.ops.noise_level import estimate_noise_sigma, ffdnet_sigma


def _noisy(clean: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    n = np.random.default_rng(seed).standard_normal(clean.shape).astype(np.float32)
    return clean + n * np.float32(sigma / 255)


def _to_8bit(image: np.ndarray) -> np.ndarray:
    return (np.clip(np.round(image * 255), 0, 255) / 255).astype(np.float32)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.fixture
def smooth() -> np.ndarray:
    """A noise-free synthetic picture: gradients and soft shapes (float, not quantised)."""
    y, x = np.mgrid[0:160, 0:160].astype(np.float32) / 160
    r = 0.5 + 0.3 * np.sin(3 * x) * np.cos(2 * y)
    g = 0.2 + 0.6 * x * y
    b = 0.5 + 0.4 * np.exp(-((x - 0.5) ** 2 + (y - 0.4) ** 2) * 8) - 0.2 * y
    return np.stack([r, g, b], axis=2).astype(np.float32)


@pytest.mark.parametrize("sigma", [5, 15, 30])
def test_estimate_matches_added_noise_on_a_photo(photos, sigma):
    clean = photos["coffee"][60:220, 300:460]  # the photo carries ~1 level of its own noise
    est = estimate_noise_sigma(_noisy(clean, sigma, seed=sigma))
    assert est == pytest.approx(sigma, abs=1.0 + 0.05 * sigma)


def test_estimate_on_grayscale_images(photos):
    gray = photos["chelsea"][50:210, 150:310].mean(axis=2)
    noisy = _noisy(gray, 20)
    assert estimate_noise_sigma(noisy) == pytest.approx(20, abs=2)
    assert estimate_noise_sigma(noisy[..., None]) == pytest.approx(estimate_noise_sigma(noisy))


def test_clean_and_flat_images_have_no_noise(smooth):
    assert estimate_noise_sigma(np.full((64, 64, 3), 0.4, np.float32)) == pytest.approx(0, abs=1e-3)
    assert estimate_noise_sigma(smooth) < 0.3
    assert ffdnet_sigma(smooth) < 0.5
    assert estimate_noise_sigma(np.zeros((4, 4, 3), np.float32)) == 0.0  # smaller than a patch


def test_clipped_8bit_noise_is_still_measured(photos):
    """Clipping at black and white does not hide mid-tone noise from the estimate."""
    clean = photos["astronaut"][0:160, 0:160]  # dark sky and a white suit: lots of clipping
    noisy = _to_8bit(_noisy(clean, 25, seed=3))
    assert np.mean((noisy == 0) | (noisy == 1)) > 0.05
    assert estimate_noise_sigma(noisy) == pytest.approx(25, abs=3)


@pytest.mark.slow
def test_auto_sigma_beats_the_nominal_sigma_on_a_clipped_8bit_photo(photos):
    from photofix.inference.runner import ModelRunner
    from photofix.models import MODELS

    clean = _to_8bit(photos["coffee"][0:128, 0:128])  # dark cup and bright saucer
    noisy = _to_8bit(_noisy(clean, 50, seed=5))
    assert np.mean((noisy == 0) | (noisy == 1)) > 0.1
    runner = ModelRunner(MODELS["ffdnet-color"])
    nominal = _psnr(runner.run(noisy, sigma=50.0), clean)
    auto = _psnr(runner.run(noisy, sigma=ffdnet_sigma(noisy)), clean)
    assert auto > nominal + 0.15  # measured: 26.48 vs 26.24 dB


def _grain(clean: np.ndarray, std: float, corr: float, seed: int = 0) -> np.ndarray:
    """Film grain (white noise blurred by a Gaussian of ``corr`` px, ``std`` levels), the same in
    every channel, in an 8-bit file."""
    import cv2

    g = np.random.default_rng(seed).standard_normal(clean.shape[:2]).astype(np.float32)
    g = cv2.GaussianBlur(g, (0, 0), corr)
    g *= std / g.std()
    return _to_8bit(clean + g[..., None] / 255)


def test_grain_correlation_is_measured(photos):
    from photofix.ops.noise_level import flat_grain

    clean = photos["astronaut"][20:180, 100:260]
    white = flat_grain(_to_8bit(_noisy(clean, 8, seed=1)))
    grain = flat_grain(_grain(clean, 8, 1.0, seed=1))
    assert white[1] < 0.05 < 0.4 < grain[1]  # neighbours alike only in the grain
    assert white[0] == pytest.approx(8 * 0.67, rel=0.25)  # luminance of per-channel noise


def test_auto_sigma_sees_correlated_grain_that_chen_misses(photos):
    """Grain hides from the white-noise estimator; the auto σ grows with the grain's strength."""
    clean = photos["coffee"][100:260, 60:220]
    weak, strong = _grain(clean, 5, 0.75, seed=2), _grain(clean, 12, 0.75, seed=2)
    assert estimate_noise_sigma(strong) < 3  # the colour estimate: mono grain is invisible to it
    assert 4 < ffdnet_sigma(weak) < ffdnet_sigma(strong)
    # measured: auto 19.4 (29.1 dB); FFDNet's best fixed σ here is ~30 (30.0 dB), at σ 10 27.8
    assert 15 < ffdnet_sigma(strong) < 40


def test_white_noise_still_uses_the_white_estimate(photos):
    from photofix.ops.noise_level import white_sigma

    clean = photos["coffee"][60:220, 300:460]
    noisy = _to_8bit(_noisy(clean, 15, seed=4))
    assert ffdnet_sigma(noisy) == pytest.approx(white_sigma(noisy), rel=1e-6)


@pytest.mark.slow
def test_auto_sigma_denoises_grain_near_the_best_fixed_sigma(photos):
    from photofix.inference.runner import ModelRunner
    from photofix.models import MODELS

    clean = _to_8bit(photos["chelsea"][60:188, 40:168])
    noisy = _grain(clean, 10, 0.75, seed=6)
    runner = ModelRunner(MODELS["ffdnet-color"])
    scores = {s: _psnr(runner.run(noisy, sigma=s), clean) for s in (5, 10, 15, 20, 25, 30, 40)}
    auto = _psnr(runner.run(noisy, sigma=ffdnet_sigma(noisy)), clean)
    assert auto > max(scores.values()) - 0.5
    assert auto > _psnr(runner.run(noisy, sigma=estimate_noise_sigma(noisy)), clean) + 1.0


def test_the_estimate_does_not_depend_on_the_thread_count() -> None:
    """A recipe's ``sigma=auto`` must measure the same σ in the window, in the command line
    and in a batch worker with fewer threads: the same scan gives the same digits under
    OMP_NUM_THREADS=1 and 2 (it did not when the covariance was summed in float32)."""
    import os
    import subprocess
    import sys

    code = (
        "from photofix.core import imageio; from photofix.resources import sample_scan;"
        "from photofix.ops.noise_level import estimate_noise_sigma as e, ffdnet_sigma as f;"
        "rgb = imageio.load_image(sample_scan()).rgb[300:380, 200:296];"
        "print(repr(e(rgb)), repr(f(rgb)))"
    )
    said = [
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "OMP_NUM_THREADS": str(n), "OPENBLAS_NUM_THREADS": str(n)},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for n in (1, 2)
    ]
    assert said[0] == said[1] and said[0].strip(), said
