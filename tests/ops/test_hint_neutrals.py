"""Colour hints keep off whites and blacks they are not painted on."""

from __future__ import annotations

import numpy as np

from photofix.core.chroma import chroma
from photofix.ops import REGISTRY, Layers, run_operation


def test_a_blue_hint_on_a_dress_leaves_the_white_blouse_white(photos) -> None:
    # a mid-grey dress (left) beside a white blouse (right) and a black belt (bottom)
    rng = np.random.default_rng(0)
    y = np.full((200, 300), 0.4, np.float32)
    y[:, 150:] = 0.92
    y[170:, :] = 0.05
    y += rng.normal(0, 0.01, y.shape).astype(np.float32)
    gray = np.repeat(np.clip(y, 0, 1)[..., None], 3, axis=2)
    hints = np.zeros_like(gray)
    mask = np.zeros(y.shape, bool)
    mask[60:70, 60:70] = True
    hints[mask] = (0.25, 0.35, 0.75)  # blue
    out = run_operation(
        REGISTRY.get("colorize"), Layers(gray, hints=hints, hint_mask=mask), {"mode": "hints"}
    ).image
    sat = np.linalg.norm(chroma(out), axis=2)
    assert sat[20:160, 20:140].mean() > 0.15  # the dress is blue
    assert sat[20:160, 170:280].mean() < 0.02  # the blouse stays white
    assert sat[180:, 20:280].mean() < 0.02  # and the belt black
    # a hint painted on the blouse itself still colours it
    mask2 = mask.copy()
    mask2[60:70, 220:230] = True
    hints[60:70, 220:230] = (0.95, 0.9, 0.75)  # cream
    out2 = run_operation(
        REGISTRY.get("colorize"), Layers(gray, hints=hints, hint_mask=mask2), {"mode": "hints"}
    ).image
    assert np.linalg.norm(chroma(out2), axis=2)[20:160, 170:280].mean() > 0.03
