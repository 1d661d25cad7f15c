"""The step engine: run_step records what ran, commit journals it, replay runs it again."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.core.document import Document
from photofix.core.errors import OperationError
from photofix.core.recipe import Blend, Recipe, RecipeError, RecipeStep, mask_sha256
from photofix.ops import REGISTRY, Layers, OpContext, run_operation
from photofix.ops.steps import (
    StepRequest,
    check_steps,
    commit,
    find_operation,
    layers_of,
    mask_edit_request,
    proposal_operation,
    replay,
    run_step,
)


@pytest.fixture
def picture(photos) -> np.ndarray:
    return np.ascontiguousarray(photos["astronaut"][100:164, 180:244])


def _mask(shape, box=(10, 12, 30, 40)) -> np.ndarray:
    m = np.zeros(shape[:2], bool)
    m[box[0] : box[2], box[1] : box[3]] = True
    return m


def test_run_step_blends_exactly_as_run_operation(picture):
    layers = Layers(picture, mask=_mask(picture.shape))
    op = REGISTRY.get("fade")
    blend = Blend(strength=0.6, limit_to_mask=True, feather=3.0)
    result = run_step(StepRequest("fade", {"clip": 1.0}, blend), layers)
    direct = run_operation(op, layers, {"clip": 1.0}, strength=0.6, limit_to_mask=True, feather=3.0)
    assert np.array_equal(result.layers.image, direct.image)
    outside = ~_mask(picture.shape, (2, 4, 38, 48))  # beyond the blur of the 3-px feather
    assert np.array_equal(result.layers.image[outside], picture[outside])
    rec = result.record
    assert rec.op == "fade" and rec.version == op.version
    assert rec.given == {"clip": 1.0} and rec.params["clip"] == 1.0
    assert rec.blend == blend
    assert rec.mask.role == "limit" and rec.mask.sha256 == mask_sha256(layers.mask)
    assert rec.size_before == rec.size_after == (64, 64)


def test_denoise_auto_records_the_sigma_and_model_it_chose(picture, rng):
    noisy = np.clip(picture + rng.normal(0, 12 / 255, picture.shape), 0, 1).astype(np.float32)
    result = run_step(StepRequest("denoise", {"sigma": "auto"}), Layers(noisy))
    rec = result.record
    assert rec.params["sigma"] == "auto"
    assert 6 < rec.resolved["sigma"] < 20
    assert rec.resolved["model"] == "ffdnet-color"
    [model] = rec.models
    assert model.id == "ffdnet-color" and model.task == "denoise"
    assert len(model.sha256) == 64 and model.licence
    assert model.tile and model.device == "cpu"
    assert any("σ" in n for n in rec.notices)
    assert not rec.synthesised


def test_upscale_records_synthesis_and_replay_is_bit_identical(picture):
    small = np.ascontiguousarray(picture[:24, :20])
    layers = Layers(small)
    first = run_step(StepRequest("upscale", {"scale": 2, "model": "waifu2x-photo"}), layers)
    assert first.record.synthesised
    assert first.record.resolved["models"] == ["waifu2x-photo"]
    again = replay([first.record], layers, OpContext())
    assert np.array_equal(again.layers.image, first.layers.image)
    assert again.records[0].params == first.record.params


def test_commit_journals_records_that_the_undo_budget_never_drops(picture):
    doc = Document(picture, history_budget=1)  # every older step's pixels are dropped
    for strength in (0.3, 0.5, 0.7):
        req = StepRequest("fade", {}, Blend(strength=strength))
        assert commit(doc, run_step(req, layers_of(doc))) is not None
    assert doc.history.dropped == 2 and len(doc.history.steps) == 1
    assert [r.blend.strength for r in doc.journal] == [0.3, 0.5, 0.7]
    doc.undo()
    assert [r.blend.strength for r in doc.journal] == [0.3, 0.5]


def test_resize_commit_updates_dpi_and_undo_restores_it(picture):
    from photofix.core.imageio import ImageMeta

    meta = ImageMeta("PNG", 64, 64, "RGB", 8, False, False, dpi=(300.0, 300.0))
    doc = Document(picture, meta=meta)
    commit(doc, run_step(StepRequest("resize", {"scale": 2.0}), layers_of(doc)))
    assert doc.meta.dpi == (600.0, 600.0) and doc.size == (128, 128)
    doc.undo()
    assert doc.meta.dpi == (300.0, 300.0)


def test_strokes_and_mask_edits_are_recorded_operations(picture):
    doc = Document(picture)
    doc.begin_stroke("mask")
    doc.stroke_to([(10, 10), (30, 12)], 3)
    doc.end_stroke()
    commit(doc, run_step(mask_edit_request("grow", 2), layers_of(doc)))
    ops = [r.op for r in doc.journal]
    assert ops == ["mask-paint", "mask-grow"]
    painted = doc.journal[0]
    assert painted.per_image and painted.mask.role == "painted"
    assert doc.journal[1].label == "Grow mask by 2 px"
    # replaying the journal on the same image gives the same mask
    again = replay(doc.journal, Layers(picture))
    assert np.array_equal(again.layers.mask, doc.mask)


def test_review_proposal_is_its_own_operation_and_replays_as_detection(picture):
    remove = REGISTRY.get("remove-defects")
    proposal = proposal_operation(remove)
    assert proposal.name == "remove-defects.propose"
    assert find_operation(proposal.name).writes == ("mask",)
    assert {p.name for p in proposal.params} == {"sensitivity", "kinds", "fill"}
    damaged = picture.copy()
    damaged[20:23, 5:60] = 1.0
    result = run_step(StepRequest(proposal.name, {"sensitivity": 0.7}), Layers(damaged))
    assert np.array_equal(result.layers.image, damaged)  # only the mask changes
    assert result.record.mask.role == "proposed" and not result.record.per_image
    step = RecipeStep.from_record(result.record)
    assert step.op == "remove-defects.propose" and step.per_image is None


def test_check_steps_names_the_step_and_reason():
    steps = [RecipeStep("fade"), RecipeStep("denoise", {"sigma": 99})]
    with pytest.raises(RecipeError, match=r"step 2 \(denoise\): parameter 'sigma'"):
        check_steps(steps)
    with pytest.raises(RecipeError, match=r"step 1 \(sharpen-all\): unknown operation"):
        check_steps(Recipe([RecipeStep("sharpen-all")]))
    with pytest.raises(RecipeError, match="cannot be blended"):
        check_steps([RecipeStep("resize", {"scale": 2.0}, Blend(strength=0.5))])


def test_painted_step_without_its_mask_is_refused(picture):
    with pytest.raises(RecipeError, match=r"step 1 \(mask-paint\) needs this image's own"):
        replay([RecipeStep("mask-paint", per_image="mask")], Layers(picture))


def test_limit_to_empty_mask_is_an_error(picture):
    with pytest.raises(OperationError, match="mask is empty"):
        run_step(StepRequest("fade", {}, Blend(limit_to_mask=True)), Layers(picture))
