"""``detect-defects`` finds dust and scratches a user would retouch, and leaves grain and eyes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks import synthetic_defects as sd
from benchmarks.bench_defects import counts, prf
from photofix.core.errors import Cancelled, OperationError
from photofix.core.imageio import load_image
from photofix.inference.progress import Progress
from photofix.ops import REGISTRY, Layers, OpContext, run_operation
from photofix.ops.defects import detect_defects, ridge_share, scratch_mask
from photofix.resources import sample_scan
from tests.conftest import sample_scan_truth

# Regression guards below what the shipped weights reach on this held-out crop (measured with
# the previous weights: scratches P 0.80-0.94, R 0.20-0.63 by tone; dust P 0.96, R 0.82). The
# issue's bars are measured by benchmarks/bench_defects.py (see docs/defects.md).
PRECISION_BAR, SCRATCH_RECALL_BAR, DUST_RECALL_BAR = 0.7, 0.15, 0.7
# soft scans (blur σ 0.8 + JPEG 80): weights trained without scanned crops reached recall 0.72
# (dust) and 0.35 (scratches) here, the shipped ones 0.88 and 0.78
SCANNED_RECALL_BAR = {"dust": 0.8, "scratches": 0.6}
SAMPLE_RECALL_BAR = 0.75


@pytest.fixture(scope="module")
def print_scan(photos) -> np.ndarray:
    """A grainy 256×256 crop of a photo the detector was not trained on (chelsea)."""
    rng = np.random.default_rng(7)
    return sd.add_grain(photos["chelsea"][20:276, 100:356].copy(), 0.015, rng)


@pytest.mark.parametrize("tone", ["colour", "gray", "sepia"])
def test_finds_scratches(print_scan, tone) -> None:
    image = {
        "colour": print_scan,
        "gray": sd.to_gray(print_scan),
        "sepia": sd.to_sepia(print_scan),
    }[tone]
    damaged, truth = sd.add_scratches(image, np.random.default_rng(11), 0.03)
    score = prf(counts(detect_defects(damaged), truth))
    assert score["precision"] > PRECISION_BAR and score["recall"] > SCRATCH_RECALL_BAR, score


@pytest.mark.parametrize("tone", ["colour", "gray"])
def test_finds_dust(print_scan, tone) -> None:
    image = print_scan if tone == "colour" else sd.to_gray(print_scan)
    damaged, truth = sd.add_dust(image, np.random.default_rng(12), 60)
    score = prf(counts(detect_defects(damaged), truth))
    assert score["precision"] > PRECISION_BAR and score["recall"] > DUST_RECALL_BAR, score


@pytest.mark.parametrize("kind", ["dust", "scratches"])
def test_finds_damage_on_a_soft_scan(print_scan, kind) -> None:
    """A scanner blurs the damage with the print and the file is a JPEG: specks and scratches
    come out softer and fainter, and must still be found."""
    clean = sd.to_gray(print_scan)
    rng = np.random.default_rng(13)
    damaged, truth = (
        sd.add_dust(clean, rng, 60) if kind == "dust" else sd.add_scratches(clean, rng, 0.03)
    )
    _, scanned, (truth,) = sd.through_scanner(
        clean, damaged, [truth], rng, blur=(0.8, 0.8), jpeg=1.0, quality=(80, 80)
    )
    score = prf(counts(detect_defects(scanned), truth))
    assert score["precision"] > PRECISION_BAR and score["recall"] > SCANNED_RECALL_BAR[kind], score


def test_finds_the_damage_of_the_bundled_sample_scan() -> None:
    """What a newcomer tries first: the dust, scratches and crease of the sample scan, found
    where its recipe put them (rebuilt by resources/samples/make_sample.py)."""
    truth = sample_scan_truth()
    score = prf(counts(detect_defects(load_image(sample_scan()).rgb), truth))
    assert score["precision"] > PRECISION_BAR and score["recall"] > SAMPLE_RECALL_BAR, score


def test_film_grain_is_not_damage() -> None:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:256, :256].astype(np.float32) / 256
    smooth = np.repeat((0.25 + 0.5 * (0.6 * xx + 0.4 * yy))[..., None], 3, 2)
    for sigma in (0.01, 0.03):
        grainy = sd.add_grain(smooth, sigma, rng)
        assert detect_defects(grainy).mean() < 0.001, sigma


def test_catchlight_in_an_eye_is_not_dust(photos) -> None:
    """A soft highlight inside a dark pupil looks like a white speck, but it is the picture."""
    rng = np.random.default_rng(5)
    skin = np.full((160, 160, 3), (0.78, 0.6, 0.5), np.float32)
    face = sd.add_grain(skin, 0.01, rng)
    eyes = sd.add_catchlights(face, np.random.default_rng(8), 6)
    mask = detect_defects(eyes)
    changed = np.abs(eyes - face).max(axis=2) > 0.04
    assert mask[changed].mean() < 0.05


def test_the_real_catchlights_of_a_portrait_are_left(photos) -> None:
    # astronaut's eyes: the iris with its catchlight, at (y, x) about (95-115, 180-250)
    eyes = photos["astronaut"][80:130, 170:260].copy()
    assert detect_defects(eyes).mean() < 0.01


def test_a_bright_rim_between_two_regions_is_not_a_scratch() -> None:
    """A line over the picture has alike sides (a scratch); a rim along an object's edge lies
    between two different regions (a step) and is dropped, whatever the network says."""
    luma = np.full((120, 160), 0.55, np.float32)
    luma[:, 80:] = 0.1  # an object's dark side
    luma[:, 77:83] = 0.8  # its bright rim, 6 px wide, along the edge
    luma[58:63, :] = np.where(np.arange(160) < 77, 0.95, 0.75)  # a scratch across everything
    lines = np.zeros(luma.shape, np.int32)
    lines[:, 77:83] = 1
    lines[58:63, 5:70] = 2
    share = ridge_share(luma, lines, 3)
    assert share[1] < 0.2 and share[2] > 0.9, share
    prob = np.where(lines > 0, 0.9, 0.0).astype(np.float32)
    kept = scratch_mask(prob, luma=luma)
    assert kept[60, 30] and not kept[30, 80]
    assert scratch_mask(prob)[30, 80]  # without the picture nothing is judged


def test_tears_only_when_asked() -> None:
    rng = np.random.default_rng(9)
    image = sd.add_grain(np.full((200, 200, 3), 0.4, np.float32), 0.02, rng)
    corner = np.zeros((200, 200), np.uint8)
    cv2.fillConvexPoly(corner, np.array([[130, 0], [199, 0], [199, 80]]), 1)
    image[corner.astype(bool)] = 0.97  # a torn-off corner: flat paper white
    # by default only (at most) the straight torn edge may look like a scratch
    assert detect_defects(image)[corner.astype(bool)].mean() < 0.2
    found = detect_defects(image, kinds=("tears",))
    assert found[corner.astype(bool)].mean() > 0.9 and found[:, :100].sum() == 0


def test_operation_writes_the_mask_layer_and_checks_kinds(print_scan) -> None:
    op = REGISTRY.get("detect-defects")
    damaged, truth = sd.add_dust(print_scan, np.random.default_rng(1), 40)
    result = run_operation(op, Layers(damaged), op.resolve({"kinds": "dust"}))
    assert result.image is damaged and result.mask.dtype == np.bool_
    assert prf(counts(result.mask, truth))["recall"] > 0.6
    with pytest.raises(OperationError, match="unknown defect kind 'fluff'"):
        run_operation(op, Layers(damaged), op.resolve({"kinds": "dust,fluff"}))


def test_higher_sensitivity_finds_more(print_scan) -> None:
    damaged, _ = sd.add_scratches(print_scan, np.random.default_rng(2), 0.02)
    low, high = detect_defects(damaged, 0.2).sum(), detect_defects(damaged, 0.8).sum()
    assert high > low


def test_cancel_stops_detection(print_scan) -> None:
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        detect_defects(print_scan, progress=progress)


def test_remove_defects_fills_what_it_found(print_scan) -> None:
    op = REGISTRY.get("remove-defects")
    damaged, truth = sd.add_scratches(print_scan, np.random.default_rng(4), 0.02)
    # fill=all: every detection (the default fills only the confident ones, see
    # test_defects_regions.py; on this crop the scratches cross fur and are not all confident)
    result = run_operation(op, Layers(damaged), op.resolve({"engine": "fast", "fill": "all"}))
    assert np.array_equal(result.image[~result.mask], damaged[~result.mask])
    before = np.abs(damaged - print_scan)[truth].mean()
    after = np.abs(result.image - print_scan)[truth].mean()
    assert after < 0.7 * before  # measured 0.50: scratch recall is the weak point


@pytest.mark.parametrize("shape", [(1100, 1301), (700, 1600), (300, 200)])
def test_tiled_features_are_the_whole_pictures(shape) -> None:
    """The detector's input is computed tile by tile (so a big scan never holds four full-size
    feature maps); every tile the tiler asks for equals the whole picture's features there, at
    any offset, on odd and even sizes, next to a bright line crossing tile borders."""
    from photofix.models import defect_net

    rng = np.random.default_rng(11)
    h, w = shape
    image = (0.4 + 0.2 * rng.random((h, w, 3))).astype(np.float32)
    cv2.line(image, (0, h // 3), (w - 1, h // 2), (0.95, 0.95, 0.95), 2)
    whole = defect_net.input_features(defect_net.luminance(image))
    assert whole.shape == (h, w, defect_net.IN_CHANNELS)
    tiled = defect_net.TiledFeatures(image)
    for y0, x0, size in [(0, 0, 608), (452, 333, 608), (h - 150, w - 97, 300), (17, 3, 64)]:
        y0, x0 = max(0, min(y0, h - 1)), max(0, min(x0, w - 1))
        tile = tiled[y0 : y0 + size, x0 : x0 + size]
        np.testing.assert_allclose(tile, whole[y0 : y0 + size, x0 : x0 + size], atol=2e-5)


def test_the_step_record_names_the_detector_and_its_weights() -> None:
    """A detection step's record says which network ran: DefectNet, with its weights' SHA-256
    (that of the shipped file) and licence, where and at what tile size."""
    import hashlib

    from photofix.models import defect_net
    from photofix.ops.steps import StepRequest, run_step

    image = np.random.default_rng(0).random((96, 128, 3)).astype(np.float32)
    for name in ("detect-defects", "remove-defects"):
        record = run_step(StepRequest(REGISTRY.get(name)), Layers(image), OpContext()).record
        (model,) = record.to_dict()["models"]
        shipped = hashlib.sha256(defect_net.WEIGHTS.read_bytes()).hexdigest()
        assert (model["id"], model["sha256"], model["device"]) == ("defect-net", shipped, "cpu")
        assert "GPL" in model["licence"] and model["tile"] == 128


def test_detection_runs_defect_net_through_the_shared_runner() -> None:
    """DefectNet is one of the runner's models: loaded once and kept for the next detection
    (the window's second proposal starts at once), released with the others."""
    from photofix.inference.device import DevicePolicy
    from photofix.inference.runner import runner_for, unload_models
    from photofix.models import defect_net
    from photofix.ops.defects import defect_probabilities

    unload_models()
    runner = runner_for(defect_net.SPEC, DevicePolicy("cpu"))
    assert not runner.loaded
    image = np.random.default_rng(1).random((80, 90, 3)).astype(np.float32)
    prob = defect_probabilities(image, device=DevicePolicy("cpu"))
    assert prob.shape == (80, 90, 2) and prob.min() >= 0.0 and prob.max() <= 1.0
    assert runner.loaded and runner_for(defect_net.SPEC, DevicePolicy("cpu")) is runner
    unload_models()
    assert not runner_for(defect_net.SPEC, DevicePolicy("cpu")).loaded
