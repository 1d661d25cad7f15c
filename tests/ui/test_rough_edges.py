"""Rough edges a new user hit: cancel, Open Recent, masks on disk, No Compare, help, models,
preview failures."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from photofix.core import imageio
from photofix.ops.registry import Layers, OpContext, Operation
from photofix.resources import sample_scan
from photofix.ui.controller import PreviewRequest
from photofix.ui.file_workflow import recent_labels
from photofix.ui.help_dialog import HelpDialog
from photofix.ui.models_dialog import ModelsDialog

from .conftest import wait_idle
from .test_workspace import opened


def _stubborn() -> Operation:
    """An operation that, like one big model tile, ignores cancel for 1.5 s."""

    def run(layers: Layers, params, ctx: OpContext) -> Layers:
        time.sleep(1.5)
        return layers.replace(image=layers.image * 0.5)

    return Operation("stubborn", "Stubborn darken", "test only", (), run, blendable=False)


def test_cancel_ends_an_operation_at_once_and_drops_its_late_result(window, qtbot) -> None:
    opened(window)
    doc = window.controller.document
    before = doc.image.copy()
    with qtbot.waitSignal(window.service.started, timeout=5_000):
        window.controller.apply_operation(PreviewRequest(_stubborn(), {}))
    qtbot.waitUntil(window.jobs.isVisible, timeout=5_000)
    t0 = time.perf_counter()
    QTest.keyClick(window.view, Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert time.perf_counter() - t0 < 0.5
    assert not window.jobs.isVisible() and not window.controller.busy()
    assert "cancelled" in window.statusBar().currentMessage()
    wait_idle(window)  # the service thread finishes the sleep; nothing is applied
    time.sleep(0.1)
    QApplication.processEvents()
    assert np.array_equal(doc.image, before) and not doc.history.steps


def test_cancel_button_says_cancelling_at_once(qtbot) -> None:
    from photofix.ui.panels import JobStatusWidget

    widget = JobStatusWidget()
    qtbot.addWidget(widget)
    widget.started("Saving scan.tif")
    with qtbot.waitSignal(widget.cancel_requested):
        widget.cancel_button.click()
    assert widget.eta.text() == "Cancelling…" and not widget.cancel_button.isEnabled()
    widget.progressed(0.5, 3.0, "Writing")
    assert widget.eta.text() == "Cancelling…"


def test_open_recent_tells_same_named_files_apart_and_lists_saves(window, tmp_path, qtbot) -> None:
    assert recent_labels(["/a/1950/a.png", "/a/1960/a.png", "/b/c.png"]) == [
        "a.png — 1950", "a.png — 1960", "c.png",
    ]  # fmt: skip
    assert recent_labels(["/x/box/a.png", "/y/box/a.png"]) == ["a.png — x/box", "a.png — y/box"]
    rgb = imageio.load_image(sample_scan()).rgb
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        imageio.save_image(tmp_path / folder / "a.png", rgb)
        assert window.open_file(tmp_path / folder / "a.png")
    wait_idle(window)
    texts = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert texts[:2] == ["a.png — two", "a.png — one"]
    window.save_to(tmp_path / "restored.png")

    def listed() -> None:
        assert window.recent_menu.actions()[0].text() == "restored.png"

    qtbot.waitUntil(listed, timeout=20_000)
    assert (tmp_path / "restored.png").is_file()


def test_masks_save_and_load_as_png_from_the_mask_menu(window, tmp_path) -> None:
    opened(window)
    doc = window.controller.document
    mask = np.zeros((512, 512), bool)
    mask[100:150, 200:260] = True
    doc.commit("Paint", {"mask": mask})
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Mask")
    names = [a.text() for a in menu.actions()]
    assert "Sa&ve Mask…" in names and "&Load Mask…" in names
    assert window.save_mask_to(tmp_path / "m.png")
    assert np.array_equal(imageio.load_mask(tmp_path / "m.png", (512, 512)), mask)
    window.controller.edit_mask("clear")
    assert not doc.mask.any()
    steps = len(doc.history.steps)
    assert window.load_mask_from(tmp_path / "m.png")
    assert np.array_equal(doc.mask, mask) and len(doc.history.steps) == steps + 1
    window.actions["undo"].trigger()
    assert not doc.mask.any()


def test_no_compare_has_a_shortcut(window) -> None:
    opened(window)
    window.actions["compare_side"].setChecked(True)
    assert window.view.compare_mode == "side"
    QTest.keyClick(window.view, Qt.Key.Key_N)
    assert window.view.compare_mode == "off" and window.actions["compare_off"].isChecked()


def test_f1_opens_the_shortcut_sheet_and_help_offers_the_models_dialog(window) -> None:
    QTest.keyClick(window, Qt.Key.Key_F1)
    sheet = window.findChild(HelpDialog)
    assert sheet is not None and sheet.isVisible()
    rows = dict((does, keys) for keys, does in sheet.rows())
    assert rows["Spot Healing Brush"] == "J" and rows["Clone Stamp"] == "S"
    assert rows["No Compare"] == "N"
    sheet.close()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "&Models…").trigger()
    dialog = window.findChild(ModelsDialog)
    assert dialog is not None and dialog.isVisible() and dialog.table.rowCount() >= 10
    dialog.close()


def test_a_failed_preview_is_a_status_note_not_an_error(window, answers, qtbot) -> None:
    opened(window)
    window.operations.select("colorize")
    form = window.operations.current_form()
    form.fields["mode"].set_value("hints")  # no hint painted: the preview cannot run
    window.operations.live_preview.setChecked(True)
    deadline = time.monotonic() + 10
    while "No preview" not in window.statusBar().currentMessage() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    assert "No preview" in window.statusBar().currentMessage()
    assert not answers.warnings
