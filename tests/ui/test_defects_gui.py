"""Dust and scratch repair through the real window, as a user does it (issue 5).

The sample scan has synthetic dust, scratches and a crease. Find them (the proposal lands on
the mask layer as its own step), touch the mask up with the brush and the eraser on the canvas,
fill it, then undo every step with Ctrl+Z. "Remove dust and scratches" shows its mask to be
checked (and edited) before it fills anything.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from photofix.core.imageio import to_uint8
from photofix.ops import REGISTRY, Layers, run_operation
from photofix.ui.main_window import MainWindow
from tests.ui.test_workspace import drag, opened, overlay_rgb, view_point


def apply(qtbot, window: MainWindow, name: str, **values) -> None:
    """Pick ``name`` in the operations panel, set its fields, click Apply and wait for the job
    (on the controller's own signal: silent jobs never reach it)."""
    panel = window.operations
    panel.select(name)
    for key, value in values.items():
        panel.current_form().fields[key].set_value(value)
    with qtbot.waitSignal(window.controller.job_ended, timeout=60_000) as blocker:
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert blocker.args[1] == "finished", blocker.args
    QApplication.processEvents()


def shown(window: MainWindow, x: int, y: int) -> tuple[int, int, int]:
    """The colour on screen at image pixel (x, y), brought into view at 100 %."""
    window.view.centerOn(float(x), float(y))
    QApplication.processEvents()
    c = window.view.viewport().grab().toImage().pixelColor(view_point(window, x, y))
    return c.red(), c.green(), c.blue()


def stroke(window: MainWindow, tool: str, size: int, points: list[tuple[int, int]]) -> None:
    """A real drag with ``tool`` over image pixels ``points`` (mouse events on the canvas)."""
    window.actions[f"tool_{tool}"].setChecked(True)
    window.brush_spin.setValue(size)
    xs, ys = zip(*points, strict=True)
    window.view.centerOn((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    QApplication.processEvents()
    drag(window.view.viewport(), [view_point(window, x, y) for x, y in points])


def clean_run(mask: np.ndarray, length: int, margin: int) -> tuple[int, int]:
    """(y, x) starting a horizontal run of ``length`` px with no mask within ``margin``."""
    h, w = mask.shape
    for y in range(margin + 20, h - margin - 20, 7):
        band = mask[y - margin : y + margin + 1].any(axis=0)
        for x in range(margin + 20, w - length - margin - 20, 11):
            if not band[x - margin : x + length + margin].any():
                return y, x
    raise AssertionError("no clean area for the brush stroke")


def undo_key(window: MainWindow) -> None:
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def rows(window: MainWindow) -> list[str]:
    return [window.history.item(i).text() for i in range(window.history.count())]


@pytest.fixture
def scan(window) -> MainWindow:
    opened(window)
    window.activateWindow()
    window.view.setFocus()
    return window


def test_detect_touch_up_fill_then_undo_every_step(scan, qtbot) -> None:
    window = scan
    doc = window.controller.document
    original, empty = doc.image.copy(), doc.mask.copy()
    assert not empty.any()
    states = [(original, empty)]

    # 1. detection proposes a mask, as a step of its own; the image is untouched
    apply(qtbot, window, "detect-defects")
    proposal = doc.mask.copy()
    assert 0.005 < proposal.mean() < 0.10, proposal.mean()
    assert np.array_equal(doc.image, original)
    assert rows(window)[1] == "Find dust and scratches — sensitivity 0.5, kinds dust,scratches"
    states.append((doc.image.copy(), proposal))
    window.controller.mask_overlay.setOpacity(1.0)
    y, x = np.argwhere(proposal)[len(np.argwhere(proposal)) // 2]
    assert shown(window, x, y) == overlay_rgb(window)

    # 2. the brush adds a stroke where nothing was found (mouse drag on the canvas)
    by, bx = clean_run(proposal, 40, margin=8)
    stroke(window, "brush", 9, [(bx, by), (bx + 20, by), (bx + 40, by)])
    painted = doc.mask.copy()
    assert painted[by, bx : bx + 41].all() and not painted[by - 8, bx + 20]
    assert np.array_equal(painted & proposal, proposal)  # nothing of the proposal was lost
    states.append((doc.image.copy(), painted))

    # 3. the eraser takes a found speck or piece of scratch away again
    ey, ex = next(
        (int(py), int(px))
        for py, px in np.argwhere(proposal)
        if abs(int(py) - by) > 30 and 30 < px < 480 and 30 < py < 480
    )
    stroke(window, "eraser", 15, [(ex - 4, ey), (ex + 4, ey)])
    edited = doc.mask.copy()
    assert not edited[ey, ex] and (proposal & ~edited).any()
    assert not (edited & ~painted).any()  # it only erased
    assert edited[by, bx + 20]  # the brush stroke stays
    states.append((doc.image.copy(), edited))
    assert np.array_equal(doc.image, original)

    # 4. fill the edited mask (the default texture engine)
    apply(qtbot, window, "inpaint", engine="patch")
    filled = doc.image.copy()
    assert np.array_equal(filled[~edited], original[~edited])  # outside: bit for bit
    changed = np.any(filled != original, axis=2)
    assert changed[edited].mean() > 0.9, changed[edited].mean()
    assert not changed[~edited].any()
    assert np.array_equal(doc.mask, edited)
    states.append((filled, edited.copy()))
    # the brush stroke's pixels were filled too; the erased speck was not
    assert changed[by, bx : bx + 41].any() and not changed[ey, ex]
    assert rows(window) == [
        "Opened sample_scan.jpg",
        "Find dust and scratches — sensitivity 0.5, kinds dust,scratches",
        "Mask stroke",
        "Mask stroke",
        "Fill the masked damage — engine patch",
    ]
    assert window.history.currentRow() == 4
    # the canvas shows the fill (overlay hidden to see the pixels)
    window.actions["overlay"].setChecked(False)
    fy, fx = np.argwhere(changed & (np.abs(filled - original).max(axis=2) > 0.1))[0]
    assert shown(window, fx, fy) == tuple(int(v) for v in to_uint8(filled[fy, fx]))

    # 5. Ctrl+Z back through every step: image and mask as they were, bit for bit
    for i in range(len(states) - 1, 0, -1):
        undo_key(window)
        image, mask = states[i - 1]
        assert np.array_equal(doc.image, image), f"image after undoing step {i}"
        assert np.array_equal(doc.mask, mask), f"mask after undoing step {i}"
        assert window.history.currentRow() == i - 1
    assert np.array_equal(doc.image, doc.original) and not doc.mask.any()
    assert not window.actions["undo"].isEnabled() and not doc.modified
    assert shown(window, fx, fy) == tuple(int(v) for v in to_uint8(original[fy, fx]))


def review_shown(window: MainWindow) -> bool:
    return window.operations.review.isVisible()


def test_remove_defects_shows_the_mask_and_fills_it_when_accepted(scan, qtbot) -> None:
    window = scan
    c, doc = window.controller, window.controller.document
    original = doc.image.copy()
    window.actions["overlay"].setChecked(False)

    apply(qtbot, window, "remove-defects", engine="fast")
    # the mask is shown for checking; nothing is filled yet
    assert review_shown(window) and c.reviewing()
    assert "brush" in window.operations.review_note.text()
    assert np.array_equal(doc.image, original)
    proposal = doc.mask.copy()
    assert proposal.any()
    assert window.actions["overlay"].isChecked()  # shown again, whatever it was
    c.mask_overlay.setOpacity(1.0)
    y, x = np.argwhere(proposal)[0]
    assert shown(window, x, y) == overlay_rgb(window)
    assert rows(window)[1] == (
        "Remove dust and scratches: mask to check — sensitivity 0.5, kinds dust,scratches,"
        " fill confident"
    )

    with qtbot.waitSignal(c.job_ended, timeout=60_000):
        qtbot.mouseClick(window.operations.accept_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert not review_shown(window) and not c.reviewing()
    # the same pixels as the one-step operation (the CLI's remove-defects)
    op = REGISTRY.get("remove-defects")
    headless = run_operation(op, Layers(original.copy()), op.resolve({"engine": "fast"}))
    assert np.array_equal(doc.mask, headless.mask)
    assert np.array_equal(doc.image, headless.image)
    assert np.array_equal(doc.image[~proposal], original[~proposal])
    assert not np.array_equal(doc.image, original)
    assert rows(window)[2] == "Fill the masked damage — engine fast"

    undo_key(window)
    assert np.array_equal(doc.image, original) and np.array_equal(doc.mask, proposal)
    undo_key(window)
    assert np.array_equal(doc.image, original) and not doc.mask.any()


def test_remove_defects_mask_can_be_edited_before_the_fill(scan, qtbot) -> None:
    window = scan
    c, doc = window.controller, window.controller.document
    original = doc.image.copy()

    apply(qtbot, window, "remove-defects", engine="fast")
    assert review_shown(window)
    proposal = doc.mask.copy()
    # "Not now" keeps the mask unfilled; Undo of the proposal ends a review too
    qtbot.mouseClick(window.operations.dismiss_button, Qt.MouseButton.LeftButton)
    assert not review_shown(window) and np.array_equal(doc.mask, proposal)
    assert np.array_equal(doc.image, original)
    apply(qtbot, window, "remove-defects", engine="fast")  # the same mask: no new step
    assert review_shown(window) and len(doc.history.steps) == 1

    # edit while the review waits: erase part of the proposal, paint a missed spot
    ey, ex = (int(v) for v in np.argwhere(proposal[40:470, 40:470])[0] + 40)
    stroke(window, "eraser", 11, [(ex - 3, ey), (ex + 3, ey)])
    by, bx = clean_run(proposal, 30, margin=8)
    stroke(window, "brush", 7, [(bx, by), (bx + 30, by)])
    edited = doc.mask.copy()
    assert not edited[ey, ex] and edited[by, bx + 15]
    assert review_shown(window), "editing the mask keeps it waiting for the fill"
    assert [s.label for s in doc.history.steps][1:] == ["Mask stroke", "Mask stroke"]

    with qtbot.waitSignal(c.job_ended, timeout=60_000):
        qtbot.mouseClick(window.operations.accept_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert not review_shown(window)
    changed = np.any(doc.image != original, axis=2)
    assert not changed[~edited].any()  # the erased pixels too: bit for bit
    assert changed[edited].mean() > 0.9 and changed[by, bx : bx + 31].any()
    assert np.array_equal(doc.mask, edited)

    for _ in range(4):
        undo_key(window)
    assert np.array_equal(doc.image, original) and not doc.mask.any()
    assert not review_shown(window)


def test_undo_or_another_image_change_ends_the_review(scan, qtbot, answers) -> None:
    window = scan
    c, doc = window.controller, window.controller.document
    apply(qtbot, window, "remove-defects", engine="fast")
    assert review_shown(window)
    undo_key(window)
    assert not review_shown(window) and not c.reviewing() and not doc.mask.any()
    assert c.accept_review() is None and not answers.warnings
    assert np.array_equal(doc.image, doc.original)
    # the proposal was made for the image as it was: a change of the image ends it
    apply(qtbot, window, "remove-defects", engine="fast")
    assert review_shown(window)
    apply(qtbot, window, "fade")
    assert not review_shown(window) and doc.mask.any()
    assert [s.label for s in doc.history.steps] == [
        "Remove dust and scratches: mask to check",
        "Fix fading",
    ]
