"""ModelRunner's I/O contract and the shared runner cache, with tiny real torch networks."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.inference.device import DevicePolicy
from photofix.inference.runner import ModelRunner, runner_for, unload_models
from photofix.models.spec import Border, ModelSpec, PackageWeights, Tiling

torch = pytest.importorskip("torch")
EXACT = DevicePolicy("cpu", half_precision=False)
builds: list[str] = []


def _nearest_x2(spec: ModelSpec) -> torch.nn.Module:
    """A network whose output is known exactly: nearest-neighbour ×2 as a transposed conv."""
    builds.append(spec.id)
    net = torch.nn.ConvTranspose2d(3, 3, 2, stride=2, groups=3, bias=False)
    with torch.no_grad():
        net.weight.fill_(1.0)
    return net


def _spec(border: Border, model_id: str = "demo") -> ModelSpec:
    return ModelSpec(
        id=model_id, title="demo", task="upscale", scale=2, licence="MIT",
        weights=PackageWeights("none", "none", ()), build=_nearest_x2,
        tiling=Tiling(tile=32, overlap=4, context=4), border=border,
    )  # fmt: skip


@pytest.mark.parametrize("border", [Border(), Border("reflect", 3), Border("replicate", 5)])
def test_runner_pads_and_crops_so_callers_never_do(border: Border) -> None:
    image = np.random.default_rng(0).random((45, 70, 3), dtype=np.float32)
    out = ModelRunner(_spec(border), EXACT.resolve()).run(image)
    assert np.array_equal(out, image.repeat(2, axis=0).repeat(2, axis=1))


def test_runner_rejects_the_wrong_channel_count() -> None:
    with pytest.raises(ValueError, match=r"H×W×3"):
        ModelRunner(_spec(Border()), EXACT.resolve()).run(np.zeros((8, 8, 1), np.float32))


def test_models_load_once_and_unload_on_request() -> None:
    unload_models()
    builds.clear()
    spec = _spec(Border(), "cached-demo")
    image = np.zeros((8, 8, 3), np.float32)
    runner_for(spec, EXACT).run(image)
    runner_for(spec, EXACT).run(image)
    assert builds == ["cached-demo"] and runner_for(spec, EXACT).loaded
    unload_models()
    assert not runner_for(spec, EXACT).loaded
