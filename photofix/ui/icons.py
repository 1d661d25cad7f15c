"""The icons of the window (Font Awesome through qtawesome), in the dark palette's colours."""

from __future__ import annotations

import qtawesome as qta
from PySide6.QtGui import QIcon


def icon(name: str) -> QIcon:
    """The qtawesome icon ``name`` (e.g. ``fa5s.undo``), light grey, darker when disabled."""
    return qta.icon(name, color="#dcdcdc", color_disabled="#707070")
