"""Running a model: its I/O contract per tile, on the chosen device, through the one tiler.

A :class:`ModelRunner` owns one loaded network on one device. For every tile it applies the
reference border padding from the model's spec, pads to the size multiple the network needs,
converts to a tensor (fp16 on CUDA, bf16 autocast with channels-last on a CPU with native bf16,
when the device allows reduced precision and the spec supports it), runs, and crops back —
so callers hand over plain images and never pad. Whole images go through
:func:`photofix.inference.tiling.run_tiled`, which checks for cancellation per tile and, on
out-of-memory, retries smaller tiles and then this runner's CPU twin.

Image contract: float32 ``H×W×C`` in [0, 1] with C = the spec's channel count; the result is
float32 ``(s·H)×(s·W)×C``, clipped to [0, 1].
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

from photofix.core.progress import Progress
from photofix.core.recipe import ModelUse, current_facts
from photofix.inference.device import DevicePolicy, ResolvedDevice
from photofix.inference.tile_budget import (
    DeviceMemory,
    TileBudget,
    fit_tile,
    memory_for,
    probe_budget,
)
from photofix.inference.tiling import is_out_of_memory, run_tiled
from photofix.models.spec import ModelSpec, weights_sha256

if TYPE_CHECKING:
    import torch

_TORCH_PAD = {"reflect": "reflect", "replicate": "replicate"}


class ModelRunner:
    """One model loaded on one device (loaded on first use, then reused)."""

    def __init__(self, spec: ModelSpec, device: ResolvedDevice | None = None) -> None:
        self.spec = spec
        self.device = device if device is not None else DevicePolicy().resolve()
        self._net: torch.nn.Module | None = None
        self._lock = threading.Lock()
        self._cpu_twin: ModelRunner | None = None
        #: the accelerator's allocator, for tiles sized to its free memory (None on the CPU,
        #: where the spec's tile is kept)
        self.memory: DeviceMemory | None = memory_for(self.device.kind, self.device.index)
        self.budget: TileBudget | None = None

    # -- loading ------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._net is not None

    def net(self) -> torch.nn.Module:
        """The network, built on first call (thread-safe)."""
        with self._lock:
            if self._net is None:
                net = self.spec.build(self.spec)
                net.eval().requires_grad_(False)
                net = net.to(self.device.torch_device())
                if self._half:
                    net = net.half()
                if self._channels_last:
                    import torch

                    net = net.to(memory_format=torch.channels_last)
                if self.device.kind == "cuda":
                    import torch

                    # tiles repeat one size: let cuDNN pick its fastest kernels for it once
                    torch.backends.cudnn.benchmark = True
                self._net = net
            return self._net

    @property
    def _half(self) -> bool:
        return self.device.dtype == "float16" and self.spec.reduced_precision

    @property
    def _bf16(self) -> bool:
        return self.device.dtype == "bfloat16" and self.spec.reduced_precision

    @property
    def _channels_last(self) -> bool:
        """NHWC for reduced precision (oneDNN's bf16 and the tensor cores' fp16 kernels), and
        for a spec that asks for it in float32."""
        return self._half or self._bf16 or self.spec.channels_last

    # -- one tile -----------------------------------------------------------------------
    def process_tile(self, tile: np.ndarray, **options: Any) -> np.ndarray:
        """Run the network on one piece of image with the reference border handling.

        ``tile`` float32 h×w×C in [0, 1]; returns float32 (s·h)×(s·w)×C, not clipped (the tiler
        blends first). ``options`` go to the spec's ``forward`` (e.g. ``sigma`` for FFDNet).
        """
        import torch
        import torch.nn.functional as F

        spec, scale = self.spec, self.spec.scale
        h, w = tile.shape[:2]
        net = self.net()
        x = torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1)))[None]
        if self.device.kind == "cuda":
            # page-locked host memory lets the copy run by DMA beside the previous tile's work
            x = x.pin_memory().to(self.device.torch_device(), non_blocking=True)
        else:
            x = x.to(self.device.torch_device())
        if self._half:
            x = x.half()
        pad = spec.border.pixels
        if pad:
            mode = _TORCH_PAD[spec.border.mode]
            if mode == "reflect" and min(h, w) <= pad:  # too small to mirror: repeat the edge
                mode = "replicate"
            x = F.pad(x, (pad, pad, pad, pad), mode=mode)
        mult = spec.tiling.multiple
        extra_h, extra_w = (-x.shape[2]) % mult, (-x.shape[3]) % mult
        if extra_h or extra_w:
            mode = _TORCH_PAD[spec.tiling.pad_mode]
            if mode == "reflect" and min(x.shape[2] - extra_h, x.shape[3] - extra_w) <= max(
                extra_h, extra_w
            ):
                mode = "replicate"  # too small to mirror
            x = F.pad(x, (0, extra_w, 0, extra_h), mode=mode)
        with torch.inference_mode(), _autocast(torch, self._bf16, self.device.kind):
            if self._channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            y = spec.forward(net, x, **options) if spec.forward else net(x)
        crop = 0 if spec.border.consumed else pad * scale
        y = y[:, :, crop : crop + h * scale, crop : crop + w * scale]
        return y[0].float().permute(1, 2, 0).cpu().numpy()

    # -- whole images -------------------------------------------------------------------
    def run(
        self,
        image: np.ndarray,
        *,
        progress: Progress | None = None,
        tile: int | None = None,
        **options: Any,
    ) -> np.ndarray:
        """Process a whole image tile by tile (see the module's image contract)."""
        if image.ndim != 3 or image.shape[2] != self.spec.channels:
            raise ValueError(
                f"{self.spec.id} takes H×W×{self.spec.channels} images, got {image.shape}"
            )
        t = self.spec.tiling
        if self.spec.kind == "fixed-size":  # one pass at the size the caller prepared
            chosen, overlap = max(image.shape[:2]), 0
        else:
            chosen, overlap = tile or self.tile_size(**options), t.overlap
        if isinstance(image, np.ndarray):  # (else an array-like the tiler reads tile by tile)
            image = np.ascontiguousarray(image, np.float32)
        out = run_tiled(
            image,
            lambda piece: self.process_tile(piece, **options),
            scale=self.spec.scale,
            tile=chosen,
            overlap=overlap,
            context=t.context,
            align=t.align,
            progress=progress,
            on_oom=None if self.device.kind == "cpu" else lambda: self._cpu_fn(options),
        )
        self._report(chosen)
        if not self.spec.clip_output:
            return out
        return np.clip(out, 0.0, 1.0, out=out)

    def evaluate(self, image: np.ndarray, fn: Any) -> np.ndarray:
        """``fn(net, x)`` on the whole of ``image`` (float32 H×W×C, as a 1×C×H×W tensor on this
        runner's device and precision), for a network's side outputs (e.g. FBCNN's quality
        estimate); returns fn's tensor as float32 numpy. Recorded like :meth:`run`."""
        import torch

        net = self.net()
        x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), np.float32))[None]
        x = x.to(self.device.torch_device())
        if self._half:
            x = x.half()
        with torch.inference_mode(), _autocast(torch, self._bf16):
            y = fn(net, x)
        self._report(None)
        return y.float().cpu().numpy()

    @property
    def dtype(self) -> str:
        """The precision the network runs in here."""
        if self._half:
            return "float16"
        return "bfloat16" if self._bf16 else "float32"

    def _report(self, tile: int | None) -> None:
        """Tell the step being recorded (if any) which model ran, where, and how."""
        facts = current_facts()
        if facts is None:
            return
        device, dtype = self.device.kind, self.dtype
        tiling = facts.take_tiling()
        if tiling is not None:
            tile = tiling[0]
            if tiling[1] == "cpu":
                device, dtype = "cpu", "float32"
        spec = self.spec
        facts.model(
            ModelUse(spec.id, spec.task, weights_sha256(spec), spec.licence, device, dtype, tile)
        )

    def tile_size(self, **options: Any) -> int:
        """The tile edge to use: on an accelerator, the largest whose measured memory fits its
        free memory now (the memory model is probed once per runner; the free memory is read
        each time); on the CPU, the spec's tile."""
        t = self.spec.tiling
        if self.memory is None:
            return t.tile
        if self.budget is None:
            c = self.spec.channels

            def probe(edge: int) -> None:
                side = edge + 2 * t.context
                self.process_tile(np.zeros((side, side, c), np.float32), **options)

            try:
                self.budget = probe_budget(
                    probe, self.memory, context=t.context, multiple=t.multiple, align=t.align
                )
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                # too full even for the probe: the tiler's out-of-memory path takes it from here
                return t.tile
            return self.budget.tile
        return fit_tile(
            self.memory.free_bytes(),
            self.budget.bytes_per_pixel,
            self.budget.fixed_bytes,
            context=t.context,
            multiple=t.multiple,
            align=t.align,
        )

    def _cpu_fn(self, options: dict[str, Any]):
        if self._cpu_twin is None:
            self._cpu_twin = ModelRunner(self.spec, DevicePolicy("cpu").resolve())
        twin = self._cpu_twin
        return lambda piece: twin.process_tile(piece, **options)


def _autocast(torch: Any, bf16: bool, kind: str = "cpu") -> Any:
    """bfloat16 autocast on the device (oneDNN kernels on the CPU, tensor cores on CUDA), or
    nothing."""
    if bf16:
        return torch.autocast(kind, dtype=torch.bfloat16)
    return contextlib.nullcontext()


_RUNNERS: OrderedDict[tuple[str, ResolvedDevice], ModelRunner] = OrderedDict()
_RUNNERS_LOCK = threading.Lock()
MAX_LOADED_MODELS = 4


def runner_for(spec: ModelSpec, policy: DevicePolicy | None = None) -> ModelRunner:
    """A shared runner for ``spec`` on the device ``policy`` resolves to.

    Models load once and stay loaded (the few most recently used), so a second operation
    with the same model starts at once.
    """
    device = (policy or DevicePolicy()).resolve()
    key = (spec.id, device)
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(key)
        if runner is None:
            runner = _RUNNERS[key] = ModelRunner(spec, device)
            while len(_RUNNERS) > MAX_LOADED_MODELS:
                _RUNNERS.popitem(last=False)
        _RUNNERS.move_to_end(key)
        return runner


def unload_models() -> None:
    """Forget every loaded model (after the device setting changed, or to free memory)."""
    with _RUNNERS_LOCK:
        _RUNNERS.clear()
