"""``resize``: sizes from each way of asking, antialiased Lanczos, all layers follow."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.core.errors import OperationError
from photofix.ops import REGISTRY, Layers, run_operation
from photofix.ops.resize import resize_image, target_size


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"scale": 0.5}, (300, 200)),
        ({"width": 150}, (150, 100)),
        ({"height": 100}, (150, 100)),
        ({"long_edge": 1200}, (1200, 800)),
        ({"width": 10, "height": 10}, (10, 10)),
    ],
)
def test_target_size(params: dict, size: tuple[int, int]) -> None:
    assert target_size(600, 400, params) == size


def test_target_size_needs_exactly_one_request() -> None:
    with pytest.raises(OperationError, match="needs one of"):
        target_size(10, 10, {})
    with pytest.raises(OperationError, match="only one"):
        target_size(10, 10, {"scale": 2, "width": 5})


def test_downscale_is_antialiased() -> None:
    # a 1-px checkerboard must average to grey, not alias into a pattern
    yy, xx = np.mgrid[:200, :200]
    board = ((yy + xx) % 2).astype(np.float32)
    small = resize_image(board, (50, 50))
    assert abs(small.mean() - 0.5) < 0.01 and small.std() < 0.02


def test_resize_operation_moves_every_layer(photos) -> None:
    image = photos["chelsea"]
    h, w = image.shape[:2]
    mask = np.zeros((h, w), bool)
    mask[100:140, 200:260] = True
    alpha = np.ones((h, w), np.float32)
    out = run_operation(
        REGISTRY.get("resize"), Layers(image, alpha=alpha, mask=mask), {"scale": "2"}
    )
    assert out.image.shape == (2 * h, 2 * w, 3) and out.image.dtype == np.float32
    assert out.alpha.shape == (2 * h, 2 * w) and out.mask.shape == (2 * h, 2 * w)
    assert out.mask.dtype == bool and out.mask.sum() == 4 * mask.sum()
    assert out.image.min() >= 0.0 and out.image.max() <= 1.0
    # Lanczos x2 then area /2 is close to the original photograph
    back = resize_image(out.image, (w, h), "area")
    assert np.abs(back - image).mean() < 0.01
