"""An 8000 × 6000 16-bit scan opens, zooms and pans, and painting on it stays interactive:
only dirty rectangles are converted and repainted."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import tifffile
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from photofix.ui import display

W, H = 8000, 6000


@pytest.fixture(scope="module")
def big_tiff(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big16.tif"
    y = np.arange(H, dtype=np.uint32)[:, None]
    x = np.arange(W, dtype=np.uint32)[None, :]
    rgb = np.empty((H, W, 3), np.uint16)
    rgb[..., 0] = (x * 8) % 65536
    rgb[..., 1] = (y * 10) % 65536
    rgb[..., 2] = ((x + y) * 4) % 65536
    tifffile.imwrite(path, rgb, photometric="rgb")
    return path


@pytest.mark.slow
def test_big_16_bit_scan_opens_zooms_pans_and_paints_interactively(
    window, big_tiff, monkeypatch
) -> None:
    window.operations.live_preview.setChecked(False)
    started = time.perf_counter()
    assert window.open_file(big_tiff)
    opened_in = time.perf_counter() - started
    QApplication.processEvents()
    assert window.size_label.text() == "8000 × 6000 px · 16-bit RGB · TIFF"
    view, vp = window.view, window.view.viewport()
    assert view.zoom() < 0.2  # fitted

    # pixels on screen at 100 % are the file's pixels (16 → 8 bit)
    view.set_zoom(1.0)
    view.centerOn(5000, 3000)
    QApplication.processEvents()
    p = view.viewportTransform().map(QPointF(5000.5, 3000.5))
    c = vp.grab().toImage().pixelColor(math.floor(p.x()), math.floor(p.y()))
    expected = [(5000 * 8) % 65536, (3000 * 10) % 65536, (8000 * 4) % 65536]
    assert [c.red(), c.green(), c.blue()] == [round(v / 65535 * 255) for v in expected]

    # panning repaints only the exposed strip; each step stays quick
    pans = []
    for _ in range(10):
        t = time.perf_counter()
        view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 40)
        QApplication.processEvents()
        pans.append(time.perf_counter() - t)

    # paint with the mouse: nothing of the image is converted again, only the mask's boxes
    updates: list[tuple] = []
    original_update = display.DisplayPyramid.update

    def counting_update(self, rgb, box):
        updates.append(box)
        return original_update(self, rgb, box)

    monkeypatch.setattr(display.DisplayPyramid, "update", counting_update)
    window.actions["tool_brush"].setChecked(True)
    window._on_brush_size_changed(50)
    centre = vp.rect().center()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
    latencies = []
    for i in range(1, 40):
        t = time.perf_counter()
        QTest.mouseMove(vp, centre + QPoint(6 * i, 2 * i))
        QApplication.processEvents()  # includes repainting the dirty rectangle
        latencies.append(time.perf_counter() - t)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       centre + QPoint(234, 78))  # fmt: skip
    doc = window.controller.document
    assert doc.mask.any() and len(doc.history.steps) == 1
    assert updates == []
    step_box = doc.history.steps[0].patches[0].box
    assert (step_box[2] - step_box[0]) * (step_box[3] - step_box[1]) < 400 * 200

    # an edit of a small region converts only that region
    region = doc.image.copy()
    region[100:150, 200:260] = 0.5
    doc.commit("patch", {"image": region})
    assert updates == [(100, 200, 150, 260)]

    median_ms = 1000 * float(np.median(latencies))
    print(
        f"\n8000x6000 16-bit: opened in {opened_in:.1f} s; pan step median "
        f"{1000 * np.median(pans):.1f} ms; brush move + repaint median {median_ms:.1f} ms, "
        f"max {1000 * max(latencies):.1f} ms"
    )
    assert median_ms < 50  # generous: a loaded 2-core box
    window.actions["fit"].trigger()
    QApplication.processEvents()
    assert view.zoom() < 0.2
