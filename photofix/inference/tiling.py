"""The one tiler every model runs through: overlap, context, feathered blend, cancel, OOM retry.

Image contract: the input is a float32 ``H×W×C`` array (any ``C``, including 1) or a float32
``H×W`` array, values in [0, 1]. The tile function gets float32 tiles of the same layout and
returns float32 ``(h·scale)×(w·scale)×C_out`` (or ``(h·scale)×(w·scale)`` for one channel). The
result is float32 ``(H·scale)×(W·scale)×C_out``; it is ``(H·scale)×(W·scale)`` when the input was
2-D and ``C_out`` is 1.

Blending. Tiles are written into the output in raster order with ``out += w * (tile - out)``
where earlier tiles already wrote and a plain copy elsewhere; no accumulation or weight buffer the
size of the image is needed. Along each axis a tile's own weight is a linear ramp across the part
earlier tiles wrote, rising from their side (1 where there is no earlier neighbour). ``w`` is
chosen so that the finished image is the separable feathered average ``Σ α_i(y)·β_j(x)·tile_ij``
of those ramps: in the overlap with the row above only, ``w`` is the vertical ramp; in the
overlap with the left neighbour only, the horizontal ramp; in the corner, their product; and in
the strip shared with both the row above and the next tile to the right, ``w`` is reduced so that
the next tile's blend leaves no seam (see :meth:`_TilingPass._blend`). When every tile reproduces
its input (``tile == out``) the difference is exactly zero, so an identity round trip is
bit-exact whatever the weights.

Memory. Beyond the input and the output buffer, the tiler allocates only tile-sized arrays.

No torch import here: torch is only looked up in ``sys.modules`` to free its cache after an
out-of-memory error.
"""

from __future__ import annotations

import ctypes
import functools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from photofix.core.progress import Progress
from photofix.core.recipe import current_facts

__all__ = ["Tile", "TileFn", "is_out_of_memory", "run_tiled", "tile_grid"]

TileFn = Callable[[np.ndarray], np.ndarray]
"""float32 ``h×w×C`` (or ``h×w``) in -> float32 ``(h·scale)×(w·scale)×C_out`` (or 2-D) out."""

_OOM_CLASS_NAMES = frozenset({"OutOfMemoryError"})
_OOM_MESSAGES = ("out of memory", "can't allocate memory")


@dataclass(frozen=True)
class Tile:
    """Geometry of one tile in input pixel coordinates (half-open ranges).

    ``y0:y1, x0:x1`` is the region the tile owns, overlap included; ``cy0:cy1, cx0:cx1`` is the
    region read for it: the owned region grown by the context and clamped to the image.
    """

    y0: int
    x0: int
    y1: int
    x1: int
    cy0: int
    cx0: int
    cy1: int
    cx1: int


def _axis_spans(length: int, tile: int, overlap: int, align: int = 1) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into the fewest spans of at most ``tile`` px overlapping by at least
    ``overlap`` px, all of one size (balanced, so no tiny last tile) and covering it exactly.

    With ``align`` > 1 every span starts at a multiple of ``align`` (for networks that work on
    polyphase sub-images, such as FFDNet); spans may then be up to ``align - 1`` px longer.
    """
    if length <= tile:
        return [(0, length)]
    overlap = min(overlap + align - 1, tile - 1)
    count = math.ceil((length - overlap) / (tile - overlap))
    # The smallest common size that still covers the axis with `overlap` between neighbours.
    size = math.ceil((length + (count - 1) * overlap) / count)
    # Starts spread evenly from 0 to length - size; each step is at most size - overlap.
    starts = [(i * (length - size)) // (count - 1) for i in range(count)]
    if align == 1:
        return [(start, start + size) for start in starts]
    return [
        (start - start % align, min(start - start % align + size + align - 1, length))
        for start in starts
    ]


def tile_grid(
    height: int, width: int, tile: int, overlap: int, context: int = 0, align: int = 1
) -> list[Tile]:
    """The tiles of a ``height×width`` image, in raster order (row by row, left to right).

    Tiles are at most ``tile×tile`` px, cover the image exactly, and neighbours overlap by at
    least ``overlap`` px (a little more where sizes do not divide evenly, more when the image is
    barely larger than a tile). Every tile of a row shares the row's vertical span, every tile of
    a column the column's horizontal span. ``context`` grows the read region (clamped).
    """
    rows, cols = _grid_spans(height, width, tile, overlap, context, align)
    return [_tile(row, col, context, height, width) for row in rows for col in cols]


def _grid_spans(
    height: int, width: int, tile: int, overlap: int, context: int, align: int = 1
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    if height < 1 or width < 1:
        raise ValueError(f"cannot tile an empty image ({height}×{width})")
    if tile < 1:
        raise ValueError(f"tile size must be at least 1 px, got {tile}")
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, tile), got overlap {overlap} with tile {tile}")
    if context < 0:
        raise ValueError(f"context must be non-negative, got {context}")
    if align < 1 or context % align:
        raise ValueError(f"context ({context}) must be a multiple of align ({align})")
    return _axis_spans(height, tile, overlap, align), _axis_spans(width, tile, overlap, align)


def _tile(
    row: tuple[int, int], col: tuple[int, int], context: int, height: int, width: int
) -> Tile:
    (y0, y1), (x0, x1) = row, col
    return Tile(
        y0, x0, y1, x1,
        max(0, y0 - context), max(0, x0 - context),
        min(height, y1 + context), min(width, x1 + context),
    )  # fmt: skip


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` means a device (or the CPU allocator of torch) ran out of memory.

    Recognises ``torch.OutOfMemoryError`` / ``torch.cuda.OutOfMemoryError`` by class name (no
    torch import) and errors whose message says "out of memory" (CUDA, "MPS backend out of
    memory") or "can't allocate memory" (torch's CPU allocator). Python's own ``MemoryError``
    is not counted: smaller tiles rarely cure it.
    """
    if any(cls.__name__ in _OOM_CLASS_NAMES for cls in type(exc).__mro__):
        return True
    message = str(exc).lower()
    return any(pattern in message for pattern in _OOM_MESSAGES)


def run_tiled(
    image: np.ndarray,
    fn: TileFn,
    *,
    scale: int = 1,
    tile: int = 512,
    overlap: int = 32,
    context: int = 0,
    out_channels: int | None = None,
    progress: Progress | None = None,
    min_tile: int = 64,
    on_oom: Callable[[], TileFn | None] | None = None,
    align: int = 1,
) -> np.ndarray:
    """Run ``fn`` over ``image`` tile by tile and blend the results into one image.

    Image contract: ``image`` is float32 ``H×W×C`` or ``H×W`` in [0, 1] (see the module
    docstring); the result is float32 ``(H·scale)×(W·scale)×C_out`` (2-D when the input was 2-D
    and ``C_out`` is 1). ``fn`` receives a fresh copy of each tile grown by ``context`` px of real
    image on every side that has pixels (it may modify it); it must return the tile scaled by
    ``scale`` with ``C_out`` channels. Border padding is the runner's job inside ``fn``.

    ``image`` may also be any object with ``ndim``, ``shape``, ``dtype`` and 2-D slicing that
    returns arrays (e.g. :class:`photofix.models.defect_net.TiledFeatures`, which computes
    a model's input tile by tile when asked): the tiler reads it tile by tile.

    ``out_channels`` preallocates the output (otherwise it is taken from the first tile).
    ``align`` makes every tile (and its context region) start at a multiple of ``align`` px.
    ``progress`` is checked for cancellation before every tile and updated after each.

    Out of memory (see :func:`is_out_of_memory`): the tiler frees torch's cache, halves the tile
    size and starts again, posting a notice; below ``min_tile`` it asks ``on_oom`` once for a
    CPU tile function and starts again with the original tile size on it. When neither helps,
    the out-of-memory error propagates. Every other error propagates unchanged.
    """
    if image.ndim not in (2, 3) or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"expected a non-empty H×W×C or H×W image, got shape {image.shape}")
    if image.dtype != np.float32:
        raise ValueError(f"expected a float32 image, got {image.dtype}")
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    if tile < 1 or min_tile < 1:
        raise ValueError(f"tile and min_tile must be positive, got {tile} and {min_tile}")
    if overlap < 0 or context < 0:
        raise ValueError(f"overlap and context must be non-negative, got {overlap} and {context}")
    if out_channels is not None and out_channels < 1:
        raise ValueError(f"out_channels must be positive, got {out_channels}")

    progress = progress if progress is not None else Progress()
    src = image if image.ndim == 3 else image[:, :, np.newaxis]
    height, width = src.shape[:2]
    pass_ = _TilingPass(src, scale, context, align, squeeze_input=image.ndim == 2)
    if out_channels is not None:
        pass_.allocate(out_channels)

    # No point trying tiles larger than the image: start from the size actually used.
    first_tile = min(tile, max(height, width))
    current_tile, current_fn, fallback_available = first_tile, fn, on_oom is not None
    pass_progress = progress
    while True:
        try:
            pass_.run(current_fn, current_tile, min(overlap, current_tile // 2), pass_progress)
            break
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            if current_tile // 2 >= min_tile:
                smaller = current_tile // 2
                message = (
                    f"Out of memory with {current_tile}-px tiles; retried with {smaller}-px tiles."
                )
                current_tile = smaller
            else:
                cpu_fn = on_oom() if fallback_available else None
                if cpu_fn is None:
                    raise
                fallback_available = False
                message = (
                    f"Out of memory even with {current_tile}-px tiles; fell back to the CPU "
                    "(slower)."
                )
                current_tile, current_fn = first_tile, cpu_fn
        # Outside the handler, so the failed attempt's frames (and tensors) are released first.
        _free_torch_cache()
        progress.notice(message)
        # A restart fills the rest of the bar instead of moving it backwards.
        pass_progress = progress.sub(progress.fraction, 1.0)

    facts = current_facts()
    if facts is not None:  # the step record keeps the tile size finally used
        facts.tiling(current_tile, "cpu" if current_fn is not fn else None)
    result = pass_.output
    _return_freed_memory()
    if image.ndim == 2 and result.shape[2] == 1:
        return result[:, :, 0]
    return result


def _return_freed_memory() -> None:
    """Give the tiles' freed scratch memory back to the system (glibc keeps freed blocks under
    its mmap threshold, up to 32 MB each, in the heap; a pass over a big image leaves ~0.1 GB
    there that the next full-size array would otherwise be added to). Elsewhere a no-op."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc only; musl and others lack it
    except (OSError, AttributeError):
        return None


class _TilingPass:
    """Writes tiles into one output buffer; can be run again (smaller tiles, other fn) over it."""

    def __init__(
        self, src: np.ndarray, scale: int, context: int, align: int, *, squeeze_input: bool
    ) -> None:
        self.src = src  # H×W×C view of the input
        self.scale = scale
        self.context = context
        self.align = align
        self.squeeze_input = squeeze_input
        self._output: np.ndarray | None = None

    @property
    def output(self) -> np.ndarray:
        assert self._output is not None, "a completed pass always allocates the output"
        return self._output

    def allocate(self, channels: int) -> None:
        height, width = self.src.shape[:2]
        self._output = np.empty((height * self.scale, width * self.scale, channels), np.float32)

    def run(self, fn: TileFn, tile: int, overlap: int, progress: Progress) -> None:
        height, width = self.src.shape[:2]
        rows, cols = _grid_spans(height, width, tile, overlap, self.context, self.align)
        total, done = len(rows) * len(cols), 0
        for i, row in enumerate(rows):
            vertical = _AxisWeights.of(rows, i, self.scale)
            for j, col in enumerate(cols):
                progress.check()
                tile_out = self._call(fn, _tile(row, col, self.context, height, width))
                horizontal = _AxisWeights.of(cols, j, self.scale)
                self._blend(
                    row[0] * self.scale, col[0] * self.scale, tile_out, vertical, horizontal
                )
                done += 1
                progress.update(done / total, f"Tile {done} of {total}")

    def _call(self, fn: TileFn, t: Tile) -> np.ndarray:
        """Run ``fn`` on the tile's context region and crop the context from its output."""
        piece = np.array(self.src[t.cy0 : t.cy1, t.cx0 : t.cx1], dtype=np.float32, copy=True)
        result = fn(piece[:, :, 0] if self.squeeze_input else piece)
        result = np.asarray(result, dtype=np.float32)
        if result.ndim == 2:
            result = result[:, :, np.newaxis]
        s = self.scale
        expected = ((t.cy1 - t.cy0) * s, (t.cx1 - t.cx0) * s)
        if result.ndim != 3 or result.shape[:2] != expected:
            raise ValueError(
                f"the tile function returned shape {result.shape} for a "
                f"{t.cy1 - t.cy0}×{t.cx1 - t.cx0} tile; "
                f"expected {expected[0]}×{expected[1]}×channels at scale {s}"
            )
        if self._output is None:
            self.allocate(result.shape[2])
        if result.shape[2] != self.output.shape[2]:
            raise ValueError(
                f"the tile function returned {result.shape[2]} channels; "
                f"expected {self.output.shape[2]}"
            )
        oy, ox = (t.y0 - t.cy0) * s, (t.x0 - t.cx0) * s
        return result[oy : oy + (t.y1 - t.y0) * s, ox : ox + (t.x1 - t.x0) * s]

    def _blend(
        self,
        y: int,
        x: int,
        tile_out: np.ndarray,
        vertical: _AxisWeights,
        horizontal: _AxisWeights,
    ) -> None:
        """Write ``tile_out`` at output position (y, x), feathering into what earlier tiles wrote.

        With ``ν`` this tile's vertical ramp, ``ω`` its horizontal one and ``ρ`` the share that
        later tiles of this row will leave it (``horizontal.remaining``), the blend weight is
        ``w = ν·ω·ρ / (1 − ν + ν·ρ)``: the running normalised average that ends at the separable
        feathered blend. Below the top strip (``ν = 1``) it is just ``ω``; without a right-hand
        neighbour (``ρ = 1``) it is ``ν·ω``.
        """
        h, w = tile_out.shape[:2]
        out = self.output[y : y + h, x : x + w]
        top, left = vertical.written, horizontal.written
        if top:  # the strip the row above wrote, full width
            nu = vertical.own[:top, np.newaxis, np.newaxis]
            rho = horizontal.remaining[np.newaxis, :, np.newaxis]
            omega = horizontal.own[np.newaxis, :, np.newaxis]
            weight = nu * omega * rho / (1 - nu + nu * rho)
            region = out[:top]
            region += weight * (tile_out[:top] - region)
        if left:  # the strip the left neighbour wrote, below the top strip
            omega = horizontal.own[np.newaxis, :left, np.newaxis]
            region = out[top:, :left]
            region += omega * (tile_out[top:, :left] - region)
        out[top:, left:] = tile_out[top:, left:]  # nothing written here yet: copy


@dataclass(frozen=True)
class _AxisWeights:
    """One tile's blend weights along one axis, in output pixels.

    ``own``: the weight of this tile against what earlier tiles along the axis wrote: a linear
    ramp over the first ``written`` pixels, 1 after. ``remaining``: the share later tiles along
    the axis will leave this one, ``Π (1 − own of each later tile)``, 1 where none reaches.
    """

    own: np.ndarray
    written: int
    remaining: np.ndarray

    @staticmethod
    def of(spans: list[tuple[int, int]], index: int, scale: int) -> _AxisWeights:
        start, end = spans[index]
        own, written = _own_weight(spans, index, scale)
        remaining = np.ones((end - start) * scale, np.float32)
        for later in range(index + 1, len(spans)):
            later_start, later_end = spans[later]
            if later_start >= end:
                break
            lo, n = (later_start - start) * scale, (min(end, later_end) - later_start) * scale
            remaining[lo : lo + n] *= 1 - _own_weight(spans, later, scale)[0][:n]
        return _AxisWeights(own, written, remaining)


def _own_weight(spans: list[tuple[int, int]], index: int, scale: int) -> tuple[np.ndarray, int]:
    """The ramp of span ``index`` over the pixels earlier spans wrote (their ends only grow)."""
    start, end = spans[index]
    own = np.ones((end - start) * scale, np.float32)
    written = max(0, spans[index - 1][1] - start) * scale if index else 0
    own[:written] = _ramp(written)
    return own, written


def _ramp(n: int) -> np.ndarray:
    """``n`` weights rising linearly from the earlier tile's side: (k+1)/(n+1) for k < n.

    Neither end reaches 0 or 1, so every step, including those into and out of the overlap, is
    the same 1/(n+1)."""
    return np.arange(1, n + 1, dtype=np.float32) / np.float32(n + 1)


def _free_torch_cache() -> None:
    """Return cached accelerator memory to the driver, if torch is loaded at all."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        mps = getattr(torch, "mps", None)
        backend = getattr(getattr(torch, "backends", None), "mps", None)
        if mps is not None and backend is not None and backend.is_available():
            mps.empty_cache()
    except Exception:  # freeing a cache must never hide the original problem
        pass
