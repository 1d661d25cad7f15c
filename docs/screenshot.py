"""Regenerate docs/screenshot.png: the workspace on the sample scan, half restored.

Drives the real window offscreen like a user: opens the sample scan, paints the mask over its
crease, applies "Fix fading" through the inference service, and splits the view before/after.
Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshot.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QSettings
from PySide6.QtWidgets import QApplication

from photofix.resources import sample_scan
from photofix.ui.app import make_application
from photofix.ui.main_window import MainWindow
from photofix.ui.session import SessionStore

OUT = Path(__file__).resolve().parent / "screenshot.png"
# the crease drawn by resources/samples/make_sample.py (image pixels)
CREASE = [(0, 358), (153, 317), (307, 337), (511, 281)]


def wait(window: MainWindow, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while (window.service.busy or window.controller._jobs) and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)
    QApplication.processEvents()


def main() -> None:
    app = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        store = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(store=store, sessions=SessionStore(Path(tmp)), probe_device=False)
        window.resize(1440, 900)
        window.show()
        app.processEvents()
        window.open_file(sample_scan())
        window.operations.live_preview.setChecked(False)
        c = window.controller
        window.actions["tool_brush"].setChecked(True)
        window._on_brush_size_changed(10)
        c._on_stroke_started(QPointF(*CREASE[0]))
        for point in CREASE[1:]:
            c._on_stroke_moved(QPointF(*point))
        c._on_stroke_finished()
        window.operations.select("fade")
        c.apply_operation(window.operations.request())
        wait(window)
        window.actions["compare_vertical"].setChecked(True)
        window.view.set_split(0.5)
        window.device_label.setText("Device: CPU")
        app.processEvents()
        window.grab().save(str(OUT))
        window._closing_confirmed = True
        window.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
