"""The launcher of the PhotoFix window: ``photofix [FILE]``.

The window is shown before anything slow happens: torch is never imported here (the
inference service loads it on its own thread when a model or the device check needs it), and
the file named on the command line is opened right after the window appears.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from photofix.ui.icons import app_icon
from photofix.ui.logs import log, setup_logging
from photofix.ui.main_window import MainWindow

__all__ = ["MainWindow", "dark_palette", "run_gui"]


def dark_palette() -> QPalette:
    """A neutral dark grey palette, as image editors use (colours are judged against grey)."""
    p = QPalette()
    base, window, text = QColor(37, 37, 38), QColor(50, 50, 52), QColor(220, 220, 220)
    for role, colour in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor(45, 45, 47)),
        (QPalette.ColorRole.ToolTipBase, QColor(60, 60, 62)),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.Highlight, QColor(58, 110, 165)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.PlaceholderText, QColor(130, 130, 130)),
        (QPalette.ColorRole.Mid, QColor(150, 150, 150)),
    ):
        p.setColor(role, colour)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return p


GIL_SWITCH_INTERVAL_S = 0.001
"""While a job runs Python code on the service thread, the GUI thread waits for the GIL up to
this long per hand-over (Python's default is 5 ms; several waits per event made a 16 ms timer
tick every ~30 ms on a loaded 2-core box, against ~17 ms with 1 ms)."""


def make_application(args: Sequence[str] = ()) -> QApplication:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app = QApplication.instance() or QApplication([sys.argv[0], *args])
    assert isinstance(app, QApplication)
    app.setApplicationName("PhotoFix")
    app.setOrganizationName("PhotoFix")
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setWindowIcon(app_icon())
    return app


def run_gui(args: Sequence[str]) -> int:
    """Start the application and open the first file named in ``args``."""
    setup_logging()
    app = make_application(args)
    exit_after_start = bool(os.environ.get("PHOTOFIX_EXIT_AFTER_START"))
    window = MainWindow(probe_device=not exit_after_start)
    window.show()
    if exit_after_start:  # start-up test: report when the window is up, then leave quietly
        app.processEvents()
        log.info("window shown (%s)", app.platformName())
        print(f"photofix: window shown; torch loaded: {'torch' in sys.modules}", flush=True)
        if args:
            window.open_file(Path(args[0]))
        window.service.stop()
        return 0
    QTimer.singleShot(0, lambda: _start(window, args))
    return app.exec()


def _start(window: MainWindow, args: Sequence[str]) -> None:
    """Offer the autosaved session after a crash; otherwise open the file asked for."""
    if not window.offer_recovery() and args:
        window.open_in_background(Path(args[0]))
