"""Detection as data (regions with kind and confidence) and the safe one-step repair."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import synthetic_defects as sd
from photofix.core.mask import grow
from photofix.inference.progress import Progress
from photofix.ops import REGISTRY, Layers, OpContext, run_operation
from photofix.ops.defects import find_regions


@pytest.fixture(scope="module")
def damaged(photos) -> np.ndarray:
    """A grainy crop of chelsea with synthetic scratches and dust."""
    rng = np.random.default_rng(21)
    clean = sd.add_grain(photos["chelsea"][20:276, 100:356].copy(), 0.015, rng)
    image, _ = sd.add_scratches(clean, rng, 0.02)
    image, _ = sd.add_dust(image, rng, 40)
    return image


def test_regions_carry_kind_box_and_confidence(damaged) -> None:
    found = find_regions(damaged)
    assert found.regions, "nothing found on a damaged crop"
    assert {r.kind for r in found.regions} <= {"dust", "scratches"}
    for r in found.regions:
        pixels = found.region_mask(r)
        ys, xs = np.nonzero(pixels)
        assert r.area == pixels.sum() > 0
        assert r.box == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert 0.0 <= r.confidence <= 1.0
    assert found.mask().sum() == sum(r.area for r in found.regions)
    confident = found.confident_mask()
    assert not (confident & ~found.mask()).any()
    # a GUI accepting two regions by label gets exactly their pixels
    two = [found.regions[0].label, found.regions[-1].label]
    assert np.array_equal(found.mask(two), np.isin(found.labels, two))


def test_remove_defects_fills_only_confident_damage_and_says_so(damaged) -> None:
    op = REGISTRY.get("remove-defects")
    notes: list[str] = []
    ctx = OpContext(Progress(notice_callback=notes.append))
    result = run_operation(op, Layers(damaged), op.resolve({"engine": "fast"}), ctx)
    found = find_regions(damaged)
    expected = grow(found.confident_mask(), 1)
    assert np.array_equal(result.mask, expected)
    changed = np.any(result.image != damaged, axis=2)
    assert not (changed & ~result.mask).any()  # outside the mask: bit-identical
    confident = sum(r.confident for r in found.regions)
    share = f"{100 * expected.mean():.3f} %"
    assert any(f"{confident} region" in n and share in n for n in notes), notes
    left = len(found.regions) - confident
    if left:
        assert any(
            f"{left} regions left unfilled for review" in n or f"{left} region left" in n
            for n in notes
        ), notes
    everything = run_operation(op, Layers(damaged), op.resolve({"engine": "fast", "fill": "all"}))
    assert np.array_equal(everything.mask, grow(found.mask(), 1))


def test_defect_net_is_in_the_model_registry() -> None:
    from photofix.models import MODELS

    spec = MODELS["defect-net"]
    assert spec.task == spec.kind == "detector" and "GPL" in spec.licence
    (path,) = spec.weights.paths()
    assert path.name == "defect_net.safetensors" and path.stat().st_size > 50_000
    net = spec.build(spec)
    assert sum(p.numel() for p in net.parameters()) > 50_000
