"""The user's settings: one typed dataclass, persisted with QSettings.

Every field is stored under its own name; values read back are converted to the field's type,
and a missing or unreadable value falls back to the default (a damaged settings file never
stops the program from starting).
"""

from __future__ import annotations

import dataclasses
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
        settings = cls()
        for f in dataclasses.fields(cls):
            if not store.contains(f.name):
                continue
            default = getattr(settings, f.name)
            value = _typed(store.value(f.name), default)
            if value is not None:
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
    except (TypeError, ValueError):
        return None
