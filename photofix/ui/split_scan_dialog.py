"""File ▸ Split Scan into Prints…: review the prints found on a flatbed scan, adjust the
detection, and save the ones you keep, each upright and cropped.

The page is shown with every detected print outlined and numbered; each print is listed with
its size, tilt and a thumbnail, ticked to be saved. Threshold and inset find the prints again
at once. Saving writes ``<stem>-1``, ``<stem>-2``, ... into the chosen folder in the scan's
format and bit depth, with its ICC profile and DPI (the CLI's ``--op split-scan`` does the
same), never over the scan itself.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photofix.core import imageio
from photofix.core.errors import PhotoFixError
from photofix.ops.registry import Layers
from photofix.ops.split_scan import PrintBox, extract, find_prints
from photofix.ui.qimage import qimage_from_rgb

PAGE_SIDE = 560
THUMB = 96
_SUFFIX = {"PNG": ".png", "TIFF": ".tif", "JPEG": ".jpg", "WEBP": ".webp"}


def _pixmap(rgb: np.ndarray, side: int) -> tuple[QPixmap, float]:
    h, w = rgb.shape[:2]
    f = min(1.0, side / max(h, w))
    small = rgb if f == 1.0 else cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))),
                                            interpolation=cv2.INTER_AREA)  # fmt: skip
    return QPixmap.fromImage(qimage_from_rgb(np.ascontiguousarray(small))), f


class SplitScanDialog(QDialog):
    """Review, adjust and save the prints on a scanned page (see the module docstring)."""

    def __init__(self, layers: Layers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Split Scan into Prints")
        self.layers = layers
        self.boxes: list[PrintBox] = []
        self.parts: list[Layers] = []
        self.saved: list[Path] = []
        self._page, self._scale = _pixmap(layers.image, PAGE_SIDE)
        layout = QHBoxLayout(self)
        self.page = QLabel()
        self.page.setMinimumSize(self._page.size())
        self.page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.page, 3)
        side = QVBoxLayout()
        layout.addLayout(side, 2)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        side.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setIconSize(self._thumb_size())
        self.list.itemChanged.connect(self._sync_buttons)
        side.addWidget(self.list, 1)
        form = QFormLayout()
        self.auto_threshold = QCheckBox("auto")
        self.auto_threshold.setChecked(True)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 1.0)
        self.threshold.setSingleStep(0.01)
        self.threshold.setValue(0.08)
        self.threshold.setEnabled(False)
        self.threshold.setToolTip("How different from the scanner lid a pixel must be to count")
        row = QHBoxLayout()
        row.addWidget(self.threshold, 1)
        row.addWidget(self.auto_threshold)
        form.addRow("Threshold", row)
        self.inset = QDoubleSpinBox()
        self.inset.setRange(0, 100)
        self.inset.setValue(1.0)
        self.inset.setSuffix(" px")
        self.inset.setToolTip("Cut this far inside each print's edge, so no backdrop shows")
        form.addRow("Inset", self.inset)
        side.addLayout(form)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save Ticked Prints…")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._on_save_clicked)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        side.addLayout(buttons)
        self.auto_threshold.toggled.connect(self._on_threshold_mode)
        self.threshold.valueChanged.connect(self.detect)
        self.inset.valueChanged.connect(self.detect)
        self.resize(1000, 640)
        self.detect()

    @staticmethod
    def _thumb_size() -> QSize:
        return QSize(THUMB, THUMB)

    # -- detection -----------------------------------------------------------------------------
    def _on_threshold_mode(self, auto: bool) -> None:
        self.threshold.setEnabled(not auto)
        self.detect()

    def detect(self, *_: object) -> None:
        """Find the prints again with the current settings."""
        threshold = None if self.auto_threshold.isChecked() else self.threshold.value()
        self.boxes = find_prints(self.layers.image, threshold)
        self.parts = [extract(self.layers, b, self.inset.value()) for b in self.boxes]
        self.list.blockSignals(True)
        self.list.clear()
        for i, (box, part) in enumerate(zip(self.boxes, self.parts, strict=True), 1):
            h, w = part.image.shape[:2]
            item = QListWidgetItem(f"Print {i}: {w} × {h} px, tilted {box.angle:+.1f}°")
            item.setIcon(QIcon(_pixmap(part.image, THUMB)[0]))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        n = len(self.boxes)
        self.summary.setText(
            f"{n} print{'s' if n != 1 else ''} found. Untick any that is not a print;"
            " change the threshold if a print is missed or two are joined."
            if n
            else "No prints found: the scan must show the scanner's backdrop around them."
            " Untick auto and lower the threshold."
        )
        self._draw_page()
        self._sync_buttons()

    def _draw_page(self) -> None:
        pix = QPixmap(self._page)
        painter = QPainter(pix)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSize(14)
        painter.setFont(font)
        for i, box in enumerate(self.boxes, 1):
            pts = [QPointF(x * self._scale, y * self._scale) for x, y in box.corners()]
            for colour, width in ((QColor(0, 0, 0, 180), 4.0), (QColor(80, 220, 255), 2.0)):
                painter.setPen(QPen(colour, width))
                painter.drawPolygon(QPolygonF(pts))
            centre = QPointF(box.cx * self._scale, box.cy * self._scale)
            painter.setPen(QPen(QColor(255, 255, 255)))
            painter.fillRect(
                int(centre.x()) - 14, int(centre.y()) - 14, 28, 28, QColor(0, 0, 0, 160)
            )
            painter.drawText(
                int(centre.x()) - 14,
                int(centre.y()) - 14,
                28,
                28,
                Qt.AlignmentFlag.AlignCenter,
                str(i),
            )
        painter.end()
        self.page.setPixmap(pix)

    def ticked(self) -> list[int]:
        return [
            i for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]  # fmt: skip

    def _sync_buttons(self, *_: object) -> None:
        self.save_button.setEnabled(bool(self.ticked()))

    # -- saving --------------------------------------------------------------------------------
    def save_to(self, folder: Path) -> list[Path]:
        """Write the ticked prints into ``folder`` as ``<stem>-N`` in the scan's format."""
        meta = self.layers.meta
        source = self.layers.source
        stem = source.stem if source is not None else "print"
        suffix = _SUFFIX.get(meta.format if meta is not None else "PNG", ".png")
        folder.mkdir(parents=True, exist_ok=True)
        protect = [source] if source is not None else []
        written = []
        for i in self.ticked():
            part = self.parts[i]
            target = folder / f"{stem}-{i + 1}{suffix}"
            written.append(
                imageio.save_image(target, part.image, alpha=part.alpha, meta=meta, protect=protect)
            )
        self.saved = written
        return written

    def _on_save_clicked(self) -> None:
        start = str(self.layers.source.parent) if self.layers.source is not None else ""
        name = QFileDialog.getExistingDirectory(self, "Save the prints into", start)
        if not name:
            return
        try:
            written = self.save_to(Path(name))
        except PhotoFixError as exc:
            self.summary.setText(f"Not saved: {exc}")
            return
        self.summary.setText(
            f"Saved {len(written)} print{'s' if len(written) != 1 else ''} in {name}: "
            + ", ".join(p.name for p in written)
        )
