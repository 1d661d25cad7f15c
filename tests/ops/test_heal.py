"""heal (spot healing) and clone (clone stamp) on the mask layer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from photofix.core import imageio
from photofix.core.errors import OperationError
from photofix.core.mask import grow
from photofix.inference.progress import Progress
from photofix.ops import REGISTRY, Layers, OpContext, run_operation
from photofix.ops.patchmatch import inpaint_patch
from photofix.resources import sample_scan


def dust_speck(shape: tuple[int, int], centre: tuple[int, int], seed: int) -> np.ndarray:
    """An irregular speck of dust about 7-11 px across (bool HxW)."""
    rng = np.random.default_rng(seed)
    speck = np.zeros(shape, np.uint8)
    cy, cx = centre
    for _ in range(4):
        oy, ox = rng.integers(-3, 4, 2)
        axes = tuple(int(v) for v in rng.integers(2, 5, 2))
        angle = float(rng.uniform(0, 180))
        cv2.ellipse(speck, (int(cx + ox), int(cy + oy)), axes, angle, 0, 360, 1, -1)
    return speck.astype(bool)


def masked_psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a[mask] - b[mask]) ** 2)))


@pytest.fixture(scope="module")
def print_crop() -> np.ndarray:
    """A crop of the bundled sample scan: a faded, grainy, real-looking print."""
    return imageio.load_image(sample_scan()).rgb[40:232, 250:442].copy()


def test_heal_removes_dust_better_than_the_patch_fill(print_crop) -> None:
    clean = print_crop
    ours, patch = [], []
    for seed, centre in enumerate([(40, 40), (60, 140), (150, 60), (140, 150), (96, 96)]):
        mask = grow(dust_speck(clean.shape[:2], centre, seed), 1)
        dusty = clean.copy()
        dusty[dust_speck(clean.shape[:2], centre, seed)] = 0.95  # a bright speck
        healed = run_operation(REGISTRY.get("heal"), Layers(dusty, mask=mask), {}).image
        assert np.array_equal(healed[~mask], dusty[~mask])  # nothing else changes
        ours.append(masked_psnr(healed, clean, mask))
        patch.append(masked_psnr(inpaint_patch(dusty, mask), clean, mask))
        assert ours[-1] > masked_psnr(dusty, clean, mask) + 10  # the speck is gone
    print(f"masked PSNR heal {np.mean(ours):.2f} dB, patch {np.mean(patch):.2f} dB")
    assert np.mean(ours) >= np.mean(patch)


def test_heal_needs_a_stroke(print_crop) -> None:
    with pytest.raises(OperationError, match="paint over the blemish"):
        run_operation(REGISTRY.get("heal"), Layers(print_crop), {})


def test_clone_at_full_opacity_copies_the_source_exactly(print_crop) -> None:
    mask = np.zeros(print_crop.shape[:2], bool)
    mask[50:70, 60:90] = True
    out = run_operation(
        REGISTRY.get("clone"), Layers(print_crop, mask=mask), {"dx": "-40", "dy": "30"}
    ).image
    assert np.array_equal(out[50:70, 60:90], print_crop[80:100, 20:50])
    assert np.array_equal(out[~mask], print_crop[~mask])


def test_clone_soft_edge_and_opacity_stay_inside_the_stroke(print_crop) -> None:
    mask = np.zeros(print_crop.shape[:2], bool)
    mask[50:90, 60:100] = True
    params = {"dx": "50", "dy": "0", "opacity": "0.5", "soft": "6"}
    out = run_operation(REGISTRY.get("clone"), Layers(print_crop, mask=mask), params).image
    assert np.array_equal(out[~mask], print_crop[~mask])
    centre = 0.5 * (print_crop[70, 130] + print_crop[70, 80])
    assert out[70, 80] == pytest.approx(centre, abs=1e-6)
    # the edge is softer than the centre: less of the source there
    edge_w = np.abs(out[50, 80] - print_crop[50, 80]).sum()
    assert edge_w < np.abs(out[70, 80] - print_crop[70, 80]).sum() + 1e-6


def test_clone_leaves_pixels_without_source_and_says_so(print_crop) -> None:
    mask = np.zeros(print_crop.shape[:2], bool)
    mask[0:10, 0:10] = True
    notes: list[str] = []
    ctx = OpContext(progress=Progress(notice_callback=notes.append))
    params = {"dx": "-5", "dy": "0"}
    out = run_operation(REGISTRY.get("clone"), Layers(print_crop, mask=mask), params, ctx).image
    assert np.array_equal(out[:10, :5], print_crop[:10, :5])
    assert np.array_equal(out[:10, 5:10], print_crop[:10, 0:5])
    assert notes and "outside the image" in notes[0]
