"""Tiles sized from an accelerator's free memory, and the out-of-memory chain through a runner.

No GPU here: a fake allocator charges what the runner's network actually saw (a forward hook
reads each tile's size), so the probe measures real runs; a "CUDA" device is simulated by
running its tensors on the CPU.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from photofix.core.progress import Progress
from photofix.inference.device import DevicePolicy, ResolvedDevice
from photofix.inference.runner import ModelRunner
from photofix.inference.tile_budget import SAFETY, MpsMemory, fit_tile, memory_for, probe_budget
from photofix.models.spec import ModelSpec, PackageWeights, Tiling

torch = pytest.importorskip("torch")

MB = 1 << 20


class FakeMemory:
    """An allocator whose peak is ``fixed + per_pixel · (largest input area since reset)``."""

    def __init__(self, free: int, per_pixel: float = 4096.0, fixed: float = 50 * MB) -> None:
        self.free, self.per_pixel, self.fixed = free, per_pixel, fixed
        self.largest = 0

    def seen(self, area: int) -> None:
        self.largest = max(self.largest, area)

    def free_bytes(self) -> int:
        return self.free

    def reset_peak(self) -> None:
        self.largest = 0

    def peak_bytes(self) -> int:
        return int(self.fixed + self.per_pixel * self.largest)


def _identity(spec: ModelSpec) -> torch.nn.Module:
    net = torch.nn.Conv2d(3, 3, 1, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.eye(3)[:, :, None, None])
    return net


def _runner(memory: FakeMemory, device: ResolvedDevice | None = None, oom_above: int = 0):
    spec = ModelSpec(
        id="budget-demo", title="demo", task="denoise", scale=1, licence="MIT",
        weights=PackageWeights("none", "none", ()), build=_identity,
        tiling=Tiling(tile=128, overlap=8, context=8, multiple=4), reduced_precision=False,
    )  # fmt: skip
    runner = ModelRunner(spec, device or DevicePolicy("cpu", half_precision=False).resolve())
    runner.memory = memory
    seen: list[int] = []

    def hook(_module, inputs):
        h, w = inputs[0].shape[-2:]
        if runner.device.kind != "cpu" and oom_above and h * w > oom_above:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        memory.seen(h * w)
        seen.append(max(h, w))

    runner.net().register_forward_pre_hook(hook)
    return runner, seen


def test_fit_tile_grows_with_free_memory_and_keeps_the_grid() -> None:
    small = fit_tile(8 << 30, 4096, context=16, multiple=4, align=2)
    large = fit_tile(80 << 30, 4096, context=16, multiple=4, align=2)
    assert 64 <= small < large <= 2048
    assert small % 4 == 0 and large % 4 == 0
    # the predicted peak of the chosen tile (its context included) fits the safety share
    assert (small + 32) ** 2 * 4096 <= SAFETY * (8 << 30)
    assert (small + 36) ** 2 * 4096 > SAFETY * (8 << 30)  # and the next step would not
    assert fit_tile(1 * MB, 4096, 900 * MB) == 64  # no room: the OOM path takes over
    assert fit_tile(1 << 40, 1.0) == 2048


def test_probe_recovers_the_memory_model() -> None:
    memory = FakeMemory(free=4 << 30, per_pixel=3000.0, fixed=80 * MB)
    budget = probe_budget(lambda edge: memory.seen((edge + 20) ** 2), memory, context=10)
    assert budget.bytes_per_pixel == pytest.approx(3000.0, rel=1e-3)
    assert budget.fixed_bytes == pytest.approx(80 * MB, rel=1e-3)
    predicted = budget.fixed_bytes + budget.bytes_per_pixel * (budget.tile + 20) ** 2
    assert predicted <= SAFETY * memory.free


def test_runner_sizes_tiles_to_the_card_and_the_output_is_unchanged() -> None:
    image = np.random.default_rng(1).random((900, 700, 3), dtype=np.float32)
    tiles = {}
    for name, free in (("laptop", 300 * MB), ("workstation", 3000 * MB)):
        runner, seen = _runner(FakeMemory(free))
        out = runner.run(image)
        assert np.array_equal(out, image)
        tiles[name] = runner.budget.tile
        ran = seen[2:]  # after the two probe runs
        assert max(ran) <= tiles[name] + 2 * 8 + 4  # tile + context (+ padding to the multiple)
    assert tiles["workstation"] > tiles["laptop"] != 128  # not the spec's constant


def test_cpu_runner_keeps_the_spec_tile() -> None:
    runner = ModelRunner(
        _runner(FakeMemory(1))[0].spec, DevicePolicy("cpu", half_precision=False).resolve()
    )
    assert runner.memory is None and runner.tile_size() == 128


def test_gpu_out_of_memory_halves_the_tile_then_falls_back_to_the_cpu(monkeypatch) -> None:
    """A simulated CUDA device whose real limit is below the fitted tile: the tiler halves the
    tile; with no tile small enough, the runner's CPU twin finishes the image, exactly."""
    monkeypatch.setattr(ResolvedDevice, "torch_device", lambda self: torch.device("cpu"))
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self: self)
    cuda = ResolvedDevice("cuda", 0, "float32", "Simulated GPU (CUDA)")
    image = np.random.default_rng(2).random((600, 500, 3), dtype=np.float32)
    progress = Progress()

    runner, seen = _runner(FakeMemory(2000 * MB), cuda, oom_above=200 * 200)
    out = runner.run(image, progress=progress)
    assert np.array_equal(out, image)
    assert any("retried with" in n for n in progress.notices)
    assert max(seen[2:]) <= 200

    progress = Progress()
    runner, _ = _runner(FakeMemory(2000 * MB), cuda, oom_above=16)  # nothing fits on the GPU
    out = runner.run(image, progress=progress)
    assert np.array_equal(out, image)
    assert any("fell back to the CPU" in n for n in progress.notices)


def test_mps_memory_and_per_op_fallback(monkeypatch) -> None:
    """Apple's MPS: ops it lacks fall back to the CPU per op (set before torch loads it), and
    its free memory is the recommended working set less what the driver holds."""
    assert os.environ.get("PYTORCH_ENABLE_MPS_FALLBACK") == "1"
    monkeypatch.setattr(torch.mps, "recommended_max_memory", lambda: 16 << 30, raising=False)
    monkeypatch.setattr(torch.mps, "driver_allocated_memory", lambda: 4 << 30, raising=False)
    memory = memory_for("mps")
    assert isinstance(memory, MpsMemory)
    assert memory.free_bytes() == 12 << 30
    assert memory_for("cpu") is None
