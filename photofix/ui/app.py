"""The PhotoFix window (a minimal viewer until the workspace issue lands) and its launcher."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
)

from photofix import __version__
from photofix.core import imageio
from photofix.core.errors import PhotoFixError
from photofix.ui.qimage import qimage_from_rgb

OPEN_FILTER = "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.bmp);;All files (*)"


class MainWindow(QMainWindow):
    """Shows one photograph with its size and bit depth in the status bar."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("PhotoFix")
        self.resize(1100, 800)
        self.loaded: imageio.LoadedImage | None = None
        self.view = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.view.setText("Open a scanned photograph (Ctrl+O)")
        scroll = QScrollArea()
        scroll.setWidget(self.view)
        scroll.setWidgetResizable(True)
        self.setCentralWidget(scroll)
        open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._on_open_requested)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        menu = self.menuBar().addMenu("&File")
        menu.addAction(open_action)
        menu.addAction(quit_action)
        self.statusBar().showMessage(f"PhotoFix {__version__}")

    def open_file(self, path: Path) -> bool:
        """Load and show ``path``; on failure show the reason and keep the current image."""
        try:
            loaded = imageio.load_image(path)
        except PhotoFixError as exc:
            QMessageBox.warning(self, "Cannot open image", str(exc))
            return False
        self.loaded = loaded
        pixmap = QPixmap.fromImage(qimage_from_rgb(loaded.rgb, loaded.alpha))
        self.view.setPixmap(pixmap)
        m = loaded.meta
        self.setWindowTitle(f"{path.name} — PhotoFix")
        self.statusBar().showMessage(
            f"{m.width} × {m.height} px · {m.bit_depth}-bit {m.source_mode} · {m.format}"
        )
        return True

    def _on_open_requested(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open image", "", OPEN_FILTER)
        if name:
            self.open_file(Path(name))


def run_gui(args: Sequence[str]) -> int:
    """Start the application, opening the files named in ``args`` (the first one for now)."""
    app = QApplication.instance() or QApplication([sys.argv[0], *args])
    app.setApplicationName("PhotoFix")
    app.setOrganizationName("PhotoFix")
    window = MainWindow()
    window.show()
    for arg in args:
        window.open_file(Path(arg))
        break
    if os.environ.get("PHOTOFIX_EXIT_AFTER_START"):  # smoke tests: show, then leave
        return 0
    return app.exec()
