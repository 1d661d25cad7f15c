"""The regions a remove-defects proposal hands back beside its record, and taking or leaving
them one by one (:mod:`photofix.ops.defect_choice`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from photofix.core.mask import grow
from photofix.ops import REGISTRY, Layers
from photofix.ops import defects as D
from photofix.ops.defect_choice import RegionChoice
from photofix.ops.steps import StepRequest, proposal_operation, run_step

# (kind, (x0, y0, x1, y1), confidence, held): both kinds, sure and unsure, one held back
KNOWN = (
    ("scratches", (100, 50, 102, 200), 0.97, False),
    ("dust", (300, 300, 303, 303), 0.95, False),
    ("dust", (400, 100, 404, 104), 0.41, False),
    ("scratches", (200, 450, 400, 452), 0.62, False),
    ("dust", (50, 400, 53, 403), 0.93, True),
    ("dust", (103, 120, 105, 122), 0.30, False),  # beside the first scratch: edges touch
)


def known_regions(shape: tuple[int, int]) -> D.DefectRegions:
    """The regions of :data:`KNOWN` on a picture of ``shape`` (h, w), at least 512 × 512."""
    labels = np.zeros(shape, np.int32)
    regions = []
    for i, (kind, (x0, y0, x1, y1), confidence, held) in enumerate(KNOWN, 1):
        labels[y0:y1, x0:x1] = i
        area = (x1 - x0) * (y1 - y0)
        regions.append(D.Region(i, kind, (x0, y0, x1, y1), area, confidence, held))
    return D.DefectRegions(labels, regions)


@pytest.fixture
def found(monkeypatch) -> D.DefectRegions:
    regions = known_regions((512, 512))
    monkeypatch.setattr(D, "find_regions", lambda *args, **kwargs: regions)
    return regions


def _propose(image: np.ndarray, alpha: np.ndarray | None = None, **params):
    proposal = proposal_operation(REGISTRY.get("remove-defects"))
    return run_step(StepRequest(proposal, params), Layers(image, alpha=alpha))


def test_the_proposal_attaches_every_region_and_records_only_counts(found) -> None:
    image = np.full((512, 512, 3), 0.5, np.float32)
    result = _propose(image)
    choice = result.attachments["regions"]
    assert isinstance(choice, RegionChoice) and choice.found is found
    assert choice.proposed == {r.label for r in found.regions if r.confident}
    assert np.array_equal(result.layers.mask, grow(found.confident_mask(), 1))
    # the record: counts per kind and what was proposed, JSON-able, no region data in it
    resolved = result.record.resolved
    assert resolved["found_dust"] == 4 and resolved["found_scratches"] == 2
    assert resolved["proposed"] == len(choice.proposed) and resolved["held"] == 1
    record = json.loads(json.dumps(result.record.to_dict()))
    assert set(record["resolved"]) == {"found_dust", "found_scratches", "proposed", "held"}
    assert "attachments" not in json.dumps(record) and "attachments" not in repr(result)
    # fill=all proposes every region
    every = _propose(image, fill="all").attachments["regions"]
    assert every.proposed == {r.label for r in found.regions}


def test_taking_a_region_adds_its_grown_pixels_and_leaving_it_restores_the_mask(found) -> None:
    image = np.full((512, 512, 3), 0.5, np.float32)
    choice = _propose(image).attachments["regions"]
    before = choice.fill_mask()
    unsure = next(r for r in found.regions if r.confidence == 0.62)
    assert not choice.taken(before, unsure)
    taken = choice.with_region(before, unsure, True)
    assert np.array_equal(taken & ~before, grow(found.region_mask(unsure), 1) & ~before)
    assert np.array_equal(taken, choice.fill_mask(choice.proposed | {unsure.label}))
    assert choice.taken(taken, unsure)
    assert np.array_equal(choice.with_region(taken, unsure, False), before)
    # every region on: the proposal's rule with fill=all
    everything = before
    for r in found.regions:
        everything = choice.with_region(everything, r, True)
    assert np.array_equal(everything, choice.fill_mask([r.label for r in found.regions]))


def test_leaving_a_region_out_keeps_the_grown_edge_of_its_neighbour(found) -> None:
    choice = RegionChoice(found, None, frozenset())
    scratch, speck = found.regions[0], found.regions[5]
    both = choice.fill_mask([scratch.label, speck.label])
    alone = choice.fill_mask([scratch.label])
    assert np.array_equal(choice.with_region(both, speck, False), alone)
    assert not choice.taken(alone, speck) and choice.taken(both, speck)


def test_regions_are_taken_inside_the_alpha_only(found) -> None:
    image = np.full((512, 512, 3), 0.5, np.float32)
    alpha = np.ones((512, 512), np.float32)
    alpha[:, :101] = 0.0  # half of the first scratch is transparent
    result = _propose(image, alpha)
    choice = result.attachments["regions"]
    mask = result.layers.mask
    assert not mask[:, :101].any()
    unsure = next(r for r in found.regions if r.confidence == 0.62)
    taken = choice.with_region(mask, unsure, True)
    assert np.array_equal(taken, choice.fill_mask(choice.proposed | {unsure.label}))
    assert not taken[:, :101].any()
    # ranked: most confident first
    assert [r.confidence for r in choice.ranked()] == sorted(
        (r.confidence for r in found.regions), reverse=True
    )
