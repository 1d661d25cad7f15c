"""The window's repair tools and help: the clone stamp's options, mask files, the Models
dialog and the shortcut sheet.

A mixin of :class:`~photofix.ui.main_window.MainWindow` (like ToolOptions): the spot healing
brush and clone stamp themselves are :class:`~photofix.ui.repair_brushes.RepairBrushes`; here
are their menu entries, Save Mask… / Load Mask… (PNG, so a mask outlives the session), Help ▸
Shortcuts and Guide (F1, Ctrl+/) and Help ▸ Models…, and the "No Compare" key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog

from photofix.core import imageio
from photofix.core.errors import PhotoFixError
from photofix.ops.registry import Layers
from photofix.ops.steps import MASK_PAINT, StepRequest, commit, layers_of, run_step
from photofix.ui.help_dialog import HelpDialog
from photofix.ui.models_dialog import ModelsDialog
from photofix.ui.split_scan_dialog import SplitScanDialog

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    from photofix.ui.controller import WorkspaceController
    from photofix.ui.panels import JobStatusWidget, OperationsPanel
    from photofix.ui.repair_brushes import RepairBrushes
    from photofix.ui.settings import Settings

REPAIR_KEYS = ("tool_heal", "tool_clone", "tool_crop", "tool_straighten", "tool_neutral")
PICK_TOOL_ACTIONS = (
    ("crop", "&Crop Tool", "C", "fa5s.crop-alt", "Drag the rectangle to keep"),
    (
        "straighten",
        "Straigh&ten Tool",
        "L",
        "fa5s.ruler",
        "Draw a line along a horizon or an edge: the image turns to make it level",
    ),
    (
        "neutral",
        "&White Balance Picker",
        "I",
        "fa5s.eye-dropper",
        "Click something that should be neutral grey",
    ),
)
HEAL_TIP = "Paint over a speck or crack: on release it is filled from its surroundings"
CLONE_TIP = "Alt-click where to copy from, then paint where the copy goes"
NO_COMPARE_KEY = "N"


class ToolMenus:
    """Repair tool options, mask files, Models dialog and shortcut sheet (a window mixin)."""

    controller: WorkspaceController
    settings: Settings
    actions: dict[str, QAction]
    operations: OperationsPanel
    jobs: JobStatusWidget
    repair: RepairBrushes
    _action: Any

    def _build_tool_menu_actions(self) -> None:
        a = self._action
        a(
            "clone_aligned",
            "Clone Source &Aligned",
            self.repair.set_aligned,
            None,
            None,
            "Keep the distance to the source between strokes (off: every stroke starts"
            " from the source point)",
            checkable=True,
        )
        self.actions["clone_aligned"].setChecked(True)
        a("mask_save", "Sa&ve Mask…", self._on_save_mask_requested, None)
        a("mask_load", "&Load Mask…", self._on_load_mask_requested, None)
        help_action = a("shortcuts", "&Shortcuts and Guide", self.show_help, "F1", "fa5s.keyboard")
        help_action.setShortcuts([QKeySequence("F1"), QKeySequence("Ctrl+/")])
        a("models", "&Models…", self.show_models, None, "fa5s.cubes")
        a("split_scan", "S&plit Scan into Prints…", self.show_split_scan, None, "fa5s.images")
        self.operations.split_requested.connect(self.show_split_scan)
        self.actions["compare_off"].setShortcut(QKeySequence(NO_COMPARE_KEY))
        self.actions["compare_off"].setToolTip(f"No compare ({NO_COMPARE_KEY})")
        self.actions["cancel"].triggered.connect(self.jobs.cancelling)  # Esc, as the button
        c = self.controller
        c.document_changed.connect(self._sync_image_size)
        c.history_changed.connect(self._sync_image_size)
        self._help: HelpDialog | None = None
        self._models: ModelsDialog | None = None

    def _fill_tool_menus(self, mask: QMenu, help_menu: QMenu) -> None:
        file_menu = self.menuBar().actions()[0].menu()  # type: ignore[attr-defined]
        file_menu.insertAction(self.actions["save"], self.actions["split_scan"])
        mask.addAction(self.actions["clone_aligned"])
        mask.addSeparator()
        mask.addAction(self.actions["mask_save"])
        mask.addAction(self.actions["mask_load"])
        help_menu.addAction(self.actions["shortcuts"])
        help_menu.addAction(self.actions["models"])
        help_menu.addSeparator()

    def _sync_image_size(self) -> None:
        doc = self.controller.document
        self.operations.set_image_size(None if doc is None else doc.size)
        for key in ("mask_save", "mask_load", "split_scan"):
            self.actions[key].setEnabled(doc is not None)

    # -- help and models -----------------------------------------------------------------------
    def show_help(self) -> HelpDialog:
        if self._help is None:
            self._help = HelpDialog(self.actions.values(), self)  # type: ignore[arg-type]
        self._help.show()
        self._help.raise_()
        return self._help

    def show_models(self) -> ModelsDialog:
        if self._models is None:
            self._models = ModelsDialog(self)  # type: ignore[arg-type]
            self._models.install_requested.connect(self.controller.install_model)
            self.controller.job_ended.connect(self._models.refresh)
        self._models.refresh()
        self._models.show()
        self._models.raise_()
        return self._models

    def show_split_scan(self) -> SplitScanDialog | None:
        doc = self.controller.document
        if doc is None:
            return None
        layers = Layers(doc.image.copy(), alpha=doc.alpha, meta=doc.meta, source=doc.path)
        dialog = SplitScanDialog(layers, self)  # type: ignore[arg-type]
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # -- mask files ----------------------------------------------------------------------------
    def save_mask_to(self, path: Path) -> bool:
        """Write the mask layer as an 8-bit PNG (white = masked)."""
        doc = self.controller.document
        if doc is None:
            return False
        try:
            imageio.save_mask(path, doc.mask)
        except (PhotoFixError, OSError) as exc:
            self._on_error("Cannot save the mask", str(exc))  # type: ignore[attr-defined]
            return False
        self.controller.message.emit(f"Mask saved as {Path(path).name}")
        return True

    def load_mask_from(self, path: Path) -> bool:
        """Replace the mask layer by a PNG's (white or opaque = masked), as one undo step."""
        doc = self.controller.document
        if doc is None:
            return False
        w, h = doc.size
        try:
            mask = imageio.load_mask(path, (h, w))
        except PhotoFixError as exc:
            self._on_error("Cannot load the mask", str(exc))  # type: ignore[attr-defined]
            return False
        request = StepRequest(MASK_PAINT, label=f"Mask from {Path(path).name}", mask=mask)
        step = commit(doc, run_step(request, layers_of(doc)))
        if step is None:
            self.controller.message.emit("The loaded mask is the one already there.")
        elif not self.settings.overlay_visible:
            self.controller.set_overlay_visible(True)
        return True

    def _on_save_mask_requested(self) -> None:
        doc = self.controller.document
        if doc is None:
            return
        stem = doc.path.stem if doc.path else "image"
        folder = Path(self.settings.last_folder or ".")
        name, _ = QFileDialog.getSaveFileName(
            self,  # type: ignore[arg-type]
            "Save mask",
            str(folder / f"{stem}_mask.png"),
            "PNG mask (*.png)",
        )
        if name:
            self.save_mask_to(Path(name if name.lower().endswith(".png") else name + ".png"))

    def _on_load_mask_requested(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,  # type: ignore[arg-type]
            "Load mask",
            self.settings.last_folder,
            "Mask images (*.png *.tif *.tiff)",
        )
        if name:
            self.load_mask_from(Path(name))
