"""The window's questions and warnings, in one place so that tests can answer them.

A mixin of :class:`~photofix.ui.main_window.MainWindow`: every modal question goes through
:meth:`Prompts.ask`, every problem the controller reports through :meth:`Prompts._on_error`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

if TYPE_CHECKING:
    from photofix.ui.controller import WorkspaceController


class Prompts:
    """Unsaved-changes prompt, questions, warnings, the model download offer."""

    controller: WorkspaceController

    def run_after_saving(self, action: Callable[[], object]) -> None:
        """Run ``action`` now, or after the user saved or discarded the unsaved changes (or
        never, when they cancel)."""
        doc = self.controller.document
        if doc is None or not doc.modified:
            action()
            return
        answer = self.ask(
            "Unsaved changes",
            f"Save the changes to {doc.path.name if doc.path else 'the image'} first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Discard:
            action()
        elif answer == QMessageBox.StandardButton.Save:
            self._on_save_requested(then=action)

    def ask(
        self,
        title: str,
        text: str,
        buttons: QMessageBox.StandardButton,
        default: QMessageBox.StandardButton,
        labels: dict[QMessageBox.StandardButton, str] | None = None,
    ) -> QMessageBox.StandardButton:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setDefaultButton(default)
        for button, label in (labels or {}).items():
            box.button(button).setText(label)
        return QMessageBox.StandardButton(box.exec())

    def _on_error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def _on_model_missing(self, model_id: str, text: str, request: object) -> None:
        """An operation needs a model that is not installed: offer to download it (verified
        against its pinned SHA-256), then apply the operation again."""
        yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
        reply = self.ask(
            "Model not installed",
            f"{text}\n\nDownload it now? Nothing is sent except the request for the file.",
            yes | no,
            yes,
            {yes: "Download", no: "Not now"},
        )
        if reply == yes:
            self.controller.install_model(model_id, request)  # type: ignore[arg-type]
