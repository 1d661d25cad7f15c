"""The window's status bar: job progress, cursor position and colour, zoom, size, device.

A mixin of :class:`~photofix.ui.main_window.MainWindow`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel

from photofix import __version__

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from photofix.core.document import Document
    from photofix.ui.controller import WorkspaceController
    from photofix.ui.panels import JobStatusWidget, OperationsPanel


def pixel_info(doc: Document | None, pos: QPointF) -> tuple[int, int, tuple[int, ...]] | None:
    """(x, y, channel values at the source bit depth) under ``pos``, or None outside."""
    if doc is None:
        return None
    x, y = math.floor(pos.x()), math.floor(pos.y())
    w, h = doc.size
    if not (0 <= x < w and 0 <= y < h):
        return None
    full = 65535 if doc.meta is not None and doc.meta.bit_depth >= 16 else 255
    rgb = tuple(round(float(v) * full) for v in doc.image[y, x])
    return x, y, rgb


class StatusBar:
    """Builds the status bar and keeps it current (mixed into the main window)."""

    controller: WorkspaceController
    jobs: JobStatusWidget
    operations: OperationsPanel
    actions: dict[str, QAction]

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.zoom_label = QLabel()
        self.position_label = QLabel()
        self.colour_swatch = QLabel()
        self.colour_swatch.setFixedSize(14, 14)
        self.colour_label = QLabel()
        self.size_label = QLabel()
        self.device_label = QLabel()
        bar.addPermanentWidget(self.jobs)
        for w in (
            self.position_label,
            self.colour_swatch,
            self.colour_label,
            self.zoom_label,
            self.size_label,
            self.device_label,
        ):
            bar.addPermanentWidget(w)
        self.position_label.setMinimumWidth(110)
        self.colour_label.setMinimumWidth(150)
        bar.showMessage(
            f"PhotoFix {__version__} — open a scanned photograph (Ctrl+O) or drop one here"
        )

    def _on_zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %" if zoom >= 0.1 else f"{zoom * 100:.1f} %")

    def _on_cursor_moved(self, pos: QPointF) -> None:
        info = pixel_info(self.controller.document, pos)
        if info is None:
            self._on_cursor_left()
            return
        x, y, rgb = info
        self.position_label.setText(f"x {x}, y {y}")
        self.colour_label.setText("RGB " + " ".join(str(v) for v in rgb))
        full = 65535 if max(rgb) > 255 or self._bit_depth() >= 16 else 255
        colour = QColor(*(round(v * 255 / full) for v in rgb))
        self.colour_swatch.setStyleSheet(f"background: {colour.name()}; border: 1px solid #888;")

    def _bit_depth(self) -> int:
        doc = self.controller.document
        return 8 if doc is None or doc.meta is None else doc.meta.bit_depth

    def _on_cursor_left(self) -> None:
        self.position_label.setText("")
        self.colour_label.setText("")
        self.colour_swatch.setStyleSheet("")

    def _on_device_resolved(self, name: str) -> None:
        self.device_label.setText(f"Device: {name}")

    def _on_before_held(self, held: bool) -> None:
        if held:
            self.statusBar().showMessage("Showing the before image (release \\ to return)")
        else:
            self.statusBar().clearMessage()

    def _on_job_started(self, job_id: int, title: str) -> None:
        self.jobs.started(title)
        self.operations.set_busy(True)
        self.actions["cancel"].setEnabled(True)

    def _on_job_progress(self, job_id: int, fraction: float, eta: object, text: str) -> None:
        self.jobs.progressed(fraction, eta if isinstance(eta, float) else None, text)

    def _on_job_ended(self, job_id: int, outcome: str, text: str) -> None:
        if not self.controller.busy():
            self.jobs.ended()
            self.operations.set_busy(False)
            self.actions["cancel"].setEnabled(False)
