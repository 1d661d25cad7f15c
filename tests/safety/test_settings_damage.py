"""Audit class "a damaged settings file stops the window from starting": values that are out
of range, of the wrong type or plain garbage fall back to their defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings

from photofix.ui.settings import Settings

DAMAGED = """[General]
autosave_minutes=99999999999
brush_size=-40
strength=nan
feather=inf
overlay_opacity=7
export_bit_depth=3
export_format=GIF
jpeg_quality=1000
tool=lasso
compare_mode=sideways
device=tpu
operation=no-such-operation
last_folder=/no/such/folder
mask_colour=not a colour
hint_colour=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x18QPainterPath\\xff\\xff)
window_geometry=@ByteArray(garbage
recent_files=@Variant(\\0\\0\\0\\x87
"""


def damaged_store(tmp_path: Path) -> QSettings:
    path = tmp_path / "settings.ini"
    path.write_bytes(DAMAGED.encode() + b"\x00\xff\xfe binary junk\n[broken section\n")
    return QSettings(str(path), QSettings.Format.IniFormat)


def test_damaged_values_fall_back_to_defaults(tmp_path: Path) -> None:
    loaded = Settings.load(damaged_store(tmp_path))
    defaults = Settings()
    for name in ("autosave_minutes", "brush_size", "strength", "feather", "overlay_opacity",
                 "export_bit_depth", "export_format", "jpeg_quality", "tool", "compare_mode",
                 "device", "mask_colour", "hint_colour"):  # fmt: skip
        assert getattr(loaded, name) == getattr(defaults, name), name


def test_window_starts_with_a_damaged_settings_file(qtbot, tmp_path: Path) -> None:
    from photofix.ui.app import make_application
    from photofix.ui.main_window import MainWindow
    from photofix.ui.session import SessionStore

    make_application()
    window = MainWindow(store=damaged_store(tmp_path), sessions=SessionStore(tmp_path / "s"),
                        probe_device=False)  # fmt: skip
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.settings.autosave_minutes == Settings().autosave_minutes
    window._closing_confirmed = True
    window.close()
    window.service.stop()
