"""upscale / denoise / jpeg-clean as the user runs them: sizes, layers, gray, quality."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.core.errors import OperationError
from photofix.ops import REGISTRY, Layers, run_operation
from photofix.ops.resize import resize_image
from photofix.ops.upscale import plan


@pytest.fixture(autouse=True)
def _weights_cache(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("PHOTOFIX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def test_plan_picks_native_factors() -> None:
    assert [s.id for s in plan("realesrgan-x4plus", 2)] == ["realesrgan-x4plus"]
    assert [s.id for s in plan("waifu2x-photo", 3)] == ["waifu2x-photo", "waifu2x-photo"]
    assert [s.id for s in plan("realesr-animevideov3", 3)] == ["realesr-animevideov3-x3"]
    assert [s.id for s in plan("realesr-animevideov3", 6)] == [
        "realesr-animevideov3",
        "realesr-animevideov3-x2",
    ]


def test_upscale_x3_sizes_every_layer_and_beats_lanczos(photos) -> None:
    clean = photos["coffee"][100:196, 200:296]
    small = resize_image(clean, (32, 32), "area")
    mask = np.zeros((32, 32), bool)
    mask[4:8, 4:8] = True
    alpha = np.ones((32, 32), np.float32)
    out = run_operation(
        REGISTRY.get("upscale"),
        Layers(small, alpha=alpha, mask=mask),
        {"scale": "3", "model": "waifu2x-photo"},
    )
    assert out.image.shape == (96, 96, 3) and out.alpha.shape == (96, 96)
    assert out.mask.shape == (96, 96) and out.mask.sum() == 9 * mask.sum()
    lanczos = resize_image(small, (96, 96), "lanczos")
    # waifu2x photo (×2 twice, then an antialiased ×0.75): measured 33.8 dB against 31.8
    assert psnr(out.image, clean) > psnr(lanczos, clean) + 1.0


def test_upscale_to_long_edge_keeps_gray_gray(photos) -> None:
    gray = np.repeat(photos["astronaut"][:40, :50].mean(axis=2, keepdims=True), 3, axis=2)
    out = run_operation(
        REGISTRY.get("upscale"), Layers(gray), {"long_edge": "130", "model": "waifu2x-photo"}
    )
    assert out.image.shape == (104, 130, 3)
    assert np.array_equal(out.image[..., 0], out.image[..., 2])


def test_upscale_rejects_scale_with_long_edge() -> None:
    with pytest.raises(OperationError, match="not both"):
        run_operation(
            REGISTRY.get("upscale"),
            Layers(np.zeros((8, 8, 3), np.float32)),
            {"scale": "2", "long_edge": "40"},
        )


def test_denoise_removes_noise_and_gray_uses_gray_weights(photos, rng) -> None:
    clean = photos["chelsea"][:96, :128]
    noisy = np.clip(clean + rng.normal(0, 25 / 255, clean.shape), 0, 1).astype(np.float32)
    out = run_operation(REGISTRY.get("denoise"), Layers(noisy), {"sigma": "25"}).image
    assert psnr(out, clean) > psnr(noisy, clean) + 6
    gray_clean = np.repeat(clean.mean(axis=2, keepdims=True), 3, axis=2)
    g = np.clip(gray_clean + rng.normal(0, 25 / 255, (96, 128, 1)), 0, 1).astype(np.float32)
    gray_noisy = np.repeat(g[..., :1], 3, axis=2)
    gout = run_operation(REGISTRY.get("denoise"), Layers(gray_noisy), {"sigma": "25"}).image
    assert np.array_equal(gout[..., 0], gout[..., 1])
    assert psnr(gout, gray_clean) > psnr(gray_noisy, gray_clean) + 6


def test_jpeg_clean_fixed_level_improves_a_jpeg(photos, tmp_path) -> None:
    from PIL import Image

    clean = photos["coffee"][:128, :128]
    path = tmp_path / "q25.jpg"
    Image.fromarray((clean * 255 + 0.5).astype(np.uint8)).save(path, quality=25)
    jpeg = np.asarray(Image.open(path), np.float32) / 255
    out = run_operation(REGISTRY.get("jpeg-clean"), Layers(jpeg, source=path), {"level": "3"})
    assert out.image.shape == jpeg.shape
    assert psnr(out.image, clean) > psnr(jpeg, clean) + 0.5
    kept = run_operation(
        REGISTRY.get("jpeg-clean"), Layers(jpeg), {"level": "1", "keep_2x": "true"}
    ).image
    assert kept.shape == (256, 256, 3)
