"""Crop (C), straighten (L) and the white balance picker (I) on the canvas."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from photofix.core import imageio
from photofix.ops.tones import linear_to_srgb, srgb_to_linear

from .conftest import wait_idle
from .test_workspace import drag, opened, view_point


def test_crop_tool_crops_to_the_dragged_rectangle(window) -> None:
    opened(window)
    doc = window.controller.document
    before = doc.image.copy()
    QTest.keyClick(window.view, Qt.Key.Key_C)
    assert window.view.tool == "crop"
    window.view.fit()
    drag(window.view.viewport(), [view_point(window, 100, 50), view_point(window, 300, 250),
                                  view_point(window, 400, 350)])  # fmt: skip
    wait_idle(window)
    step = doc.history.steps[-1]
    assert step.op == "crop" and not doc.mask.any()
    p = step.params
    assert abs(p["left"] - 100) <= 2 and abs(p["top"] - 50) <= 2
    assert doc.image.shape[:2] == (p["height"], p["width"])
    assert np.array_equal(doc.image, before[p["top"]:p["top"] + p["height"],
                                             p["left"]:p["left"] + p["width"]])  # fmt: skip


def test_straighten_tool_levels_the_drawn_line(window) -> None:
    opened(window)
    doc = window.controller.document
    QTest.keyClick(window.view, Qt.Key.Key_L)
    window.view.fit()
    # a line rising 10 px over 200 px: about 2.9 degrees counter-clockwise to undo
    drag(window.view.viewport(), [view_point(window, 100, 300), view_point(window, 300, 290)])
    wait_idle(window)
    step = doc.history.steps[-1]
    assert step.op == "straighten"
    assert step.params["angle"] == pytest.approx(-np.degrees(np.arctan2(10, 200)), abs=0.4)
    assert doc.image.shape[0] < 512 and doc.image.shape[1] < 512  # cropped, no fill


def test_white_balance_picker_neutralises_the_clicked_grey(window, tmp_path, photos) -> None:
    image = photos["coffee"].copy()
    image[40:80, 40:80] = 0.5
    cast = linear_to_srgb(srgb_to_linear(image) * np.array([1.15, 1.0, 0.8], np.float32))
    assert window.open_file(imageio.save_image(tmp_path / "cast.png", cast))
    wait_idle(window)
    window.view.set_zoom(1.0)
    window.view.centerOn(60, 60)
    QTest.keyClick(window.view, Qt.Key.Key_I)
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, view_point(window, 60, 60))  # fmt: skip
    wait_idle(window)
    doc = window.controller.document
    assert doc.history.steps[-1].op == "white-balance"
    card = doc.image[50:70, 50:70].reshape(-1, 3).mean(axis=0)
    assert np.ptp(card) < 0.01


def test_grayscale_in_the_window_saves_one_channel_and_undo_restores_colour(
    window, tmp_path, qtbot
) -> None:
    from photofix.ops import REGISTRY
    from photofix.ui.controller import PreviewRequest

    opened(window)
    doc = window.controller.document
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        window.controller.apply_operation(PreviewRequest(REGISTRY.get("grayscale"), {}))
    wait_idle(window)
    assert doc.meta.grayscale
    window.save_to(tmp_path / "gray.png")
    wait_idle(window)
    info = imageio.read_info(tmp_path / "gray.png")
    assert info.grayscale and info.source_mode == "L"
    window.actions["undo"].trigger()
    assert not doc.meta.grayscale
