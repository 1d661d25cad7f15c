"""JobTracker: the workspace's record of the background jobs it submitted.

The :class:`~photofix.inference.service.InferenceService` runs jobs on its own thread and
reports them by id. The tracker remembers what each id was for (its kind, title and what to do
with its result), turns the service's signals into the workspace's (silent kinds such as
previews show no progress), and answers "is a job running?" for the close prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from photofix.inference.service import InferenceService, Job, readable_error

SILENT_KINDS = ("preview", "probe")
"""Jobs that show no progress bar and are not "a job running" for the close prompt."""


@dataclass
class _PendingJob:
    kind: str  # apply | preview | save | open | probe
    title: str
    on_done: Callable[[Any], None]
    generation: int
    on_failed: Callable[[str], None] | None = None  # instead of the error dialog


class JobTracker(QObject):
    """Submits jobs to the service and routes their outcome back to whoever asked."""

    job_started = Signal(int, str)
    job_progress = Signal(int, float, object, str)
    job_ended = Signal(int, str, str)  # id, "finished" | "failed" | "cancelled", message
    message = Signal(str)
    error = Signal(str, str)  # title, readable text

    def __init__(self, service: InferenceService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.pending: dict[int, _PendingJob] = {}
        service.started.connect(self._on_started)
        service.progress.connect(self._on_progress)
        service.finished.connect(self._on_finished)
        service.failed.connect(self._on_failed)
        service.cancelled.connect(self._on_cancelled)
        service.notice.connect(self._on_notice)

    def submit(
        self,
        job: Job,
        on_done: Callable[[Any], None],
        generation: int = 0,
        on_failed: Callable[[str], None] | None = None,
    ) -> int:
        """Queue ``job``; ``on_done`` gets its result on this thread. A failure goes to
        ``on_failed`` when given (quietly), else to :attr:`error`."""
        # the service's signals reach this thread through its event loop, so registering
        # right after submit() is early enough even when the job starts at once
        job_id = self.service.submit(job)
        self.pending[job_id] = _PendingJob(job.kind, job.title, on_done, generation, on_failed)
        return job_id

    def cancel_all(self) -> None:
        """Cancel every job. Operations stop for the user at once: they are ended as
        cancelled here, and whatever the service thread still finishes of them (a model tile
        cannot be interrupted half-way) is dropped when it arrives. Saves, opens and
        downloads end when the service says so (a file may be half done)."""
        self.service.cancel_all()
        for job_id, pending in list(self.pending.items()):
            if pending.kind == "apply":
                del self.pending[job_id]
                self.job_ended.emit(job_id, "cancelled", "")
                self.message.emit(f"{pending.title} cancelled; the image is unchanged.")

    def busy(self) -> bool:
        """Whether a job the user started (not a preview) is queued or running."""
        return any(p.kind not in SILENT_KINDS for p in self.pending.values())

    def running_title(self) -> str:
        titles = [p.title for p in self.pending.values() if p.kind not in SILENT_KINDS]
        return titles[0] if titles else ""

    # -- service signals ---------------------------------------------------------------------
    def _on_started(self, job_id: int, title: str) -> None:
        pending = self.pending.get(job_id)
        if pending is not None and pending.kind not in SILENT_KINDS:
            self.job_started.emit(job_id, title)

    def _on_progress(self, job_id: int, fraction: float, eta: object, text: str) -> None:
        pending = self.pending.get(job_id)
        if pending is not None and pending.kind not in SILENT_KINDS:
            self.job_progress.emit(job_id, fraction, eta, text)

    def _on_finished(self, job_id: int, result: object) -> None:
        pending = self.pending.pop(job_id, None)
        if pending is None:
            return
        try:
            pending.on_done(result)
        except Exception as exc:  # e.g. an operation returned layers of the wrong size
            self.error.emit(f"{pending.title} failed", readable_error(pending.title, exc))
        if pending.kind not in SILENT_KINDS:
            self.job_ended.emit(job_id, "finished", "")

    def _on_failed(self, job_id: int, text: str) -> None:
        pending = self.pending.pop(job_id, None)
        if pending is None:
            return
        if pending.on_failed is not None:
            pending.on_failed(text)
            return
        self.job_ended.emit(job_id, "failed", text)
        self.error.emit(f"{pending.title} failed", text)

    def _on_cancelled(self, job_id: int) -> None:
        pending = self.pending.pop(job_id, None)
        if pending is not None and pending.kind not in SILENT_KINDS:
            self.job_ended.emit(job_id, "cancelled", "")
            self.message.emit(f"{pending.title} cancelled; the image is unchanged.")

    def _on_notice(self, job_id: int, text: str) -> None:
        self.message.emit(text)
