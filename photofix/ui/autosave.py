"""Session safety: the periodic autosave, recovery after a crash, and the close prompts.

A mixin of :class:`~photofix.ui.main_window.MainWindow`. The autosave is written in the
background by :class:`~photofix.ui.session.SessionStore` and discarded on a clean close.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMessageBox

from photofix.ui.session import SessionSnapshot, SessionStore

if TYPE_CHECKING:
    from photofix.inference.service import InferenceService
    from photofix.ui.controller import WorkspaceController


class Autosave:
    """Autosave, recovery and the close checks (mixed into the main window)."""

    controller: WorkspaceController
    service: InferenceService
    sessions: SessionStore
    _autosaved_at: tuple[int, int, int] | None
    _closing_confirmed: bool
    _autosave_timer: QTimer

    def autosave_now(self) -> bool:
        """Write the session in the background if it changed since the last autosave."""
        doc = self.controller.document
        if doc is None or not doc.modified:
            return False
        key = (id(doc), doc.history.index, len(doc.history.steps))
        if key == self._autosaved_at:
            return False
        c = self.controller
        snapshot = SessionSnapshot.of(doc, c.original_path, c.recorded, c.source_sha256)
        if self.sessions.save_async(snapshot):
            self._autosaved_at = key
            return True
        return False

    def _on_autosave_due(self) -> None:
        self.autosave_now()

    def offer_recovery(self) -> bool:
        """After a crash: offer the autosaved session back. True when it was restored."""
        if not self.sessions.exists():
            return False
        try:
            snapshot = self.sessions.load()
        except Exception as exc:  # a damaged autosave must not stop the program
            self._on_error(
                "Cannot recover the last session", f"The autosave is unreadable ({exc})."
            )
            self.sessions.discard()
            return False
        name = Path(snapshot.path).name if snapshot.path else "an image"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(snapshot.saved_at))
        answer = self.ask(
            "Recover unsaved work?",
            f"PhotoFix did not close properly last time. Recover the work on {name} "
            f"autosaved at {when}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Discard,
            QMessageBox.StandardButton.Yes,
            {
                QMessageBox.StandardButton.Yes: "Recover",
                QMessageBox.StandardButton.Discard: "Discard",
            },
        )
        if answer != QMessageBox.StandardButton.Yes:
            self.sessions.discard()
            return False
        original = Path(snapshot.original_path) if snapshot.original_path else None
        self.controller.set_document(
            snapshot.to_document(),
            original_path=original,
            recorded=getattr(snapshot, "recorded", []),
            source_sha256=getattr(snapshot, "source_sha256", None),
        )
        self.statusBar().showMessage(f"Recovered the work on {name} from {when}", 8000)
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing_confirmed:
            if self.controller.busy():
                answer = self.ask(
                    "A job is running",
                    f"{self.controller.running_title()} is still running. Cancel it and close?",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.No,
                    {
                        QMessageBox.StandardButton.Yes: "Cancel Job and Close",
                        QMessageBox.StandardButton.No: "Keep Working",
                    },
                )
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return
                self.controller.cancel_jobs()
            doc = self.controller.document
            if doc is not None and doc.modified:
                event.ignore()

                def close_now() -> None:
                    self._closing_confirmed = True
                    QTimer.singleShot(0, self.close)  # not from inside this close event

                self.run_after_saving(close_now)
                return
        self.save_settings()
        self._autosave_timer.stop()
        self.controller.shutdown()
        self.service.stop()
        self.sessions.discard()
        event.accept()
