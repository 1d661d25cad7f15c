"""What the window shows of the document: its title, size, history and which actions apply.

A mixin of :class:`~photofix.ui.main_window.MainWindow`, run whenever the controller reports
that the document or its history changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel

    from photofix.ui.controller import WorkspaceController
    from photofix.ui.image_view import ImageView
    from photofix.ui.panels import HistoryPanel, OperationsPanel
    from photofix.ui.session import SessionStore


class DocumentState:
    """Keeps the title, size label, history panel and actions in step with the document."""

    controller: WorkspaceController
    view: ImageView
    history: HistoryPanel
    operations: OperationsPanel
    sessions: SessionStore
    actions: dict[str, QAction]
    size_label: QLabel

    def _show_size(self) -> None:
        doc = self.controller.document
        if doc is None:
            self.size_label.setText("")
            return
        w, h = doc.size
        m = doc.meta
        depth = f" · {m.bit_depth}-bit {m.source_mode} · {m.format}" if m else ""
        self.size_label.setText(f"{w} × {h} px{depth}")

    def _on_document_changed(self) -> None:
        self._show_size()
        if self.controller.document is None:
            self.setWindowTitle("PhotoFix")
        else:
            self._update_title()
        self._on_zoom_changed(self.view.zoom())
        self._update_actions()

    def _update_title(self) -> None:
        doc = self.controller.document
        if doc is None:
            self.setWindowTitle("PhotoFix")
            return
        name = doc.path.name if doc.path else "Recovered session"
        self.setWindowTitle(f"{name}[*] — PhotoFix")
        self.setWindowModified(doc.modified)

    def _on_history_changed(self) -> None:
        c = self.controller
        doc = c.document
        # the first row names the file opened (a Save As does not rename it); a PhotoFix
        # output lists the steps its record says made it above that row
        source = None if c.original_path is None else c.original_path.name
        self.history.refresh(doc, source, c.recorded_rows())
        self._update_title()
        self._update_actions()
        self._show_size()
        if doc is not None and not doc.modified:
            self.sessions.discard_if_idle()  # nothing unsaved left to recover

    def _update_actions(self) -> None:
        doc = self.controller.document
        has = doc is not None
        for key in (
            "save",
            "save_as",
            "export",
            "export_recipe",
            "close_image",
            "mask_clear",
            "mask_invert",
            "mask_grow",
            "mask_shrink",
            "fit",
            "actual",
            "zoom_in",
            "zoom_out",
        ):
            self.actions[key].setEnabled(has)
        self.actions["undo"].setEnabled(has and doc.history.can_undo)
        self.actions["redo"].setEnabled(has and doc.history.can_redo)
        self.operations.setEnabled(has)
        self.actions["cancel"].setEnabled(self.controller.busy())
