"""Device policy: auto order, fp16 only on CUDA, explicit choices that are not available."""

from __future__ import annotations

import pytest

from photofix.core.errors import DeviceUnavailable
from photofix.inference import device
from photofix.inference.device import DevicePolicy, ResolvedDevice

torch = pytest.importorskip("torch")


@pytest.fixture
def machine(monkeypatch):
    """Simulate which accelerators this computer has: call with cuda=/mps= booleans."""

    def simulate(*, cuda: bool, mps: bool, bf16: bool = False) -> None:
        monkeypatch.setattr(device, "_cpu_bf16", lambda torch: bf16)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "NVIDIA H100")
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return simulate


@pytest.mark.parametrize(
    ("cuda", "mps", "kind", "name"),
    [
        (True, True, "cuda", "NVIDIA H100 (CUDA)"),
        (True, False, "cuda", "NVIDIA H100 (CUDA)"),
        (False, True, "mps", "Apple GPU (MPS)"),
        (False, False, "cpu", "CPU"),
    ],
)
def test_auto_prefers_cuda_then_mps_then_cpu(machine, cuda, mps, kind, name):
    machine(cuda=cuda, mps=mps)
    device = DevicePolicy().resolve()
    assert (device.kind, device.name) == (kind, name)


@pytest.mark.parametrize(
    ("preference", "half", "cuda", "mps", "dtype"),
    [
        ("auto", True, True, False, "float16"),
        ("cuda", True, True, False, "float16"),
        ("auto", False, True, False, "float32"),
        ("mps", True, False, True, "float32"),
        ("auto", True, False, False, "float32"),
        ("cpu", True, True, True, "float32"),
    ],
)
def test_half_precision_only_on_cuda_and_only_when_allowed(
    machine, preference, half, cuda, mps, dtype
):
    machine(cuda=cuda, mps=mps)
    assert DevicePolicy(preference, half_precision=half).resolve().dtype == dtype


def test_explicit_cpu_wins_over_an_available_gpu(machine):
    machine(cuda=True, mps=True)
    assert DevicePolicy("cpu").resolve() == ResolvedDevice("cpu")


@pytest.mark.parametrize(("preference", "words"), [("cuda", "CUDA"), ("mps", "MPS")])
def test_explicit_device_that_is_missing_says_what_to_do(machine, preference, words):
    machine(cuda=False, mps=False)
    with pytest.raises(DeviceUnavailable, match=words) as caught:
        DevicePolicy(preference).resolve()
    assert "choose Auto or CPU in Settings" in str(caught.value)


def test_bad_preference_is_a_readable_value_error():
    with pytest.raises(ValueError, match=r"'gpu'.*auto, cuda, mps, cpu"):
        DevicePolicy("gpu")


def test_cpu_fallback_is_float32_cpu():
    assert DevicePolicy().cpu() == ResolvedDevice("cpu", 0, "float32", "CPU")


def test_resolved_device_converts_to_torch_objects():
    assert ResolvedDevice("cpu").torch_device() == torch.device("cpu")
    assert ResolvedDevice("cuda", 1, "float16").torch_device() == torch.device("cuda", 1)
    assert ResolvedDevice("cuda", dtype="float16").torch_dtype() is torch.float16
    assert ResolvedDevice("cpu").torch_dtype() is torch.float32


def test_resolved_device_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="kind"):
        ResolvedDevice("tpu")


@pytest.mark.parametrize(("half", "dtype"), [(True, "bfloat16"), (False, "float32")])
def test_cpu_with_native_bf16_uses_it_only_when_reduced_precision_is_allowed(machine, half, dtype):
    machine(cuda=False, mps=False, bf16=True)
    for preference in ("auto", "cpu"):
        assert DevicePolicy(preference, half_precision=half).resolve().dtype == dtype
    assert DevicePolicy(half_precision=half).cpu().dtype == "float32"
