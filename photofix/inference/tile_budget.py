"""Tile size from the accelerator's free memory, measured rather than declared per model.

A model's memory per tile grows with the tile's area (activations dominate; the weights are a
fixed part). On a GPU the runner probes once: it runs one small tile and one twice its edge,
reads the allocator's peak for each, and fits ``peak = fixed + per_pixel · area``. The largest
tile whose predicted peak fits a share of the free memory is then used, so a 24 GB card gets
much larger tiles than an 8 GB laptop GPU, and a model that needs less per pixel gets larger
tiles than one that needs more. On the CPU the spec's tile is kept: system memory is rarely
what limits a CPU tile, and the spec's tile was chosen for cache locality.

No torch at import time: the CUDA and MPS probes import it when used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "CudaMemory",
    "DeviceMemory",
    "MpsMemory",
    "TileBudget",
    "fit_tile",
    "memory_for",
    "probe_budget",
]

#: share of the free memory a tile may use (the rest: allocator slack, the output copy, other
#: programs that allocate meanwhile)
SAFETY = 0.6
#: no tile above this edge: beyond it the per-tile overhead is already negligible and a single
#: tile's latency hurts cancel and progress
MAX_TILE = 2048


class DeviceMemory(Protocol):
    """What the probe needs from an accelerator's allocator (a fake in tests)."""

    def free_bytes(self) -> int: ...
    def reset_peak(self) -> None: ...
    def peak_bytes(self) -> int: ...


class CudaMemory:
    """CUDA's caching allocator: free memory as the driver reports it, peak per probe."""

    def __init__(self, index: int = 0) -> None:
        self.index = index

    def free_bytes(self) -> int:
        import torch

        free, _total = torch.cuda.mem_get_info(self.index)
        # memory torch holds in its cache but is not using is free for us too
        reserved = torch.cuda.memory_reserved(self.index)
        allocated = torch.cuda.memory_allocated(self.index)
        return int(free + max(0, reserved - allocated))

    def reset_peak(self) -> None:
        import torch

        torch.cuda.synchronize(self.index)
        torch.cuda.reset_peak_memory_stats(self.index)

    def peak_bytes(self) -> int:
        import torch

        torch.cuda.synchronize(self.index)
        return int(torch.cuda.max_memory_allocated(self.index))


class MpsMemory:
    """Apple's Metal allocator: no peak statistic, so the probe reads what is allocated after
    the tile's forward pass (the output still alive), a lower bound that SAFETY covers."""

    def __init__(self) -> None:
        self._base = 0

    def free_bytes(self) -> int:
        import torch

        recommended = int(torch.mps.recommended_max_memory())
        return max(0, recommended - int(torch.mps.driver_allocated_memory()))

    def reset_peak(self) -> None:
        import torch

        torch.mps.synchronize()
        self._base = int(torch.mps.current_allocated_memory())

    def peak_bytes(self) -> int:
        import torch

        torch.mps.synchronize()
        return max(0, int(torch.mps.current_allocated_memory()) - self._base)


def memory_for(kind: str, index: int = 0) -> DeviceMemory | None:
    """The allocator interface of a device kind ("cuda", "mps"); None for the CPU."""
    if kind == "cuda":
        return CudaMemory(index)
    if kind == "mps":
        return MpsMemory()
    return None


@dataclass(frozen=True)
class TileBudget:
    """A fitted memory model of one model on one device, and the tile it allows."""

    fixed_bytes: float
    bytes_per_pixel: float
    free_bytes: int
    tile: int


def fit_tile(
    free_bytes: int,
    bytes_per_pixel: float,
    fixed_bytes: float = 0.0,
    *,
    context: int = 0,
    multiple: int = 1,
    align: int = 1,
    min_tile: int = 64,
    max_tile: int = MAX_TILE,
    safety: float = SAFETY,
) -> int:
    """The largest tile edge whose predicted peak fits ``safety`` of ``free_bytes``.

    A tile of edge ``t`` is run as ``(t + 2·context)²`` pixels (its context read around it),
    so that is the area charged. The result is rounded down to a multiple of
    ``lcm(multiple, align)`` and kept within ``[min_tile, max_tile]``; below ``min_tile`` the
    tiler's out-of-memory path takes over.
    """
    if bytes_per_pixel <= 0:
        return max_tile
    usable = safety * free_bytes - max(0.0, fixed_bytes)
    if usable <= 0:
        return min_tile
    edge = math.isqrt(int(usable / bytes_per_pixel)) - 2 * context
    step = math.lcm(max(1, multiple), max(1, align))
    edge -= edge % step
    return int(min(max(edge, min_tile), max_tile))


def probe_budget(
    run_probe: Callable[[int], None],
    memory: DeviceMemory,
    *,
    context: int = 0,
    multiple: int = 1,
    align: int = 1,
    probe_edge: int = 64,
) -> TileBudget:
    """Measure peak memory of two probe tiles and fit the largest tile for the free memory.

    ``run_probe(edge)`` runs the model once on an ``edge×edge`` tile (context included in the
    area it reads: the probe passes ``edge + 2·context`` itself if it wants). Two sizes give the
    fixed part and the per-pixel slope; a negative fixed part (allocator rounding) counts as 0.
    """
    areas, peaks = [], []
    for edge in (probe_edge, 2 * probe_edge):
        memory.reset_peak()
        run_probe(edge)
        side = edge + 2 * context
        areas.append(side * side)
        peaks.append(memory.peak_bytes())
    slope = max((peaks[1] - peaks[0]) / (areas[1] - areas[0]), peaks[1] / areas[1] / 4)
    fixed = max(0.0, peaks[1] - slope * areas[1])
    free = memory.free_bytes()
    tile = fit_tile(free, slope, fixed, context=context, multiple=multiple, align=align)
    return TileBudget(fixed, slope, free, tile)
