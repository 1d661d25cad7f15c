"""Foxing and spots (``detect-defects:kinds=spots``, opt-in): found, judged by colour, and
never confused with a lattice of alike blobs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks import synthetic_defects as sd
from photofix.ops import REGISTRY, Layers, run_operation
from photofix.ops import defects as D
from photofix.ops.spots import patterned, spot_regions


def _print(photos, name: str, seed: int = 0) -> np.ndarray:
    """A faded sepia print of a test photo, with grain."""
    faded = np.clip(0.25 + 0.7 * sd.to_sepia(photos[name]), 0, 1)
    return sd.add_grain(faded, 0.01, np.random.default_rng(seed))


def _spots_found(mask: np.ndarray, truth: np.ndarray) -> float:
    n, comp = cv2.connectedComponents(truth.view(np.uint8), connectivity=8)
    return sum(bool(mask[comp == i].any()) for i in range(1, n)) / max(n - 1, 1)


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_brown_foxing_is_found_and_confident(photos, name) -> None:
    """Brown spots are found (measured over seven faded photos: 37 of 68 spots, 0.60 of their
    pixels, precision 1.00; faint spots on busy detail are missed), and what is confident is
    foxing (0.57 of the spots' pixels confident, precision 1.00 measured)."""
    clean = _print(photos, name)
    damaged, truth = sd.add_foxing(clean, np.random.default_rng(1), count=12)
    mask, confidence = spot_regions(damaged)
    assert _spots_found(mask, truth) >= 0.3
    confident = confidence >= D.CONFIDENT["spots"]
    assert confident.any()
    near_truth = cv2.dilate(truth.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert (confident & near_truth).sum() / confident.sum() > 0.9


def test_gray_spots_are_proposed_but_not_filled_unasked(photos) -> None:
    """Without colour evidence a dark spot may be picture content: proposed for review, never
    confident, so one-step remove-defects (asked for spots) leaves the print unchanged."""
    clean = sd.to_gray(photos["astronaut"])
    clean = sd.add_grain(np.clip(0.2 + 0.75 * clean, 0, 1), 0.01, np.random.default_rng(2))
    damaged, truth = sd.add_foxing(clean, np.random.default_rng(3), count=12, brown=False)
    mask, confidence = spot_regions(damaged)
    assert _spots_found(mask, truth) >= 0.3  # measured: 31 of 72 over seven photos
    assert confidence.max() < D.CONFIDENT["spots"]
    op = REGISTRY.get("remove-defects")
    result = run_operation(op, Layers(damaged), op.resolve({"engine": "fast", "kinds": "spots"}))
    assert np.array_equal(result.image, damaged)


def test_one_step_fills_brown_spots_and_nothing_else(photos) -> None:
    clean = _print(photos, "astronaut", seed=4)
    damaged, truth = sd.add_foxing(clean, np.random.default_rng(5), count=10)
    op = REGISTRY.get("remove-defects")
    result = run_operation(op, Layers(damaged), op.resolve({"engine": "fast", "kinds": "spots"}))
    changed = np.any(result.image != damaged, axis=2)
    assert changed.any()
    near_truth = cv2.dilate(truth.view(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert not (changed & ~near_truth).any()  # outside the spots, bit-identical


def test_spots_are_opt_in_and_named() -> None:
    assert "spots" in D.KINDS and "spots" not in D.DEFAULT_KINDS
    assert D.parse_kinds("dust+spots") == ("dust", "spots")


def test_a_lattice_of_alike_dark_holes_is_not_spots() -> None:
    """A wall of dark holes on a grid (a lattice wall, a perforated screen) is picture content;
    the same holes scattered are spots."""
    for layout in ("grid", "scattered"):
        image = np.full((240, 240, 3), 0.7, np.float32)
        image = sd.add_grain(image, 0.01, np.random.default_rng(6))
        rng = np.random.default_rng(7)
        if layout == "grid":
            centres = [(40 + 32 * i, 40 + 32 * j) for i in range(6) for j in range(6)]
        else:
            centres = [tuple(int(v) for v in rng.integers(20, 220, 2)) for _ in range(8)]
        for cy, cx in centres:
            cv2.circle(image, (cx, cy), 4, (0.35, 0.35, 0.35), -1, cv2.LINE_AA)
        mask, _ = spot_regions(image)
        found = np.mean([mask[cy, cx] for cy, cx in centres])
        assert (found == 0.0) if layout == "grid" else (found > 0.7), (layout, found)


def test_patterned_needs_four_in_a_row() -> None:
    three = np.array([[10.0, 10.0], [22.0, 10.0], [34.0, 10.0]])
    four = np.vstack([three, [[46.0, 10.0]]])
    sizes = np.full(4, 4.0)
    assert not patterned(three, sizes[:3]).any()
    assert patterned(four, sizes).all()
    assert not patterned(four, np.array([4.0, 9.0, 4.0, 9.0])).any()  # not alike


def test_spots_at_twice_the_resolution(photos) -> None:
    """The same print scanned at twice the resolution: the same spots are found."""
    clean = _print(photos, "astronaut", seed=8)[:256, :256]
    damaged, _ = sd.add_foxing(clean, np.random.default_rng(9), count=8)
    big = cv2.resize(damaged, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    small_mask, _ = spot_regions(damaged)
    big_mask, _ = spot_regions(big)
    back = cv2.resize(big_mask.view(np.uint8), (256, 256), interpolation=cv2.INTER_AREA) > 0
    inter = (small_mask & back).sum()
    assert inter / max(small_mask.sum(), 1) > 0.5
