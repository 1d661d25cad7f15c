"""The window's file workflow: open (dialog, recent files, drops), save, save as and export.

A mixin of :class:`~photofix.ui.main_window.MainWindow`. Replacing the original scan is asked
about first; the writing itself is the controller's background job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from photofix.core.errors import PhotoFixError
from photofix.core.imageio import atomic_write
from photofix.ui.settings import Settings

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from photofix.ui.controller import WorkspaceController
    from photofix.ui.image_view import ImageView

RECIPE_FILTER = "PhotoFix recipe (*.json)"
OPEN_FILTER = "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.bmp);;All files (*)"
SAVE_FILTERS = {
    "TIFF": "TIFF image (*.tif *.tiff)",
    "PNG": "PNG image (*.png)",
    "JPEG": "JPEG image (*.jpg *.jpeg)",
    "WEBP": "WebP image (*.webp)",
}
SUFFIX = {"TIFF": ".tif", "PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
FORMAT_OF_SUFFIX = {
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
}


class ExportDialog(QDialog):
    """Format, bit depth and JPEG quality for File → Export."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        form = QFormLayout(self)
        self.format = QComboBox()
        self.format.addItems(list(SAVE_FILTERS))
        self.format.setCurrentText(settings.export_format)
        self.depth = QComboBox()
        self.depth.addItems(["16-bit", "8-bit"])
        self.depth.setCurrentText(f"{settings.export_bit_depth}-bit")
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(settings.jpeg_quality)
        form.addRow("Format", self.format)
        form.addRow("Bit depth", self.depth)
        form.addRow("JPEG / WebP quality", self.quality)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentTextChanged.connect(self._on_format_changed)
        self._on_format_changed(self.format.currentText())

    def _on_format_changed(self, fmt: str) -> None:
        lossy = fmt in ("JPEG", "WEBP")
        self.depth.setEnabled(not lossy)
        self.quality.setEnabled(lossy)

    def choice(self) -> tuple[str, int, int]:
        depth = (
            8
            if self.format.currentText() in ("JPEG", "WEBP")
            else int(self.depth.currentText().split("-")[0])
        )
        return self.format.currentText(), depth, self.quality.value()


class FileWorkflow:
    """Open, save, save as and export (mixed into the main window)."""

    controller: WorkspaceController
    settings: Settings
    view: ImageView
    recent_menu: QMenu

    def open_file(self, path: Path) -> bool:
        """Open ``path`` now (no unsaved-changes prompt); on failure say why and keep the
        current image."""
        path = Path(path)
        self.statusBar().showMessage(f"Opening {path.name}…")
        QWidget.setCursor(self, Qt.CursorShape.WaitCursor)
        started = time.perf_counter()
        try:
            self.controller.open_file(path)
        except PhotoFixError as exc:
            self._on_error("Cannot open image", str(exc))
            self.statusBar().clearMessage()
            return False
        finally:
            self.unsetCursor()
        self.settings.last_folder = str(path.resolve().parent)
        self.settings.add_recent(path)
        self.view.setFocus()  # space-drag and the backslash toggle work at once
        self._rebuild_recent_menu()
        self._say_opened(f"Opened {path.name} in {time.perf_counter() - started:.1f} s")
        return True

    def _say_opened(self, text: str) -> None:
        note = self.controller.open_note  # e.g. the file's record could not be read
        if note:
            self.statusBar().showMessage(f"{text}. {note}", 15000)
        else:
            self.statusBar().showMessage(text, 5000)

    def open_in_background(self, path: Path) -> int:
        """Open ``path`` without blocking the window (progress in the status bar)."""
        path = Path(path)

        def opened() -> None:
            self.settings.last_folder = str(path.resolve().parent)
            self.settings.add_recent(path)
            self._rebuild_recent_menu()
            self.view.setFocus()
            self._say_opened(f"Opened {path.name}")

        return self.controller.open_file_in_background(path, then=opened)

    def request_open(self, path: Path) -> None:
        """Open ``path`` after asking about unsaved changes."""
        self.run_after_saving(lambda: self.open_in_background(path))

    def _on_open_requested(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open image", self.settings.last_folder, OPEN_FILTER
        )
        if name:
            self.request_open(Path(name))

    def _on_files_dropped(self, paths: list[Path]) -> None:
        if paths:
            self.request_open(paths[0])

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self._on_files_dropped(paths)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for text, label in zip(
            self.settings.recent_files, recent_labels(self.settings.recent_files), strict=True
        ):
            act = self.recent_menu.addAction(label)
            act.setToolTip(text)
            act.setStatusTip(text)
            act.triggered.connect(lambda _=False, p=text: self.request_open(Path(p)))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))
        if self.settings.recent_files:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Recent Files")
            clear.triggered.connect(self._on_clear_recent)

    def _on_clear_recent(self) -> None:
        self.settings.recent_files = []
        self._rebuild_recent_menu()

    def _on_close_image_requested(self) -> None:
        self.run_after_saving(lambda: self.controller.set_document(None))

    def save_to(
        self,
        path: Path,
        *,
        format: str | None = None,
        bit_depth: int | None = None,
        quality: int | None = None,
        as_copy: bool = False,
        then: Callable[[], None] | None = None,
    ) -> int | None:
        """Save (or export, ``as_copy``) to ``path`` in the background, asking first when that
        would replace the original file. Returns the job id, or None when not started."""
        c = self.controller
        if c.document is None:
            return None
        overwrite = False
        if c.original_path is not None and _same_file(path, c.original_path):
            answer = self.ask(
                "Replace the original?",
                f"{path.name} is the original scan. Replacing it loses the unrestored "
                "pixels for good.\n\nSave the restoration under another name instead?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
                {
                    QMessageBox.StandardButton.Save: "Save As…",
                    QMessageBox.StandardButton.Discard: "Replace Original",
                },
            )
            if answer == QMessageBox.StandardButton.Save:
                self._on_save_as_requested(then=then)
                return None
            if answer != QMessageBox.StandardButton.Discard:
                return None
            overwrite = True

        def saved() -> None:  # a saved file is one the user will want to open again
            self.settings.add_recent(path)
            self._rebuild_recent_menu()
            if then is not None:
                then()

        return c.save(
            path,
            format=format,
            bit_depth=bit_depth,
            quality=quality or self.settings.jpeg_quality,
            overwrite_original=overwrite,
            as_copy=as_copy,
            then=saved,
        )

    def _on_save_requested(self, then: Callable[[], None] | None = None) -> None:
        doc = self.controller.document
        if doc is None:
            return
        if doc.path is None:
            self._on_save_as_requested(then=then)
            return
        self.save_to(doc.path, then=then)

    def _suggested_name(self, fmt: str) -> Path:
        doc = self.controller.document
        folder = Path(self.settings.last_folder or Path.home())
        if doc is not None and doc.path is not None:
            stem = doc.path.stem
            if self.controller.original_path and _same_file(
                doc.path, self.controller.original_path
            ):
                stem += "-restored"
            return doc.path.with_name(stem + SUFFIX[fmt])
        return folder / ("restored" + SUFFIX[fmt])

    def _on_save_as_requested(self, then: Callable[[], None] | None = None) -> None:
        doc = self.controller.document
        if doc is None:
            return
        fmt = (
            "TIFF"
            if doc.meta is None
            else FORMAT_OF_SUFFIX.get(f".{doc.meta.format.lower()}", "TIFF")
        )
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save as",
            str(self._suggested_name(fmt)),
            ";;".join(SAVE_FILTERS.values()),
            SAVE_FILTERS[fmt],
        )
        if name:
            self.save_to(Path(name), then=then)

    def _on_export_requested(self) -> None:
        if self.controller.document is None:
            return
        dialog = ExportDialog(self.settings, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        fmt, depth, quality = dialog.choice()
        self.settings.export_format, self.settings.jpeg_quality = fmt, quality
        if fmt not in ("JPEG", "WEBP"):
            self.settings.export_bit_depth = depth
        name, _ = QFileDialog.getSaveFileName(
            self, "Export", str(self._suggested_name(fmt)), SAVE_FILTERS[fmt]
        )
        if name:
            path = Path(name)
            if path.suffix.lower() not in FORMAT_OF_SUFFIX:
                path = path.with_suffix(SUFFIX[fmt])
            self.save_to(path, format=fmt, bit_depth=depth, quality=quality, as_copy=True)

    def export_recipe_to(self, path: Path) -> bool:
        """Write the steps that made the image (those recorded in the opened file, then this
        session's) as a recipe to ``path``: ``photofix process --recipe`` runs it on other
        scans. A painted mask is marked per-image. Says why when nothing is written."""
        recipe = self.controller.recipe()
        if recipe is None or not recipe.steps:
            self._on_error("Nothing to export", "No step has been applied to this image yet.")
            return False
        path = Path(path)
        text = recipe.dumps()
        try:
            atomic_write(path, lambda temp: temp.write_text(text, encoding="utf-8"))
        except PhotoFixError as exc:
            self._on_error("Cannot export the recipe", str(exc))
            return False
        painted = sum(1 for step in recipe.steps if step.per_image)
        note = f"; {painted} step(s) need each image's own mask (--mask)" if painted else ""
        self.statusBar().showMessage(
            f"Exported the recipe ({len(recipe.steps)} steps) to {path.name}{note}", 8000
        )
        return True

    def _on_export_recipe_requested(self) -> None:
        doc = self.controller.document
        if doc is None:
            return
        stem = (self.controller.original_path or doc.path or Path("restored")).stem
        folder = Path(self.settings.last_folder or Path.home())
        name, _ = QFileDialog.getSaveFileName(
            self, "Export recipe", str(folder / f"{stem}.recipe.json"), RECIPE_FILTER
        )
        if name:
            self.export_recipe_to(Path(name))


def recent_labels(paths: list[str]) -> list[str]:
    """Menu texts for the recent files: the file name, with as much of its folder as it
    takes to tell two files of the same name apart ("a.png — 1950/box 2")."""
    parts = [Path(p).parts for p in paths]
    labels = []
    for i, p in enumerate(parts):
        name = p[-1] if p else paths[i]
        others = [q for j, q in enumerate(parts) if j != i and q and q[-1] == name]
        if not others:
            labels.append(name)
            continue
        depth = 1
        while depth < len(p) - 1 and any(q[-1 - depth :] == p[-1 - depth :] for q in others):
            depth += 1
        labels.append(f"{name} — {Path(*p[-1 - depth : -1])}")
    return labels


def _same_file(a: Path, b: Path) -> bool:
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return Path(a).exists() and Path(b).exists() and Path(a).samefile(b)
    except OSError:
        return False
