"""The window opens a scan and shows it; a bad file is refused with a message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from photofix.resources import sample_scan
from photofix.ui.app import MainWindow


def test_window_shows_the_sample_scan(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.open_file(sample_scan())
    pixmap = window.view.pixmap()
    assert (pixmap.width(), pixmap.height()) == (512, 512)
    assert "512 × 512" in window.statusBar().currentMessage()
    # the pixels shown are the file's pixels (faded sample: reddish, lifted blacks)
    colour = pixmap.toImage().pixelColor(256, 480)
    assert colour.red() > colour.blue()


def test_unreadable_file_is_refused_and_keeps_the_current_image(qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_file(sample_scan())
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG broken")
    assert not window.open_file(bad)
    assert shown and "broken.png" in shown[0]
    assert window.loaded is not None and window.loaded.path == sample_scan()


def test_app_starts_quickly_without_importing_torch(tmp_path) -> None:
    code = (
        "import sys, time; t = time.perf_counter();"
        "from photofix.__main__ import main; main([sys.argv[1]]);"
        "assert 'torch' not in sys.modules, 'torch imported at start-up';"
        "print(time.perf_counter() - t)"
    )
    env = {**os.environ, "PHOTOFIX_EXIT_AFTER_START": "1", "QT_QPA_PLATFORM": "offscreen"}
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(sample_scan())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert time.perf_counter() - t0 < 10  # generous: a loaded CI box; measured in benchmarks
    assert Path(sample_scan()).exists()
