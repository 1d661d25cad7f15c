"""Files and session safety: save/reload, the original is protected, export, prompts, recent
files, drag and drop, settings, autosave and crash recovery."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from photofix.core import imageio
from photofix.ops import REGISTRY
from photofix.resources import sample_scan
from photofix.ui.controller import PreviewRequest
from photofix.ui.settings import Settings

from .test_jobs import slow_operation

Button = QMessageBox.StandardButton


@pytest.fixture
def scan(tmp_path):
    """A copy of the sample scan (so tests may overwrite it)."""
    return shutil.copy(sample_scan(), tmp_path / "scan.jpg")


def paint(window, y: int = 40) -> None:
    c = window.controller
    c._on_stroke_started(QPointF(30, y))
    c._on_stroke_moved(QPointF(90, y))
    c._on_stroke_finished()


def apply_fade(window, qtbot) -> None:
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        window.controller.apply_operation(PreviewRequest(REGISTRY.get("fade"), {}))
    QApplication.processEvents()


def test_save_as_png_and_reload_gives_the_same_pixels(window, qtbot, scan, tmp_path) -> None:
    assert window.open_file(scan)
    apply_fade(window, qtbot)
    doc = window.controller.document
    assert doc.modified and window.isWindowModified()
    out = tmp_path / "restored.png"
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        window.save_to(out)
    QApplication.processEvents()
    assert not doc.modified and not window.isWindowModified()
    assert doc.path == out and "restored.png" in window.windowTitle()
    reloaded = imageio.load_image(out)
    assert np.array_equal(imageio.to_uint8(reloaded.rgb), imageio.to_uint8(doc.image))
    assert window.open_file(out)
    assert np.array_equal(
        imageio.to_uint8(window.controller.document.image), imageio.to_uint8(reloaded.rgb)
    )


def test_saving_over_the_original_asks_first(window, qtbot, answers, scan) -> None:
    assert window.open_file(scan)
    apply_fade(window, qtbot)
    original_bytes = scan.read_bytes()
    answers.replies = [Button.Cancel]
    window.actions["save"].trigger()
    assert "is the original scan" in answers.asked[0]
    assert scan.read_bytes() == original_bytes
    answers.replies = [Button.Discard]  # "Replace Original"
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        window.actions["save"].trigger()
    QApplication.processEvents()
    assert scan.read_bytes() != original_bytes
    assert not window.controller.document.modified


def test_export_jpeg_and_16_bit_tiff_leave_the_document_alone(window, qtbot, scan, tmp_path):
    assert window.open_file(scan)
    apply_fade(window, qtbot)
    doc = window.controller.document
    for name, fmt, depth in (("a.jpg", "JPEG", 8), ("b.tif", "TIFF", 16)):
        with qtbot.waitSignal(window.service.finished, timeout=20_000):
            window.save_to(tmp_path / name, format=fmt, bit_depth=depth, quality=80, as_copy=True)
        QApplication.processEvents()
        meta = imageio.read_info(tmp_path / name)
        assert meta.format == fmt and meta.bit_depth == depth
    assert doc.modified and doc.path == scan


def test_unsaved_changes_prompt_before_opening_another_file(window, qtbot, answers, scan):
    assert window.open_file(scan)
    paint(window)
    answers.replies = [Button.Cancel]
    window.request_open(sample_scan())
    assert window.controller.document.path == scan and "Save the changes" in answers.asked[0]
    answers.replies = [Button.Discard]
    with qtbot.waitSignal(window.controller.document_changed, timeout=10_000):
        window.request_open(sample_scan())
    assert window.controller.document.path == sample_scan()


def test_close_asks_about_unsaved_changes_and_a_running_job(window, qtbot, answers, scan):
    assert window.open_file(scan)
    paint(window)
    answers.replies = [Button.Cancel]
    assert not window.close()
    assert window.isVisible()
    window.controller.apply_operation(PreviewRequest(slow_operation(), {}))
    answers.replies = [Button.No]  # keep working
    assert not window.close()
    assert window.controller.busy()
    answers.replies = [Button.Yes, Button.Discard]  # cancel the job, discard the changes
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)
    assert [a.split(":")[0] for a in answers.asked] == [
        "Unsaved changes", "A job is running", "A job is running", "Unsaved changes",
    ]  # fmt: skip


def test_recent_files_and_tool_settings_persist(make_window, qtbot, scan) -> None:
    first = make_window()
    assert first.open_file(scan)
    first._on_brush_size_changed(77)
    first.actions["tool_eraser"].setChecked(True)
    first.actions["compare_horizontal"].setChecked(True)
    first.operations.select("upscale")
    first.operations.strength.setValue(60)
    first.controller.set_document(None)
    first._closing_confirmed = True
    first.close()
    second = make_window()
    assert second.settings.recent_files[0] == str(scan.resolve())
    assert second.recent_menu.actions()[0].text() == "scan.jpg"
    assert second.settings.last_folder == str(scan.parent.resolve())
    assert second.brush_spin.value() == 77 and second.view.tool == "eraser"
    assert second.view.compare_mode == "horizontal"
    assert second.operations.current_form().op.name == "upscale"
    assert second.operations.chooser.currentText() == "Upscale"
    assert second.operations.strength.value() == 60
    with qtbot.waitSignal(second.controller.document_changed, timeout=10_000):
        second.recent_menu.actions()[0].trigger()
    assert second.controller.document.path == scan


def test_settings_survive_a_damaged_value(tmp_path) -> None:
    from PySide6.QtCore import QSettings

    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings = Settings(brush_size=12, recent_files=["/a.tif"], overlay_visible=False)
    settings.save(store)
    store.setValue("feather", "not a number")
    loaded = Settings.load(store)
    assert loaded.brush_size == 12 and loaded.recent_files == ["/a.tif"]
    assert loaded.overlay_visible is False and loaded.feather == Settings().feather


def test_dropping_a_file_on_the_canvas_opens_it(window, qtbot, scan) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(scan))])
    vp = window.view.viewport()
    event = QDropEvent(
        QPointF(QPoint(50, 50)), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    with qtbot.waitSignal(window.controller.document_changed, timeout=10_000):
        window.view.dropEvent(event)
    assert vp is not None and window.controller.document.path == scan
    assert window.settings.recent_files[0] == str(scan.resolve())


def test_opening_in_the_background_reports_a_damaged_file(window, qtbot, answers, tmp_path):
    bad = tmp_path / "torn.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 20)
    with qtbot.waitSignal(window.service.failed, timeout=10_000):
        window.open_in_background(bad)
    QApplication.processEvents()
    assert window.controller.document is None
    assert answers.warnings and answers.warnings[0].startswith("Opening torn.tif failed: ")
    assert "torn.tif" in answers.warnings[0].split("failed: ", 1)[1]


def test_autosave_is_offered_back_after_a_crash(make_window, qtbot, answers, scan) -> None:
    first = make_window()
    assert first.open_file(scan)
    paint(first, 40)
    apply_fade(first, qtbot)
    paint(first, 80)
    doc = first.controller.document
    assert first.autosave_now()
    first.sessions.wait()
    assert first.sessions.exists()
    # "crash": the window goes away without its clean shutdown
    image, mask, labels = doc.image.copy(), doc.mask.copy(), [s.label for s in doc.history.steps]
    first.service.stop()

    second = make_window()
    answers.replies = [Button.Yes]
    assert second.offer_recovery()
    restored = second.controller.document
    assert np.array_equal(restored.image, image) and np.array_equal(restored.mask, mask)
    assert [s.label for s in restored.history.steps] == labels
    assert restored.modified and second.controller.original_path == scan
    assert "Recover" in answers.asked[0]
    second.actions["undo"].trigger()
    second.actions["undo"].trigger()
    assert np.array_equal(restored.image, restored.original)
    # a clean close removes the autosave: nothing is offered next time
    second._closing_confirmed = True
    second.close()
    assert not second.sessions.exists()


class _Planted:
    """What a planted autosave could hold: an object whose unpickling runs a function."""

    def __init__(self, folder) -> None:
        self.folder = str(folder)

    def __reduce__(self):
        import os

        return (os.mkdir, (self.folder,))


def test_a_planted_autosave_runs_no_code_and_is_refused(make_window, answers, tmp_path) -> None:
    import pickle

    window = make_window()
    marker = tmp_path / "ran"
    window.sessions.folder.mkdir(parents=True, exist_ok=True)
    window.sessions.path.write_bytes(pickle.dumps(_Planted(marker)))
    assert not window.offer_recovery()
    assert not marker.exists()  # os.mkdir was never called
    assert answers.warnings and "unreadable" in answers.warnings[0]
    assert "posix.mkdir" in answers.warnings[0] or "nt.mkdir" in answers.warnings[0]
    assert not window.sessions.exists() and window.controller.document is None


def test_save_as_keeps_the_source_scan_name_in_the_history(window, qtbot, scan, tmp_path) -> None:
    assert window.open_file(scan)
    apply_fade(window, qtbot)
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        window.save_to(tmp_path / "restored.tif")
    QApplication.processEvents()
    assert window.controller.document.path == tmp_path / "restored.tif"
    assert window.history.item(0).text() == "Opened scan.jpg"
    assert window.history.item(1).text().startswith("Fix fading")
