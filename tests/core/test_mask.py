"""Brush rasterisation and mask editing as the user sees them."""

from __future__ import annotations

import numpy as np

from photofix.core.mask import feather_weights, grow, paint_stroke


def test_dab_is_a_disc_of_the_brush_radius() -> None:
    mask = np.zeros((41, 41), bool)
    box = paint_stroke(mask, [(20, 20)], 10)
    yy, xx = np.mgrid[:41, :41]
    inside = (yy - 20) ** 2 + (xx - 20) ** 2 <= 9.5**2
    outside = (yy - 20) ** 2 + (xx - 20) ** 2 >= 10.5**2
    assert mask[inside].all() and not mask[outside].any()
    assert box[0] <= 10 and box[2] >= 31


def test_stroke_covers_the_segment_with_round_ends_and_eraser_removes() -> None:
    mask = np.zeros((50, 100), bool)
    paint_stroke(mask, [(10, 25), (90, 25)], 3)
    assert mask[25, 10:91].all() and mask[22:29, 50].all()
    assert not mask[20, 50] and not mask[25, 4]
    paint_stroke(mask, [(50, 25)], 5, value=False)
    assert not mask[25, 47:54].any() and mask[25, 40]


def test_stroke_outside_the_image_changes_nothing() -> None:
    mask = np.zeros((10, 10), bool)
    assert paint_stroke(mask, [(-50, -50)], 3) is None
    assert not mask.any()


def test_grow_shrink_and_feather() -> None:
    mask = np.zeros((31, 31), bool)
    mask[15, 15] = True
    grown = grow(mask, 3)
    assert grown.sum() > 20 and grown[15, 18] and not grown[15, 19]
    assert grow(grown, -3).sum() <= 5
    w = feather_weights(grow(mask, 8), 6)
    assert w.dtype == np.float32 and 0.9 < w[15, 15] <= 1 and w[0, 0] < 0.01
    assert 0.2 < w[15, 15 + 8] < 0.8  # soft at the edge
