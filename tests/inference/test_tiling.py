"""The tiler: exact round trips, context cropping, seamless blending, cancel, OOM, memory."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import photofix
from photofix.core.errors import Cancelled
from photofix.inference.progress import Progress
from photofix.inference.tiling import Tile, is_out_of_memory, run_tiled, tile_grid


class OutOfMemoryError(RuntimeError):
    """Stands in for torch.OutOfMemoryError, which is recognised by its class name."""


def random_image(height: int, width: int, channels: int | None = 3, seed: int = 0) -> np.ndarray:
    shape = (height, width) if channels is None else (height, width, channels)
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def identity(tile: np.ndarray) -> np.ndarray:
    return tile


def nearest_x2(tile: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(tile, 2, axis=0), 2, axis=1)


def box_mean(image: np.ndarray, radius: int) -> np.ndarray:
    """(2r+1)² mean with edge replication: a local filter whose border handling is its own."""
    padded = np.pad(image, ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    height, width = image.shape[:2]
    acc = np.zeros(image.shape, np.float64)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            acc += padded[dy : dy + height, dx : dx + width]
    return (acc / (2 * radius + 1) ** 2).astype(np.float32)


# -- geometry ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "width", "tile", "overlap"),
    [
        (1, 1, 512, 32),
        (7, 1001, 512, 32),
        (3000, 4000, 512, 32),
        (513, 100, 512, 32),
        (97, 61, 16, 5),
    ],
)
def test_tile_grid_covers_the_image_with_bounded_tiles_and_overlap(height, width, tile, overlap):
    tiles = tile_grid(height, width, tile, overlap, context=8)
    coverage = np.zeros((height, width), np.int32)
    for t in tiles:
        assert 0 < t.y1 - t.y0 <= tile and 0 < t.x1 - t.x0 <= tile
        assert (t.cy0, t.cx0) == (max(0, t.y0 - 8), max(0, t.x0 - 8))
        assert (t.cy1, t.cx1) == (min(height, t.y1 + 8), min(width, t.x1 + 8))
        coverage[t.y0 : t.y1, t.x0 : t.x1] += 1
    assert coverage.min() >= 1
    ys = sorted({(t.y0, t.y1) for t in tiles})
    xs = sorted({(t.x0, t.x1) for t in tiles})
    for spans in (ys, xs):
        assert spans[0][0] == 0
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end - start >= overlap


def test_tile_grid_is_in_raster_order():
    tiles = tile_grid(1000, 1500, 512, 32)
    assert tiles == sorted(tiles, key=lambda t: (t.y0, t.x0))
    assert tiles[0] == Tile(0, 0, tiles[0].y1, tiles[0].x1, 0, 0, tiles[0].y1, tiles[0].x1)


def test_tile_grid_rejects_overlap_not_smaller_than_tile():
    with pytest.raises(ValueError, match="overlap"):
        tile_grid(100, 100, 32, 32)


# -- exact round trips ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "width", "tile"), [(1, 1, 512), (7, 1001, 512), (3000, 4000, 512)]
)
@pytest.mark.parametrize("context", [0, 10])
def test_identity_round_trip_is_bit_exact(height, width, tile, context):
    image = random_image(height, width)
    result = run_tiled(image, identity, tile=tile, overlap=32, context=context)
    assert result.dtype == np.float32
    assert np.array_equal(result, image)


@pytest.mark.parametrize("channels", [None, 1, 4])
def test_identity_works_for_any_channel_count_and_2d_images(channels):
    image = random_image(150, 230, channels)
    result = run_tiled(image, identity, tile=64, overlap=8, context=3)
    assert result.shape == image.shape
    assert np.array_equal(result, image)


@pytest.mark.parametrize("context", [0, 6])
def test_nearest_upscale_by_two_matches_whole_image_exactly(context):
    image = random_image(301, 517)
    result = run_tiled(image, nearest_x2, scale=2, tile=128, overlap=16, context=context)
    assert np.array_equal(result, nearest_x2(image))


def test_output_channels_may_differ_from_input():
    gray = random_image(90, 200, 1)
    result = run_tiled(gray, lambda t: np.repeat(t, 3, axis=2), tile=64, overlap=8, out_channels=3)
    assert result.shape == (90, 200, 3)
    assert np.array_equal(result, np.repeat(gray, 3, axis=2))


def test_tile_function_gets_a_copy_it_may_modify():
    image = random_image(100, 300)
    before = image.copy()

    def scribble(tile):
        tile[...] = 0.5
        return tile

    run_tiled(image, scribble, tile=64, overlap=8)
    assert np.array_equal(image, before)


# -- context and blending ------------------------------------------------------------------


def test_context_makes_a_local_filter_match_the_whole_image():
    image = random_image(260, 390, seed=1)
    expected = box_mean(image, radius=2)
    result = run_tiled(image, lambda t: box_mean(t, 2), tile=96, overlap=8, context=2)
    assert np.abs(result - expected).max() < 1e-6
    # Without context the tile borders would show: the test above is not vacuous.
    seamy = run_tiled(image, lambda t: box_mean(t, 2), tile=96, overlap=8, context=0)
    assert np.abs(seamy - expected).max() > 1e-3


def _min_overlap(tiles: list[Tile]) -> int:
    rows = sorted({(t.y0, t.y1) for t in tiles})
    cols = sorted({(t.x0, t.x1) for t in tiles})
    return min(a[1] - b[0] for spans in (rows, cols) for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize(
    ("height", "width", "tile", "overlap", "scale"),
    [
        (400, 700, 128, 32, 1),
        (50, 1000, 512, 32, 1),
        (300, 333, 100, 12, 2),
        (800, 800, 512, 256, 1),
    ],
)
def test_blend_has_no_seams_between_tiles_that_disagree(height, width, tile, overlap, scale):
    """Tiles in a checkerboard add 0 or 1: the output must ramp between them, never jump."""
    grid = tile_grid(height, width, tile, overlap)  # the grid run_tiled uses, in call order
    rows = sorted({t.y0 for t in grid})
    cols = sorted({t.x0 for t in grid})
    tiles = iter(grid)

    def checkerboard_bias(piece):
        t = next(tiles)
        bias = np.float32((rows.index(t.y0) + cols.index(t.x0)) % 2)
        return np.repeat(np.repeat(piece, scale, axis=0), scale, axis=1) + bias

    image = np.zeros((height, width, 1), np.float32)
    result = run_tiled(image, checkerboard_bias, scale=scale, tile=tile, overlap=overlap)
    # A hard seam would jump by 1; a linear ramp across the overlap moves in steps of 1/(n+1).
    ramp_step = 1 / (_min_overlap(grid) * scale + 1)
    assert np.abs(np.diff(result, axis=0)).max() <= ramp_step + 1e-6
    assert np.abs(np.diff(result, axis=1)).max() <= ramp_step + 1e-6
    assert result.min() >= 0 and result.max() <= 1  # a weighted average, no overshoot
    assert result[0, 0, 0] == 0.0  # tiles' own parts are copied unchanged
    assert result.max() > 0.5  # the odd tiles did arrive


# -- progress and cancel ---------------------------------------------------------------------


def test_progress_updates_are_monotone_and_end_at_one():
    reports = []
    progress = Progress(reports.append)
    run_tiled(random_image(300, 300), identity, tile=64, overlap=8, progress=progress)
    fractions = [r.fraction for r in reports]
    assert len(fractions) == len(tile_grid(300, 300, 64, 8))
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


@pytest.mark.parametrize("k", [1, 3])
def test_cancel_during_tile_k_stops_before_the_next_tile(k):
    progress = Progress()
    calls = []

    def cancelling(tile):
        calls.append(1)
        if len(calls) == k:
            progress.cancel()
        return tile

    with pytest.raises(Cancelled):
        run_tiled(random_image(300, 300), cancelling, tile=64, overlap=8, progress=progress)
    assert len(calls) == k


def test_cancel_before_start_calls_nothing():
    progress = Progress()
    progress.cancel()
    calls = []
    with pytest.raises(Cancelled):
        run_tiled(random_image(10, 10), lambda t: calls.append(1) or t, progress=progress)
    assert calls == []


# -- out of memory ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OutOfMemoryError("boom"), True),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
        (RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"), True),
        (
            RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 GB"),
            True,
        ),
        (RuntimeError("shape mismatch"), False),
        (ValueError("bad value"), False),
        (MemoryError(), False),
    ],
)
def test_is_out_of_memory(exc, expected):
    assert is_out_of_memory(exc) is expected


def test_out_of_memory_shrinks_tiles_and_posts_a_notice():
    image = random_image(500, 700)
    sizes = []

    def picky(tile):
        sizes.append(max(tile.shape[:2]))
        if max(tile.shape[:2]) > 128:
            raise OutOfMemoryError("CUDA out of memory")
        return tile

    reports = []
    progress = Progress(reports.append)
    result = run_tiled(image, picky, tile=512, overlap=16, progress=progress, on_oom=None)
    assert np.array_equal(result, image)
    assert progress.notices == [
        "Out of memory with 512-px tiles; retried with 256-px tiles.",
        "Out of memory with 256-px tiles; retried with 128-px tiles.",
    ]
    final_pass = len(tile_grid(500, 700, 128, 16))
    assert len(sizes) > final_pass and max(sizes[-final_pass:]) <= 128
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_out_of_memory_at_the_smallest_tile_falls_back_to_the_cpu():
    image = random_image(300, 200)
    cpu_calls = []

    def always_oom(tile):
        raise OutOfMemoryError("CUDA out of memory")

    def cpu_identity(tile):
        cpu_calls.append(tile.shape)
        return tile

    progress = Progress()
    result = run_tiled(
        image, always_oom, tile=256, overlap=16, progress=progress, on_oom=lambda: cpu_identity
    )
    assert np.array_equal(result, image)
    assert "fell back to the CPU" in progress.notices[-1]
    assert len(cpu_calls) == len(tile_grid(300, 200, 256, 16))  # original tile size again


def test_out_of_memory_without_fallback_propagates():
    def always_oom(tile):
        raise OutOfMemoryError("CUDA out of memory")

    with pytest.raises(OutOfMemoryError):
        run_tiled(random_image(300, 300), always_oom, tile=256, on_oom=None)
    with pytest.raises(OutOfMemoryError):
        run_tiled(random_image(300, 300), always_oom, tile=256, on_oom=lambda: None)


def test_other_errors_propagate_unchanged():
    error = ValueError("the model does not accept this tile")
    calls = []

    def broken(tile):
        calls.append(1)
        raise error

    with pytest.raises(ValueError) as caught:
        run_tiled(random_image(300, 300), broken, tile=64, on_oom=lambda: identity)
    assert caught.value is error
    assert calls == [1]  # no retry


def test_wrong_output_shape_is_a_readable_error():
    with pytest.raises(ValueError, match="expected 40×60"):
        run_tiled(random_image(20, 30), identity, scale=2)


# -- memory ----------------------------------------------------------------------------------


def _peak_extra_bytes(size: int) -> int:
    image = random_image(size, size)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        result = run_tiled(image, identity, tile=256, overlap=32, context=8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start - result.nbytes


def test_extra_memory_depends_on_tile_size_not_image_size():
    # 480 = 2 and 2048 = 9 tiles of exactly 256 px per side with overlap 32, so the tiles match.
    small = _peak_extra_bytes(480)
    large = _peak_extra_bytes(2048)
    tile_bytes = (256 + 2 * 8) ** 2 * 3 * 4  # one tile with its context, float32 RGB
    assert abs(large - small) < tile_bytes
    assert large < 4 * tile_bytes  # a few tiles; one full-size temporary would be 48 MB


# -- layering --------------------------------------------------------------------------------


def test_importing_the_tiler_does_not_import_torch():
    code = "import photofix.inference.tiling, sys; assert 'torch' not in sys.modules"
    root = Path(photofix.__file__).resolve().parent.parent  # however photofix was found here
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env, timeout=60)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (97, 301), (513, 1030), (2000, 1501)])
def test_aligned_tiles_start_on_the_grid_and_stay_exact(height: int, width: int) -> None:
    rng = np.random.default_rng(7)
    image = rng.random((height, width, 3), dtype=np.float32)
    for t in tile_grid(height, width, 256, 16, context=8, align=2):
        assert t.y0 % 2 == 0 and t.x0 % 2 == 0 and t.cy0 % 2 == 0 and t.cx0 % 2 == 0
    out = run_tiled(image, lambda tile: tile, tile=256, overlap=16, context=8, align=2)
    assert np.array_equal(out, image)


def test_context_must_be_a_multiple_of_align() -> None:
    with pytest.raises(ValueError, match="multiple of align"):
        run_tiled(np.zeros((600, 600, 3), np.float32), lambda t: t, tile=256, context=5, align=2)
