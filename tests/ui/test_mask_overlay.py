"""The colour of the mask overlay: chosen from the View (or Mask) menu or the overlay button's
arrow, drawn on the canvas at once, and remembered after a restart."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QColorDialog, QToolBar

from photofix.core.imageio import to_uint8
from photofix.ui.main_window import MainWindow
from tests.ui.test_workspace import drag, opened, view_point


def painted(window: MainWindow) -> MainWindow:
    """The sample scan with a brush stroke over (100..300, 100), overlay drawn opaque."""
    opened(window)
    window.actions["tool_brush"].setChecked(True)
    window._on_brush_size_changed(20)
    drag(window.view.viewport(), [view_point(window, 100, 100), view_point(window, 300, 100)])
    assert window.controller.document.mask[100, 150]
    window.settings.overlay_opacity = 1.0
    window.controller.apply_overlay_settings()
    return window


def shown(window: MainWindow) -> tuple[int, int, int]:
    """The colour on screen over the stroke."""
    QApplication.processEvents()
    c = window.view.viewport().grab().toImage().pixelColor(view_point(window, 150, 100))
    return c.red(), c.green(), c.blue()


def menu_action(window: MainWindow, text: str):
    return next(a for a in window.mask_colour_menu.actions() if a.text() == text)


def test_mask_colour_is_chosen_drawn_and_remembered(make_window, monkeypatch) -> None:
    first = painted(make_window())
    # cyan by default: it stands out on faded red and sepia prints, where red disappears
    assert shown(first) == (0x00, 0xD8, 0xFF)
    assert menu_action(first, "Cyan").isChecked()

    yellow = menu_action(first, "Yellow")
    yellow.trigger()
    assert shown(first) == (0xFF, 0xE0, 0x00)
    assert yellow.isChecked() and not menu_action(first, "Cyan").isChecked()
    yellow.trigger()  # choosing the ticked colour again keeps it
    assert yellow.isChecked() and shown(first) == (0xFF, 0xE0, 0x00)

    # any colour from the colour dialog; the hidden overlay is shown to see it
    first.actions["overlay"].setChecked(False)
    under = tuple(int(v) for v in to_uint8(first.controller.document.image[100, 150]))
    assert shown(first) == under
    monkeypatch.setattr(QColorDialog, "getColor", lambda *args, **kw: QColor("#8040c0"))
    menu_action(first, "&Other Colour…").trigger()
    assert first.actions["overlay"].isChecked()
    assert shown(first) == (0x80, 0x40, 0xC0)
    assert not any(a.isChecked() for a in first.mask_colours.actions())
    monkeypatch.setattr(QColorDialog, "getColor", lambda *args, **kw: QColor())  # cancelled
    menu_action(first, "&Other Colour…").trigger()
    assert shown(first) == (0x80, 0x40, 0xC0)
    # the overlay toggle still hides it
    first.actions["overlay"].trigger()
    assert shown(first) == under
    first.actions["overlay"].trigger()

    # the same choices in the Mask menu and on the overlay button's arrow
    mask_menu = next(a.menu() for a in first.menuBar().actions() if a.text() == "&Mask")
    assert first.mask_colour_menu.menuAction() in mask_menu.actions()
    tools = first.findChild(QToolBar, "toolbar-tools")
    assert tools.widgetForAction(first.actions["overlay"]).menu() is first.mask_colour_menu

    first._closing_confirmed = True  # the stroke is unsaved: close without asking
    first.close()
    second = painted(make_window())
    assert shown(second) == (0x80, 0x40, 0xC0)
    assert not any(a.isChecked() for a in second.mask_colours.actions())


def test_a_damaged_mask_colour_setting_falls_back_to_the_default(make_window, tmp_path) -> None:
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)  # the window's
    store.setValue("mask_colour", "not a colour")
    store.sync()
    window = painted(make_window())
    assert shown(window) == (0x00, 0xD8, 0xFF)
    assert menu_action(window, "Cyan").isChecked()
