"""``colorize:mode=hints``: tones kept exactly, colour from hints, better than nearest-hint fill."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from scipy import ndimage
from skimage import color

from photofix.core.chroma import chroma, compose, is_gray, luma
from photofix.core.document import Document
from photofix.core.errors import OperationError
from photofix.core.imageio import to_uint8
from photofix.inference.progress import Progress
from photofix.ops import REGISTRY, Layers, OpContext, run_operation
from photofix.ops.colorize import LAST_SOLUTION, colorize_from_hints

COLORIZE = REGISTRY.get("colorize")


def _small(photo: np.ndarray, long_side: int = 256) -> np.ndarray:
    h, w = photo.shape[:2]
    f = long_side / max(h, w)
    return cv2.resize(photo, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


def _gray(photo: np.ndarray) -> np.ndarray:
    y = luma(photo)
    return np.repeat(y[..., None], 3, axis=2)


def _random_hints(photo: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random 3×3 patches of the original's colours (the benchmark's protocol)."""
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    mask = np.zeros((h, w), bool)
    for _ in range(n):
        y, x = rng.integers(0, h - 2), rng.integers(0, w - 2)
        mask[y : y + 3, x : x + 3] = True
    return np.where(mask[..., None], photo, 0).astype(np.float32), mask


def _nearest_hint_fill(gray: np.ndarray, hints: np.ndarray, mask: np.ndarray) -> np.ndarray:
    _, (iy, ix) = ndimage.distance_transform_edt(~mask, return_indices=True)
    y = luma(gray)
    return compose(y, chroma(hints)[iy, ix])


def _delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(color.deltaE_ciede2000(color.rgb2lab(a), color.rgb2lab(b)).mean())


def _run(layers: Layers, **params) -> Layers:
    return run_operation(COLORIZE, layers, params, OpContext())


@pytest.fixture(autouse=True)
def _fresh_cache():
    LAST_SOLUTION.clear()


def test_output_luma_equals_input_luma(photos):
    photo = _small(photos["astronaut"])
    gray = _gray(photo)
    assert is_gray(gray)
    hints, mask = _random_hints(photo, 20, 1)
    out = _run(Layers(gray, hints=hints, hint_mask=mask)).image
    assert out.dtype == np.float32 and out.shape == gray.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not is_gray(out)  # it did colour
    y_in = gray[..., 0]
    assert np.abs(luma(out) - y_in).max() < 1e-5  # float rounding only
    # and after the 8-bit file a user saves: within half a level (< 1/255)
    out8 = to_uint8(out).astype(np.float32) / 255.0
    in8 = to_uint8(gray).astype(np.float32) / 255.0
    assert np.abs(luma(out8) - in8[..., 0]).max() < 1 / 255


def test_saturated_hints_out_of_gamut_keep_luma_by_desaturating():
    # a pure blue hint on a bright area cannot keep its chroma: luma wins, colour shrinks
    gray = np.full((40, 60, 3), 0.9, np.float32)
    hints = np.zeros_like(gray)
    hints[..., 2] = 1.0
    mask = np.zeros((40, 60), bool)
    mask[18:22, 28:32] = True
    out = _run(Layers(gray, hints=hints, hint_mask=mask)).image
    assert np.abs(luma(out) - 0.9).max() < 1e-5
    assert (out[..., 2] > out[..., 0]).all()  # bluish everywhere, as far as gamut allows


def test_mean_ciede2000_is_at_least_15_percent_below_nearest_hint_fill(photos):
    ours, nearest = [], []
    for name in ("astronaut", "coffee", "chelsea"):
        photo = _small(photos[name], 200)
        gray = _gray(photo)
        for seed in (1, 2):
            hints, mask = _random_hints(photo, 20, seed)
            out = _run(Layers(gray, hints=hints, hint_mask=mask)).image
            ours.append(_delta_e(out, photo))
            nearest.append(_delta_e(_nearest_hint_fill(gray, hints, mask), photo))
    gain = 1.0 - np.mean(ours) / np.mean(nearest)
    print(f"mean ΔE2000 {np.mean(ours):.2f} vs nearest-hint {np.mean(nearest):.2f}: {gain:.1%}")
    assert gain >= 0.15, f"mean ΔE {np.mean(ours):.2f} vs nearest {np.mean(nearest):.2f}"


def test_hints_override_their_own_pixels_and_colour_their_region():
    # two flat regions split by an edge; a red hint left, a blue hint right
    gray = np.full((64, 96, 3), 0.35, np.float32)
    gray[:, 48:] = 0.6
    hints = np.zeros_like(gray)
    mask = np.zeros((64, 96), bool)
    red, blue = (0.8, 0.2, 0.15), (0.3, 0.5, 0.95)
    hints[30:33, 10:13], mask[30:33, 10:13] = red, True
    hints[30:33, 80:83], mask[30:33, 80:83] = blue, True
    out = _run(Layers(gray, hints=hints, hint_mask=mask)).image
    c_hint = chroma(hints)
    exact = compose(luma(gray), c_hint)
    np.testing.assert_allclose(out[mask], exact[mask], atol=1e-6)
    left, right = out[:, :40], out[:, 56:]
    assert (left[..., 0] > left[..., 2] + 0.1).all()  # red side, up to the edge
    assert (right[..., 2] > right[..., 0] + 0.1).all()  # blue side


def test_saturation_scales_colour_without_solving_again(photos):
    photo = _small(photos["coffee"])
    gray = _gray(photo)
    hints, mask = _random_hints(photo, 20, 3)
    layers = Layers(gray, hints=hints, hint_mask=mask)
    t0 = time.perf_counter()
    full = _run(layers, saturation=1.0).image
    solve_time = time.perf_counter() - t0
    progress = Progress()
    t0 = time.perf_counter()
    half = run_operation(COLORIZE, layers, {"saturation": 0.5}, OpContext(progress)).image
    rerender_time = time.perf_counter() - t0
    assert any("only the saturation changed" in n for n in progress.notices)
    assert rerender_time < solve_time
    none = _run(layers, saturation=0.0).image
    np.testing.assert_array_equal(none, gray)  # zero saturation: the gray input, bit for bit
    solved = colorize_from_hints(gray, hints, mask).chroma
    c_full, c_half = chroma(full), chroma(half)
    # where full saturation fits the gamut, half saturation is exactly half the chroma
    fits = np.abs(c_full - solved).max(axis=-1) < 1e-4
    assert fits.mean() > 0.5
    np.testing.assert_allclose(c_half[fits], 0.5 * solved[fits], atol=1e-4)
    assert (np.abs(c_half) <= np.abs(c_full) + 1e-4).all()
    assert np.abs(luma(half) - gray[..., 0]).max() < 1e-5


def test_hint_mode_without_hints_says_what_to_do():
    gray = np.full((16, 16, 3), 0.5, np.float32)
    with pytest.raises(OperationError, match="paint some"):
        _run(Layers(gray))


def test_cancel_stops_propagation(photos):
    photo = _small(photos["chelsea"], 128)
    hints, mask = _random_hints(photo, 20, 4)
    progress = Progress()
    progress.cancel()
    from photofix.core.errors import Cancelled

    with pytest.raises(Cancelled):
        colorize_from_hints(_gray(photo), hints, mask, progress)


def test_document_paint_two_hints_colorize_adjust_saturation_undo():
    """What the GUI does (paint two hints, colorize, drag saturation, undo), at Document level."""
    gray = np.full((80, 120, 3), 0.4, np.float32)
    gray[:, 60:] = 0.7
    doc = Document(gray)
    for colour, x in (((0.85, 0.25, 0.2), 20), ((0.2, 0.45, 0.9), 100)):
        doc.begin_stroke("hint_mask", hint_colour=colour)
        doc.stroke_to([(x, 30), (x, 50)], 3)
        assert doc.end_stroke() is not None
    assert doc.hint_mask.sum() > 0

    def colorize(saturation: float) -> np.ndarray:
        layers = Layers(doc.image, hints=doc.hints, hint_mask=doc.hint_mask)
        return _run(layers, saturation=saturation).image

    doc.commit("Colorize", {"image": colorize(1.0)}, op="colorize")
    vivid = doc.image.copy()
    assert vivid[40, 10, 0] > vivid[40, 10, 2] + 0.2  # red left
    assert vivid[40, 110, 2] > vivid[40, 110, 0] + 0.2  # blue right
    # the saturation slider: colour the original again at a new saturation (cached solve)
    doc.undo()
    doc.commit("Colorize", {"image": colorize(0.4)}, op="colorize", params={"saturation": 0.4})
    muted = doc.image.copy()
    assert abs(muted[40, 10, 0] - muted[40, 10, 2]) < abs(vivid[40, 10, 0] - vivid[40, 10, 2])
    np.testing.assert_allclose(luma(muted), luma(vivid), atol=1e-5)
    doc.undo()
    np.testing.assert_array_equal(doc.image, gray)
    assert doc.hint_mask.any()  # the hints stay
    doc.undo()
    doc.undo()
    assert not doc.hint_mask.any()
