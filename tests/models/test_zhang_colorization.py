"""Auto colorization through the catalog path, with random weights in the published layout.

The real checkpoints cannot be downloaded here (no internet). These tests build the same
architecture with random weights, save it as the published files are saved (a plain state dict,
``torch.save``), serve it from 127.0.0.1, install it through the catalog's download path and
load it with the code the real weights need (``weights_only=True``, ``strict``).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

import numpy as np
import pytest
import torch

from photofix.core.chroma import chroma, luma
from photofix.core.errors import ChecksumMismatch, ModelMissing
from photofix.inference.runner import unload_models
from photofix.models import MODELS, zhang_colorization
from photofix.models import download as dl
from photofix.models.nets import zhang
from photofix.ops import Layers, OpContext
from photofix.ops import colorize as colorize_op
from photofix.ops.registry import run_operation

SMALL = 64  # a small working size keeps the CPU test fast (the real one is 256)


@pytest.fixture(autouse=True)
def _forget_loaded_models():
    """The random-weight networks must not stay in the shared model cache."""
    yield
    unload_models()


def _checkpoint(net: torch.nn.Module) -> bytes:
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    return buf.getvalue()


def _served_spec(base, body: bytes, url: str):
    weights = replace(
        base.weights, url=url, sha256=hashlib.sha256(body).hexdigest(), size=len(body)
    )
    return replace(base, weights=weights, extra={**base.extra, "work_size": SMALL})


@pytest.fixture(scope="module")
def siggraph17_checkpoint() -> bytes:
    torch.manual_seed(0)
    net = zhang.SIGGRAPH17()
    for m in net.modules():  # realistic BatchNorm statistics, not the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return _checkpoint(net)


def test_catalog_entries_record_source_checksum_size_and_licence():
    for spec in zhang_colorization.SPECS:
        assert MODELS[spec.id] is spec
        w = spec.weights
        assert isinstance(w, dl.DownloadWeights)
        assert w.url.startswith("https://") and w.url.endswith(w.filename)
        assert len(w.sha256) == 64 and int(w.sha256, 16) >= 0
        # torch.hub file names carry the first 8 hex digits of the SHA-256
        assert w.filename.rsplit("-", 1)[1].startswith(w.sha256[:8])
        assert "BSD-2-Clause" in spec.licence and spec.task == "colorize"


@pytest.mark.parametrize("net_cls, spec", [(zhang.SIGGRAPH17, zhang_colorization.SIGGRAPH17),
                                          (zhang.ECCV16, zhang_colorization.ECCV16)])  # fmt: skip
def test_architecture_matches_the_published_file_size(net_cls, spec):
    # 4 bytes per float32 parameter plus pickle overhead: a different layout (missing head,
    # no BatchNorm affine, other widths) would be megabytes off
    n_bytes = sum(t.numel() * t.element_size() for t in net_cls().state_dict().values())
    assert 0 < spec.weights.size - n_bytes < 100_000


def test_install_load_and_colorize_through_the_catalog(
    file_server, models_dir, siggraph17_checkpoint
):
    file_server.files["/siggraph17-df00044c.pth"] = siggraph17_checkpoint
    spec = _served_spec(
        zhang_colorization.SIGGRAPH17,
        siggraph17_checkpoint,
        file_server.url("/siggraph17-df00044c.pth"),
    )
    with pytest.raises(ModelMissing, match="photofix models install zhang-siggraph17"):
        spec.build(spec)
    dl.install(spec)
    net = spec.build(spec)  # torch.load(weights_only=True) + strict keys
    expected = torch.load(io.BytesIO(siggraph17_checkpoint), weights_only=True)
    for key, value in net.state_dict().items():
        assert torch.equal(value, expected[key]), key

    rng = np.random.default_rng(0)
    gray_level = (np.linspace(0.1, 0.9, 48)[:, None] * np.ones((1, 40))).astype(np.float32)
    gray_level += rng.uniform(-0.02, 0.02, gray_level.shape).astype(np.float32)
    gray = np.repeat(gray_level[..., None], 3, axis=2)
    ctx = OpContext()
    auto = colorize_op.colorize_auto(gray, spec, ctx)
    out = auto.render()
    assert out.shape == gray.shape and out.dtype == np.float32
    assert np.abs(luma(out) - gray_level).max() < 1e-5  # the tones are kept

    # a hint overrides the automatic colour at and around its place, not far away
    hints = np.zeros_like(gray)
    mask = np.zeros(gray.shape[:2], bool)
    hints[4:8, 4:8] = (0.9, 0.1, 0.1)
    mask[4:8, 4:8] = True
    hinted = colorize_op.colorize_auto(gray, spec, ctx, hints, mask)
    out_h = hinted.render()
    assert np.abs(luma(out_h) - gray_level).max() < 1e-5
    target = chroma(hints)[5, 5]
    np.testing.assert_allclose(hinted.chroma[mask], np.broadcast_to(target, (16, 2)), atol=1e-6)
    near = (slice(2, 10), slice(2, 10))
    err_auto = np.abs(auto.chroma[near] - target).mean()
    err_hint = np.abs(hinted.chroma[near] - target).mean()
    assert err_hint < 0.5 * err_auto
    far = (slice(40, 48), slice(30, 40))
    # far away: still the network's colour (it sees the hint too, so not bit-identical)
    assert np.abs(hinted.chroma[far] - auto.chroma[far]).mean() < 0.5 * err_auto


def test_auto_mode_as_an_operation_reports_a_missing_model(models_dir):
    gray = np.full((16, 16, 3), 0.5, np.float32)
    op = colorize_op.OPERATION
    with pytest.raises(ModelMissing, match="photofix models install zhang-eccv16"):
        run_operation(op, Layers(gray), {"mode": "auto", "model": "zhang-eccv16"}, OpContext())


def test_damaged_installed_weights_are_refused(tmp_path, models_dir):
    body = np.random.default_rng(1).bytes(10_000)
    spec = _served_spec(zhang_colorization.SIGGRAPH17, body, "http://127.0.0.1:9/")
    source = tmp_path / "copy.pth"
    source.write_bytes(body)
    path = dl.import_file(spec, source)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatch, match="reinstall"):
        spec.build(spec)
