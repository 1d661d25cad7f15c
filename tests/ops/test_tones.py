"""levels, curves, exposure, white balance, grayscale and tone."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.core import imageio
from photofix.core.errors import OperationError
from photofix.ops import REGISTRY, Layers, run_operation
from photofix.ops.tones import linear_to_srgb, parse_points, srgb_to_linear


def _run(name: str, image: np.ndarray, meta=None, **params) -> Layers:
    raw = {k: str(v) for k, v in params.items()}
    return run_operation(REGISTRY.get(name), Layers(image, meta=meta), raw)


def test_levels_maps_black_and_white_points_and_gamma() -> None:
    ramp = np.linspace(0, 1, 11, dtype=np.float32)[None, :, None].repeat(3, axis=2)
    out = _run("levels", ramp, black=0.2, white=0.8).image[0, :, 0]
    assert out[:3].tolist() == [0, 0, 0] and out[-3:].tolist() == [1, 1, 1]
    assert out[5] == pytest.approx(0.5)
    bright = _run("levels", ramp, gamma=2.0).image[0, 5, 0]
    assert bright == pytest.approx(0.5**0.5)
    red_only = _run("levels", ramp, black=0.5, channel="red").image
    assert np.array_equal(red_only[..., 1], ramp[..., 1]) and red_only[0, 5, 0] == 0
    with pytest.raises(OperationError, match="must be above black"):
        _run("levels", ramp, black=0.6, white=0.4)


def test_auto_levels_per_channel_removes_a_cast(photos) -> None:
    faded = (0.15 + 0.6 * photos["coffee"] * np.array([1.0, 0.85, 0.7], np.float32)).astype(
        np.float32
    )
    out = _run("levels", faded, auto="per-channel", clip=0.1).image
    lo, hi = np.percentile(out.reshape(-1, 3), [0.1, 99.9], axis=0)
    assert np.allclose(lo, 0, atol=0.01) and np.allclose(hi, 1, atol=0.01)
    assert np.abs(out - photos["coffee"]).mean() < np.abs(faded - photos["coffee"]).mean() / 3


def test_curves_pass_through_their_points_monotone() -> None:
    ramp = np.linspace(0, 1, 256, dtype=np.float32)[None, :, None].repeat(3, axis=2)
    out = _run("curves", ramp, points="0:0, 64:100, 255:255").image[0, :, 0]
    assert out[64] == pytest.approx(100 / 255, abs=1e-3)
    assert np.all(np.diff(out) >= 0)  # monotone: no tone reversal
    assert parse_points("0:0 0.5:0.7 1:1")[1].tolist() == pytest.approx([0.5, 0.7])
    with pytest.raises(OperationError, match="input:output pairs"):
        parse_points("0,0")


def test_exposure_doubles_linear_light() -> None:
    grey = np.full((2, 2, 3), 0.3, np.float32)
    out = _run("exposure", grey, stops=1).image
    assert srgb_to_linear(out)[0, 0, 0] == pytest.approx(2 * srgb_to_linear(grey)[0, 0, 0])


def test_white_balance_makes_the_picked_point_neutral(photos) -> None:
    image = photos["chelsea"].copy()
    image[10:30, 10:30] = 0.5  # a grey card
    cast = linear_to_srgb(srgb_to_linear(image) * np.array([1.2, 1.0, 0.75], np.float32))
    out = _run("white-balance", cast, x=20, y=20).image
    card = out[15:25, 15:25].reshape(-1, 3).mean(axis=0)
    assert np.ptp(card) < 0.005
    assert np.abs(out - image).mean() < np.abs(cast - image).mean() / 3
    with pytest.raises(OperationError, match="outside"):
        _run("white-balance", cast, x=5000, y=1)


def test_grayscale_saves_one_channel_at_16_bits(tmp_path, photos) -> None:
    src = tmp_path / "colour.png"
    meta = imageio.ImageMeta("PNG", 451, 300, "RGB", 16, False, False)
    imageio.save_image(src, photos["chelsea"], meta=meta)
    loaded = imageio.load_image(src)
    out = _run("grayscale", loaded.rgb, meta=loaded.meta)
    assert np.array_equal(out.image[..., 0], out.image[..., 2])
    imageio.save_image(tmp_path / "gray.png", out.image, meta=out.meta)
    info = imageio.read_info(tmp_path / "gray.png")
    assert info.grayscale and info.bit_depth == 16
    back = imageio.load_image(tmp_path / "gray.png").rgb
    assert np.abs(back - out.image).max() <= 1 / 65535  # within one 16-bit level


def test_tone_keeps_black_and_white_and_warms_the_midtones() -> None:
    ramp = np.linspace(0, 1, 11, dtype=np.float32)[None, :, None].repeat(3, axis=2)
    out = _run("tone", ramp, color="sepia").image[0]
    assert np.allclose(out[0], 0) and np.allclose(out[-1], 1)
    assert out[5, 0] > out[5, 1] > out[5, 2]  # red over green over blue: warm brown
