"""FBCNN JPEG clean-up through the catalog path, with random weights in the published layout.

The real checkpoint (288 MB) cannot be downloaded here (no internet). These tests check the
architecture against the published file (its size, the upstream key names and shapes), then
build it with random weights, install that file the way a user imports a checkpoint (hash
checked), load it with the code the real weights need (``weights_only=True``, strict) and run
``jpeg-clean:model=fbcnn-color`` with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from photofix.core.errors import ModelMissing
from photofix.inference.runner import runner_for, unload_models
from photofix.models import MODELS, fbcnn
from photofix.models import download as dl
from photofix.models.nets.fbcnn import FBCNN
from photofix.ops import Layers, OpContext, jpeg_clean
from photofix.ops.registry import run_operation


@pytest.fixture(autouse=True)
def _forget_loaded_models():
    """The random-weight network must not stay in the shared model cache."""
    yield
    unload_models()


def test_catalog_entry_records_source_checksum_size_and_licence():
    spec = MODELS["fbcnn-color"]
    assert spec is fbcnn.COLOR and spec.task == "jpeg" and spec.scale == 1
    w = spec.weights
    assert isinstance(w, dl.DownloadWeights)
    assert w.url == "https://github.com/jiaxi-jiang/FBCNN/releases/download/v1.0/fbcnn_color.pth"
    assert len(w.sha256) == 64 and int(w.sha256, 16) >= 0
    assert "Apache-2.0" in spec.licence
    # tiles start on the JPEG 8×8 block grid
    assert spec.tiling.align == 8 and spec.tiling.context % 8 == 0


def test_architecture_matches_the_published_checkpoint():
    state = FBCNN().state_dict()
    # 4 bytes per float32 parameter plus the archive's few hundred bytes per tensor: one
    # residual block more or less would be 0.3–19 MB off
    n_bytes = sum(t.numel() * t.element_size() for t in state.values())
    assert 0 < fbcnn.COLOR.weights.size - n_bytes < 100_000
    # upstream's module tree (KAIR's sequential/ModuleList layout) gives these keys
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes["m_head.weight"] == (64, 3, 3, 3)
    assert shapes["m_down1.3.res.2.weight"] == (64, 64, 3, 3)
    assert shapes["m_down1.4.weight"] == (128, 64, 2, 2)  # stride-2 conv after 4 blocks
    assert shapes["m_up3.0.weight"] == (512, 256, 2, 2)  # transposed conv: in, out
    assert shapes["m_up1.4.res.0.bias"] == (64,)
    assert shapes["qf_pred.10.weight"] == (1, 512)
    assert shapes["qf_embed.4.weight"] == (512, 512)
    assert shapes["to_beta_1.0.weight"] == (64, 512)
    assert shapes["m_tail.weight"] == (3, 64, 3, 3)
    assert len(state) == 184


@pytest.fixture(scope="module")
def random_checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    net = FBCNN()
    with torch.no_grad():  # small weights keep the random 50-conv path in range
        for p in net.parameters():
            p.mul_(0.5)
    path = tmp_path_factory.mktemp("fbcnn") / "my_fbcnn_color.pth"
    torch.save(net.state_dict(), path)
    return path


def _installed(random_checkpoint: Path, monkeypatch) -> fbcnn.ModelSpec:
    body = random_checkpoint.read_bytes()
    weights = replace(fbcnn.COLOR_WEIGHTS, sha256=hashlib.sha256(body).hexdigest(), size=len(body))
    spec = replace(fbcnn.COLOR, weights=weights)
    monkeypatch.setitem(MODELS, spec.id, spec)
    with pytest.raises(ModelMissing, match="photofix models install fbcnn-color"):
        spec.build(spec)
    dl.import_file(spec, random_checkpoint)
    return spec


def test_jpeg_clean_with_fbcnn_reads_the_quality_and_cleans(
    random_checkpoint, models_dir, monkeypatch, tmp_path
):
    spec = _installed(random_checkpoint, monkeypatch)
    # the network the operation runs: torch.load(weights_only=True) + strict keys
    net = runner_for(spec, OpContext().device).net()
    expected = torch.load(random_checkpoint, weights_only=True)
    assert all(torch.equal(v, expected[k]) for k, v in net.state_dict().items())
    del expected

    rng = np.random.default_rng(3)
    rgb8 = (rng.uniform(0.2, 0.8, (72, 88, 3)) * 255).astype(np.uint8)
    path = tmp_path / "scan.jpg"
    Image.fromarray(rgb8).save(path, quality=30)
    with Image.open(path) as im:
        jpg = np.asarray(im.convert("RGB"), np.float32) / 255
    op = jpeg_clean.OPERATION

    def clean(layers: Layers, **params) -> tuple[np.ndarray, list[str]]:
        ctx = OpContext()
        out = run_operation(op, layers, {"model": "fbcnn-color", **params}, ctx)
        return out.image, ctx.progress.notices

    auto, notices = clean(Layers(jpg, source=path))
    assert auto.shape == jpg.shape and auto.dtype == np.float32
    assert np.isfinite(auto).all() and auto.min() >= 0 and auto.max() <= 1
    assert not np.array_equal(auto, jpg)
    assert notices == ["JPEG quality read from the file: 30"]
    # the quality steers the network: level 3 (quality 20) differs from the file's 30
    strong, _ = clean(Layers(jpg, source=path), level=3)
    assert np.abs(strong - auto).max() > 1e-4
    # the same as running the network directly at that quality (one tile here)
    with torch.no_grad():
        x = torch.from_numpy(jpg.transpose(2, 0, 1).copy())[None]
        ref = net(x, fbcnn.quality_input(30))[0][0].numpy().transpose(1, 2, 0)
    np.testing.assert_allclose(auto, np.clip(ref, 0, 1), atol=1e-5)

    # not from a JPEG file: the network's own estimate, once for the whole picture
    _, notices = clean(Layers(jpg))
    assert len(notices) == 1 and "estimated by FBCNN as quality" in notices[0]

    # a gray picture stays gray
    gray = np.repeat(jpg.mean(axis=2, keepdims=True), 3, axis=2)
    out, _ = clean(Layers(gray, source=path))
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


def test_fbcnn_missing_says_how_to_install(models_dir):
    jpg = np.full((16, 16, 3), 0.5, np.float32)
    with pytest.raises(ModelMissing, match="photofix models install fbcnn-color") as info:
        run_operation(jpeg_clean.OPERATION, Layers(jpg), {"model": "fbcnn-color", "level": 2},
                      OpContext())  # fmt: skip
    assert info.value.model_id == "fbcnn-color"
