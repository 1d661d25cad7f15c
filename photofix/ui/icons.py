"""The icons of the window (Font Awesome through qtawesome), in the dark palette's colours."""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from photofix.resources import resources_dir


def icon(name: str) -> QIcon:
    """The qtawesome icon ``name`` (e.g. ``fa5s.undo``), light grey, darker when disabled."""
    return qta.icon(name, color="#dcdcdc", color_disabled="#707070")


def swatch(colour: QColor, size: int = 16) -> QIcon:
    """A square of ``colour`` with a thin grey edge, for colour choices in menus and buttons."""
    pixmap = QPixmap(size, size)
    pixmap.fill(colour)
    painter = QPainter(pixmap)
    painter.setPen(QColor("#888888"))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pixmap)


def app_icon(name: str = "photofix") -> QIcon:
    """PhotoFix's own icon (window, task bar, About box) from ``resources/icons``, every
    rendered size; an empty icon if the files are missing (the window still opens)."""
    result = QIcon()
    folder = resources_dir() / "icons"
    for png in sorted(folder.glob(f"{name}-[0-9]*.png")):
        result.addFile(str(png))
    return result
