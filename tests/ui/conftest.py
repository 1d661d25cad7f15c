"""Fixtures for driving the real window offscreen.

Every modal dialog is answered by the test (``answers``) or fails it: an unexpected dialog would
otherwise block an offscreen test forever. Settings and autosaves go to the test's folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from photofix.ui.app import make_application
from photofix.ui.main_window import MainWindow
from photofix.ui.session import SessionStore


class Answers:
    """Scripted replies to MainWindow.ask, and the warnings shown."""

    def __init__(self) -> None:
        self.replies: list[QMessageBox.StandardButton] = []
        self.asked: list[str] = []
        self.warnings: list[str] = []

    def ask(self, title, text, buttons, default, labels=None):
        self.asked.append(f"{title}: {text}")
        if not self.replies:
            raise AssertionError(f"unexpected question: {title}: {text}")
        return self.replies.pop(0)


@pytest.fixture
def answers(monkeypatch) -> Answers:
    a = Answers()
    monkeypatch.setattr(MainWindow, "ask", a.ask)
    monkeypatch.setattr(
        QMessageBox, "warning", lambda parent, title, text, *args: a.warnings.append(text)
    )
    return a


@pytest.fixture
def make_window(qtbot, tmp_path, answers) -> Iterator[Callable[..., MainWindow]]:
    make_application()
    windows: list[MainWindow] = []
    store_path = tmp_path / "settings.ini"
    sessions = SessionStore(tmp_path / "sessions")

    def make(**kwargs) -> MainWindow:
        store = QSettings(str(store_path), QSettings.Format.IniFormat)
        window = MainWindow(store=store, sessions=sessions, probe_device=False, **kwargs)
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:  # closed here, not by qtbot: an unsaved document would ask
        window._closing_confirmed = True
        window.close()
        window.service.stop()
        window.deleteLater()
    QApplication.processEvents()


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()


def wait_idle(window: MainWindow, timeout: float = 30.0) -> None:
    """Process events until no job (of any kind) is pending."""
    app = QApplication.instance()
    end = time.monotonic() + timeout
    while (window.service.busy or window.controller._jobs) and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()
    assert not window.service.busy, "a job did not finish in time"


def write_test_image(path: Path, rgb: np.ndarray, bit_depth: int = 8) -> Path:
    from photofix.core.imageio import save_image

    return save_image(path, rgb, bit_depth=bit_depth)
