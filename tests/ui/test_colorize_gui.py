"""Colorize through the window: paint two colour hints, apply, change saturation, undo."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from photofix.core.chroma import luma
from photofix.ops.colorize import LAST_SOLUTION
from tests.ui.test_workspace import drag, opened, view_point


def _gray(window) -> np.ndarray:
    doc = window.controller.document
    gray = np.repeat(doc.image.mean(axis=2, keepdims=True), 3, axis=2)
    doc.commit("Make gray", {"image": gray})
    return gray


def _apply(window, qtbot, saturation: float) -> None:
    panel = window.operations
    panel.select("colorize")
    form = panel.current_form()
    form.fields["mode"].set_value("hints")
    form.fields["saturation"].set_value(saturation)
    with qtbot.waitSignal(window.service.finished, timeout=60_000):
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()


def test_two_hints_colour_the_gray_scan_saturation_and_undo(window, qtbot) -> None:
    LAST_SOLUTION.clear()
    opened(window)
    doc = window.controller.document
    gray = _gray(window)
    vp = window.view.viewport()
    window.actions["tool_hint"].setChecked(True)
    window._set_hint_colour(QColor("#2050d0"))  # blue on the flag side (left)
    drag(vp, [view_point(window, 30, 100), view_point(window, 60, 110)])
    window._set_hint_colour(QColor("#e07020"))  # orange on the suit (bottom middle)
    drag(vp, [view_point(window, 230, 420), view_point(window, 260, 430)])
    assert doc.hint_mask[100, 45] and doc.hint_mask[425, 245]
    steps_before = len(doc.history.steps)

    _apply(window, qtbot, 1.0)
    coloured = doc.image.copy()
    assert len(doc.history.steps) == steps_before + 1
    b, r = coloured[105, 45], coloured[425, 245]
    assert b[2] > b[0] + 0.1 and r[0] > r[2] + 0.1  # each hint's colour where it was painted
    assert np.abs(luma(coloured) - luma(gray)).max() < 1 / 255  # tones untouched

    window.actions["undo"].trigger()  # try a softer colour: reuses the solved chroma
    _apply(window, qtbot, 0.5)
    soft = doc.image
    chroma_full = np.abs(coloured - coloured.mean(axis=2, keepdims=True)).mean()
    chroma_soft = np.abs(soft - soft.mean(axis=2, keepdims=True)).mean()
    assert 0.35 < chroma_soft / chroma_full < 0.65

    window.actions["undo"].trigger()
    assert np.array_equal(doc.image, gray) and doc.hint_mask[100, 45]
    window.actions["undo"].trigger()
    window.actions["undo"].trigger()  # both hint strokes gone
    assert not doc.hint_mask.any()
