"""The toolbars, and the brush, feather, hint colour and mask overlay options of the window.

A mixin of :class:`~photofix.ui.main_window.MainWindow`: the toolbar's size and feather
controls, the [ and ] keys, the colour pickers and the overlay toggle all end here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QDoubleSpinBox,
    QInputDialog,
    QSlider,
    QSpinBox,
    QToolButton,
)

from photofix.ui.icons import swatch
from photofix.ui.settings import MASK_COLOURS, Settings

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    from photofix.ui.controller import WorkspaceController
    from photofix.ui.image_view import ImageView

MAX_BRUSH = 2000


class ToolOptions:
    """Brush size, feather, hint colour, mask overlay colour (mixed into the main window)."""

    controller: WorkspaceController
    settings: Settings
    view: ImageView
    actions: dict[str, QAction]
    brush_slider: QSlider
    brush_spin: QSpinBox
    feather_spin: QDoubleSpinBox
    hint_button: QToolButton
    mask_colour_menu: QMenu

    def _set_tool(self, tool: str) -> None:
        self.view.set_tool(tool)
        self.settings.tool = tool

    def _on_brush_size_changed(self, size: int) -> None:
        size = max(1, min(MAX_BRUSH, int(size)))
        self.settings.brush_size = size
        for w in (self.brush_slider, self.brush_spin):
            w.blockSignals(True)
            w.setValue(size)
            w.blockSignals(False)
        self.view.set_brush_radius(size / 2)

    def _on_feather_changed(self, value: float) -> None:
        self.settings.feather = value
        self.feather_spin.blockSignals(True)
        self.feather_spin.setValue(value)
        self.feather_spin.blockSignals(False)

    def _scale_brush(self, factor: float) -> None:
        size = self.settings.brush_size
        new = round(size * factor)
        if new == size:
            new = size + (1 if factor > 1 else -1)
        self._on_brush_size_changed(new)

    def _set_hint_colour(self, colour: QColor) -> None:
        if not colour.isValid():
            return
        self.settings.hint_colour = colour.name()
        self.hint_button.setIcon(swatch(colour, 18))

    def _on_hint_colour_requested(self) -> None:
        colour = QColorDialog.getColor(QColor(self.settings.hint_colour), self, "Hint colour")
        self._set_hint_colour(colour)
        if colour.isValid():
            self.actions["tool_hint"].setChecked(True)

    def set_mask_colour(self, colour: QColor) -> None:
        """Draw the mask overlay in ``colour`` (remembered; the overlay is shown to see it)."""
        if not colour.isValid():
            return
        self.settings.mask_colour = colour.name()
        self.controller.apply_overlay_settings()
        if not self.settings.overlay_visible:
            self.controller.set_overlay_visible(True)
        self._show_mask_colour()

    def _show_mask_colour(self) -> None:
        """Tick the preset that is the overlay colour (none for another colour)."""
        current = QColor(self.settings.mask_colour).name()
        for name, hex_colour in MASK_COLOURS.items():
            act = self.actions[f"mask_colour_{name.lower()}"]
            act.blockSignals(True)
            act.setChecked(QColor(hex_colour).name() == current)
            act.blockSignals(False)
        self.actions["mask_colour_other"].setIcon(swatch(QColor(current)))

    def _on_mask_colour_requested(self) -> None:
        colour = QColorDialog.getColor(
            QColor(self.settings.mask_colour), self, "Mask overlay colour"
        )
        self.set_mask_colour(colour)

    def _on_grow_requested(self, sign: int) -> None:
        what = "Grow" if sign > 0 else "Shrink"
        pixels, ok = QInputDialog.getInt(
            self, f"{what} mask", f"{what} the mask by (px):", 4, 1, 500
        )
        if ok:
            self.controller.edit_mask("grow", sign * pixels)

    def _on_overlay_toggled(self, visible: bool) -> None:
        self.controller.set_overlay_visible(visible)

    def _on_overlay_shown(self, visible: bool) -> None:
        action = self.actions["overlay"]
        action.blockSignals(True)
        action.setChecked(visible)
        action.blockSignals(False)
