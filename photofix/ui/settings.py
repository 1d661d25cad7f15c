"""The user's settings: one typed dataclass, persisted with QSettings.

Every field is stored under its own name; values read back are converted to the field's type,
and a missing or unreadable value falls back to the default (a damaged settings file never
stops the program from starting).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10
# Colours offered for the mask overlay. Cyan is the default: it stands out on the faded red,
# orange and sepia prints where a red overlay disappears, and on black-and-white ones.
MASK_COLOURS: dict[str, str] = {
    "Cyan": "#00d8ff",
    "Green": "#30e030",
    "Yellow": "#ffe000",
    "Magenta": "#ff30ff",
    "Blue": "#3060ff",
    "Red": "#ff2d2d",
}
DEFAULT_MASK_COLOUR = MASK_COLOURS["Cyan"]


@dataclass
class Settings:
    """Everything PhotoFix remembers between sessions."""

    window_geometry: bytes = b""
    window_state: bytes = b""
    last_folder: str = ""
    recent_files: list[str] = field(default_factory=list)
    tool: str = "brush"  # navigate | brush | eraser | hint
    brush_size: int = 40  # diameter in image pixels
    hint_colour: str = "#c08040"
    overlay_visible: bool = True
    # (stored under a new name: the old red default was saved for everyone, never chosen)
    mask_colour: str = DEFAULT_MASK_COLOUR
    overlay_opacity: float = 0.45
    compare_mode: str = "off"  # off | vertical | horizontal | side
    compare_before: str = "original"  # original | previous
    device: str = "auto"  # auto | cuda | mps | cpu
    exact: bool = False  # float32 everywhere: what `photofix process --exact` runs, bit for bit
    operator: str = ""  # who restored the image, written into every record
    operation: str = "fade"  # the one chosen in the Operations panel
    strength: float = 1.0
    limit_to_mask: bool = False
    feather: float = 4.0
    live_preview: bool = False  # opt-in: an unapplied preview must never surprise anyone
    export_format: str = "TIFF"
    export_bit_depth: int = 16
    jpeg_quality: int = 95
    autosave_minutes: int = 3

    def add_recent(self, path: Path) -> None:
        """Put ``path`` first in the recent files (no duplicates, at most MAX_RECENT)."""
        text = str(Path(path).resolve())
        self.recent_files = [text, *(p for p in self.recent_files if p != text)][:MAX_RECENT]

    # -- persistence -------------------------------------------------------------------------
    @classmethod
    def load(cls, store: QSettings) -> Settings:
        """The stored settings; a value that is missing, unreadable or out of its range (a
        damaged or hand-edited file) is the default instead."""
        settings = cls()
        for f in dataclasses.fields(cls):
            default = getattr(settings, f.name)
            try:
                if not store.contains(f.name):
                    continue
                value = _typed(store.value(f.name), default)
            except Exception:  # whatever Qt or the file throws: keep the default
                continue
            if value is not None and _valid(f.name, value):
                setattr(settings, f.name, value)
        return settings

    def save(self, store: QSettings) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bytes):
                value = QByteArray(value)
            elif isinstance(value, list):
                value = list(value)
            store.setValue(f.name, value)
        store.sync()


_CHOICES: dict[str, tuple[str, ...]] = {
    "tool": ("navigate", "brush", "eraser", "hint"),
    "compare_mode": ("off", "vertical", "horizontal", "side"),
    "compare_before": ("original", "previous"),
    "device": ("auto", "cuda", "mps", "cpu"),
    "export_format": ("TIFF", "PNG", "JPEG"),
}
_RANGES: dict[str, tuple[float, float]] = {
    "brush_size": (1, 5000),
    "overlay_opacity": (0.0, 1.0),
    "strength": (0.0, 1.0),
    "feather": (0.0, 500.0),
    "export_bit_depth": (8, 16),
    "jpeg_quality": (1, 100),
    "autosave_minutes": (0, 24 * 60),
}
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _valid(name: str, value: object) -> bool:
    """Whether a value read back is one the window can use."""
    if name in _CHOICES:
        return value in _CHOICES[name]
    if name in _RANGES:
        low, high = _RANGES[name]
        ok = isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high
        return ok and (name != "export_bit_depth" or value in (8, 16))
    if name.endswith("_colour"):
        return isinstance(value, str) and bool(_COLOUR.match(value))
    if isinstance(value, str):
        return "\x00" not in value
    return True


def _typed(raw: object, default: object) -> object:
    """``raw`` as read from QSettings, converted to the type of ``default`` (None if it cannot
    be)."""
    try:
        if isinstance(default, bool):
            if isinstance(raw, str):
                return raw.lower() in ("true", "1", "yes")
            return bool(raw)
        if isinstance(default, bytes):
            return bytes(raw.data()) if isinstance(raw, QByteArray) else bytes(raw)  # type: ignore[arg-type]
        if isinstance(default, int):
            return int(raw)  # type: ignore[call-overload]
        if isinstance(default, float):
            return float(raw)  # type: ignore[arg-type]
        if isinstance(default, list):
            if raw is None or raw == "":
                return []
            return [str(x) for x in (raw if isinstance(raw, (list, tuple)) else [raw])]
        return str(raw)
    except (TypeError, ValueError, OverflowError):
        return None
