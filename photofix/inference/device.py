"""Which compute device and precision the models run on.

The user's choice (Settings → Device) is a :class:`DevicePolicy`; :meth:`DevicePolicy.resolve`
turns it into a concrete :class:`ResolvedDevice`. torch is imported lazily, only when a policy is
resolved or a device is converted to torch objects, so the window can appear first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from photofix.core.errors import DeviceUnavailable

__all__ = ["DevicePolicy", "ResolvedDevice"]

# Apple's MPS backend lacks some operators; with this set (read when torch loads, which happens
# after this module is imported) each missing one runs on the CPU instead of failing the job.
os.environ.setdefault("PYTORCH_ENABLE_MPS_FALLBACK", "1")

_KINDS = ("cuda", "mps", "cpu")
_PREFERENCES = ("auto", *_KINDS)
_DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class ResolvedDevice:
    """A concrete device: ``kind`` is "cuda", "mps" or "cpu"; ``dtype`` the model precision
    ("float16" only on CUDA, "bfloat16" only on a CPU with native bf16, both only when reduced
    precision is allowed); ``name`` is for people."""

    kind: str
    index: int = 0
    dtype: str = "float32"
    name: str = "CPU"

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"device kind must be one of {', '.join(_KINDS)}, got {self.kind!r}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {self.dtype!r}")

    def torch_device(self) -> Any:
        """The ``torch.device`` for this device (imports torch)."""
        import torch

        if self.kind == "cuda":
            return torch.device("cuda", self.index)
        return torch.device(self.kind)

    def torch_dtype(self) -> Any:
        """The ``torch.dtype`` models should run in (imports torch)."""
        import torch

        return getattr(torch, self.dtype)


@dataclass(frozen=True)
class DevicePolicy:
    """The user's device choice: ``preference`` is "auto" (CUDA, then Apple MPS, then CPU),
    "cuda", "mps" or "cpu". ``half_precision`` allows reduced precision where it is fast and
    close: float16 on CUDA, bfloat16 on CPUs with native bf16 (AVX512-BF16 or AMX; measured on
    Real-ESRGAN: at most a few 8-bit levels from float32, 99.9 % within one). False gives the
    exact float32 path everywhere (tests, reproducible batch runs)."""

    preference: str = "auto"
    half_precision: bool = True

    def __post_init__(self) -> None:
        if self.preference not in _PREFERENCES:
            raise ValueError(
                f"Unknown device preference {self.preference!r}; "
                f"choose one of: {', '.join(_PREFERENCES)}."
            )

    def resolve(self) -> ResolvedDevice:
        """The device to use now.

        Raises :class:`~photofix.core.errors.DeviceUnavailable` when CUDA or MPS was asked for
        explicitly and is not available; "auto" never raises and ends at the CPU.
        """
        import torch

        if self.preference == "cpu":
            return self._cpu(torch)

        if self.preference in ("auto", "cuda") and torch.cuda.is_available():
            return self._cuda(torch)
        if self.preference in ("auto", "mps") and _mps_available(torch):
            return ResolvedDevice("mps", name="Apple GPU (MPS)")
        if self.preference == "cuda":
            raise DeviceUnavailable(
                "Settings asked for CUDA, but no CUDA GPU is available on this computer (or its "
                "driver is missing); choose Auto or CPU in Settings."
            )
        if self.preference == "mps":
            raise DeviceUnavailable(
                "Settings asked for the Apple GPU (MPS), but it is not available on this "
                "computer; choose Auto or CPU in Settings."
            )
        return self._cpu(torch)

    def cpu(self) -> ResolvedDevice:
        """The CPU fallback after a GPU ran out of memory (always float32)."""
        return ResolvedDevice("cpu", name="CPU")

    def _cpu(self, torch: Any) -> ResolvedDevice:
        if self.half_precision and _cpu_bf16(torch):
            return ResolvedDevice("cpu", dtype="bfloat16", name="CPU (bfloat16)")
        return self.cpu()

    def _cuda(self, torch: Any) -> ResolvedDevice:
        index = 0
        try:
            gpu = str(torch.cuda.get_device_name(index))
        except Exception:  # a name is cosmetic; never fail device selection over it
            gpu = "CUDA GPU"
        dtype = "float16" if self.half_precision else "float32"
        return ResolvedDevice("cuda", index, dtype, f"{gpu} (CUDA)")


def _mps_available(torch: Any) -> bool:
    """Whether Apple's Metal backend is usable (False on torch builds that lack it)."""
    is_available = getattr(getattr(torch.backends, "mps", None), "is_available", None)
    return bool(is_available()) if callable(is_available) else False


def _cpu_bf16(torch: Any) -> bool:
    """Whether this CPU computes bfloat16 natively (oneDNN says so)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
