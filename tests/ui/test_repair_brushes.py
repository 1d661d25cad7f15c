"""The spot healing brush (J) and the clone stamp (S), driven with the mouse."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from photofix.core import imageio
from photofix.core.mask import grow
from photofix.ops.patchmatch import inpaint_patch
from photofix.resources import sample_scan
from tests.ops.test_heal import dust_speck, masked_psnr

from .conftest import wait_idle
from .test_workspace import drag, view_point


def _open_dusty(window, tmp_path, centre=(300, 330)):
    clean = imageio.load_image(sample_scan()).rgb
    speck = dust_speck(clean.shape[:2], centre, 3)
    dusty = clean.copy()
    dusty[speck] = 0.93
    path = imageio.save_image(tmp_path / "dusty.png", dusty)
    assert window.open_file(path)
    wait_idle(window)
    window.view.set_zoom(2.0)
    window.view.centerOn(centre[1], centre[0])
    return clean, imageio.load_image(path).rgb, speck


def test_a_healing_stroke_removes_a_dust_speck_as_one_undo_step(window, tmp_path) -> None:
    clean, dusty, speck = _open_dusty(window, tmp_path)
    doc = window.controller.document
    QTest.keyClick(window.view, Qt.Key.Key_J)
    assert window.view.tool == "heal"
    window._on_brush_size_changed(14)
    steps = len(doc.history.steps)
    vp = window.view.viewport()
    drag(vp, [view_point(window, 328, 299), view_point(window, 331, 301)])
    assert len(doc.history.steps) == steps + 1, "one stroke, one step"
    assert doc.history.steps[-1].op == "heal"
    changed = np.any(doc.image != dusty, axis=2)
    assert changed.any() and not doc.mask.any(), "the mask layer is left alone"
    assert changed[speck].mean() > 0.9, "the speck was not covered"
    stroke = grow(changed, 0)
    ours = masked_psnr(doc.image, clean, stroke)
    patch = masked_psnr(inpaint_patch(dusty, stroke), clean, stroke)
    assert ours >= patch and ours > masked_psnr(dusty, clean, stroke) + 10
    window.actions["undo"].trigger()
    assert np.array_equal(doc.image, dusty)
    window.view.viewport().grab().save(str(tmp_path / "healed.png"))


def test_clone_stamp_alt_click_copies_the_source_exactly(window, tmp_path) -> None:
    _, dusty, _ = _open_dusty(window, tmp_path)
    doc = window.controller.document
    QTest.keyClick(window.view, Qt.Key.Key_S)
    assert window.view.tool == "clone"
    window._on_brush_size_changed(10)
    window._on_feather_changed(0.0)
    vp = window.view.viewport()
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier,
                     view_point(window, 280, 280))  # fmt: skip
    assert window.repair.source is not None and not len(doc.history.steps)
    QTest.mouseMove(vp, view_point(window, 330, 300))
    assert window.repair.source_item.isVisible()
    drag(vp, [view_point(window, 330, 300), view_point(window, 340, 300)])
    assert len(doc.history.steps) == 1 and doc.history.steps[-1].op == "clone"
    changed = np.any(doc.image != dusty, axis=2)
    ys, xs = np.nonzero(changed)
    assert len(ys) > 50
    # every changed pixel holds the source pixel 50 px left and 20 px up, exactly
    assert np.array_equal(doc.image[ys, xs], dusty[ys - 20, xs - 50])
    assert doc.history.steps[-1].params["dx"] == -50 and doc.history.steps[-1].params["dy"] == -20
    # aligned: the next stroke keeps the same distance to the source
    drag(vp, [view_point(window, 330, 360), view_point(window, 332, 360)])
    ys, xs = np.nonzero(np.any(doc.image != dusty, axis=2) & ~changed)
    assert len(ys) and np.array_equal(doc.image[ys, xs], dusty[ys - 20, xs - 50])
