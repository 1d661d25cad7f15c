"""crop, rotate (and flips), straighten: exact where they can be, every layer follows, and
16-bit samples, the ICC profile and DPI survive a save."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageCms

from photofix.core import imageio
from photofix.core.errors import OperationError
from photofix.ops import REGISTRY, Layers, run_operation
from photofix.ops.geometry import largest_upright_rect, line_angle, ratio_box


def _layers(rng: np.random.Generator, h: int = 40, w: int = 60) -> Layers:
    image = rng.random((h, w, 3), dtype=np.float32)
    mask = rng.random((h, w)) > 0.7
    alpha = rng.random((h, w), dtype=np.float32)
    return Layers(image, alpha=alpha, mask=mask)


def _run(name: str, layers: Layers, **params) -> Layers:
    return run_operation(REGISTRY.get(name), layers, {k: str(v) for k, v in params.items()})


@pytest.mark.parametrize(("angle", "k"), [(90, 1), (180, 2), (270, 3), (-90, 3), (360, 0)])
def test_quarter_turns_are_numpy_rotations_bit_for_bit(rng, angle: int, k: int) -> None:
    layers = _layers(rng)
    out = _run("rotate", layers, angle=angle)
    assert np.array_equal(out.image, np.rot90(layers.image, k))
    assert np.array_equal(out.alpha, np.rot90(layers.alpha, k))
    assert np.array_equal(out.mask, np.rot90(layers.mask, k))
    assert out.image.flags.c_contiguous


def test_flips(rng) -> None:
    layers = _layers(rng)
    h = _run("rotate", layers, angle=0, flip="horizontal")
    v = _run("rotate", layers, angle=0, flip="vertical")
    assert np.array_equal(h.image, layers.image[:, ::-1])
    assert np.array_equal(v.mask, layers.mask[::-1])


def _sixteen_bit_file(tmp_path, rng):
    values = rng.integers(0, 65536, (30, 50, 3), dtype=np.uint16)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = tmp_path / "scan.png"
    meta = imageio.ImageMeta("PNG", 50, 30, "RGB", 16, False, False, icc_profile=icc,
                             dpi=(600.0, 300.0))  # fmt: skip
    imageio.save_image(src, values / np.float32(65535), meta=meta)
    return src, values, icc


@pytest.mark.parametrize(
    ("op", "params", "expect", "dpi"),
    [
        ("crop", {"left": 5, "top": 3, "width": 20, "height": 10},
         lambda v: v[3:13, 5:25], (600.0, 300.0)),
        ("rotate", {"angle": 90}, lambda v: np.rot90(v), (300.0, 600.0)),
        ("rotate", {"angle": 180, "flip": "horizontal"}, lambda v: v[::-1], (600.0, 300.0)),
    ],
)  # fmt: skip
def test_crop_and_rotate_keep_16_bit_icc_and_dpi(tmp_path, rng, op, params, expect, dpi) -> None:
    src, values, icc = _sixteen_bit_file(tmp_path, rng)
    loaded = imageio.load_image(src)
    out = _run(op, Layers(loaded.rgb, meta=loaded.meta), **params)
    target = tmp_path / "out.png"
    imageio.save_image(target, out.image, meta=out.meta)
    back = imageio.load_image(target)
    assert back.meta.bit_depth == 16 and back.meta.icc_profile == icc
    assert back.meta.dpi == pytest.approx(dpi)
    assert np.array_equal(imageio.to_uint16(back.rgb), expect(values))


def test_crop_checks_the_box_and_applies_ratio(rng) -> None:
    layers = _layers(rng)
    with pytest.raises(OperationError, match="goes past the edge"):
        _run("crop", layers, left=50, width=20)
    with pytest.raises(OperationError, match="outside"):
        _run("crop", layers, top=40)
    out = _run("crop", layers, ratio="1:1")
    assert out.image.shape == (40, 40, 3)
    assert np.array_equal(out.image, layers.image[:, 10:50])
    assert ratio_box((0, 0, 600, 400), "3:2", (600, 400)) == (0, 0, 600, 400)
    assert ratio_box((0, 0, 400, 600), "5:4", (600, 400)) == (0, 50, 400, 500)
    assert ratio_box((0, 0, 300, 300), "original", (600, 400)) == (0, 50, 300, 200)


def test_arbitrary_rotation_grows_the_canvas_and_fills(rng) -> None:
    image = np.full((100, 200, 3), 0.2, np.float32)
    out = _run("rotate", Layers(image), angle=30, fill="white")
    h, w = out.image.shape[:2]
    assert (w, h) == (224, 187)  # 200 cos30 + 100 sin30, 200 sin30 + 100 cos30, rounded up
    assert np.allclose(out.image[0, 0], 1.0) and np.allclose(out.image[h // 2, w // 2], 0.2)
    clear = _run("rotate", Layers(image), angle=30, fill="transparent")
    assert clear.alpha is not None and clear.alpha[0, 0] == 0 and clear.alpha[h // 2, w // 2] == 1


def test_rotation_turns_counter_clockwise() -> None:
    image = np.zeros((101, 101, 3), np.float32)
    image[50, 80:95] = 1.0  # a bar to the right of the centre
    out = _run("rotate", Layers(image), angle=45).image
    ys, xs = np.nonzero(out[..., 0] > 0.5)
    c = (out.shape[0] - 1) / 2
    assert ys.mean() < c and xs.mean() > c  # now up and to the right


def test_straighten_crops_to_the_largest_upright_rectangle() -> None:
    # a tilted horizon: straightening by its angle makes it level and leaves no fill
    h, w = 300, 400
    yy, xx = np.mgrid[:h, :w]
    tilt = 3.0
    sky = (yy - h / 2) < np.tan(np.radians(tilt)) * -(xx - w / 2)
    image = np.repeat(np.where(sky, 0.8, 0.3).astype(np.float32)[..., None], 3, axis=2)
    out = _run("straighten", Layers(image), angle=-tilt).image
    rw, rh = largest_upright_rect(w, h, tilt)
    assert out.shape[1] == int(rw) - 2 and out.shape[0] == int(rh) - 2
    # no white or black corners: each corner shows the sky or the ground
    corners = [out[:3, :3], out[:3, -3:], out[-3:, :3], out[-3:, -3:]]
    assert [float(c.mean()) for c in corners] == pytest.approx([0.8, 0.8, 0.3, 0.3], abs=0.03)
    # the horizon is now level: the boundary row is the same at the left and right
    edge = (out[..., 0] < 0.55).argmax(axis=0)
    assert abs(int(edge[5]) - int(edge[-6])) <= 1
    filled = _run("straighten", Layers(image), angle=-tilt, mode="fill", fill="black").image
    assert filled.shape[0] > h and filled[0, 0, 0] == 0.0


def test_line_angle_levels_the_drawn_line() -> None:
    assert line_angle(0, 10, 100, 10 - 100 * np.tan(np.radians(2))) == pytest.approx(-2)
    assert line_angle(50, 0, 52, 100) == pytest.approx(-np.degrees(np.arctan(2 / 100)))
