"""The inference service: one long-lived QObject on its own QThread that runs jobs one at a time.

The GUI submits :class:`Job` objects (a title and a plain function of a :class:`JobContext`);
the service runs them in order on its thread and reports through queued signals, so the GUI
thread never waits on a model. :meth:`InferenceService.cancel` may be called from any thread: it
sets the running job's :class:`~photofix.inference.progress.Progress` cancel token (the tiler
checks it before every tile, so a tiled job stops within one tile) and drops queued jobs.

Loaded models stay loaded between jobs in the process-wide runner cache
(:func:`photofix.inference.runner.runner_for`). Nothing here imports torch: jobs import what
they need, on the service thread.

This is the only Qt module of ``photofix.inference``; it never imports ``photofix.ops`` (the
caller wraps an operation in a job function).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from photofix.core.errors import Cancelled, PhotoFixError
from photofix.inference.progress import Progress, ProgressInfo
from photofix.inference.tiling import is_out_of_memory

__all__ = ["InferenceService", "Job", "JobContext", "readable_error"]

PROGRESS_INTERVAL_S = 0.05
"""Progress signals are throttled to at most one per this many seconds (plus the last one)."""


@dataclass
class JobContext:
    """What a running job gets: its progress/cancel token."""

    progress: Progress


@dataclass
class Job:
    """A unit of background work.

    ``run(ctx)`` executes on the service thread and returns the result delivered by
    :attr:`InferenceService.finished`; it must call ``ctx.progress.check()`` at safe points
    (operations and the tiler do). ``kind`` is a free tag for the caller (e.g. "apply",
    "preview", "save"); ``id`` is assigned by :meth:`InferenceService.submit`.
    """

    title: str
    run: Callable[[JobContext], Any]
    kind: str = "apply"
    id: int = 0
    progress: Progress | None = field(default=None, repr=False)


def readable_error(title: str, exc: BaseException) -> str:
    """One message a person understands, saying what to do next, for a job that failed."""
    if isinstance(exc, PhotoFixError):
        return f"{title} failed: {exc}"
    if isinstance(exc, MemoryError) or is_out_of_memory(exc):
        return (
            f"{title} ran out of memory. Close other programs, choose the CPU in Edit → Compute "
            "device, or restore a smaller crop or a resized copy, then try again."
        )
    detail = str(exc) or type(exc).__name__
    return (
        f"{title} failed unexpectedly ({type(exc).__name__}: {detail}). Your image is unchanged. "
        "Please report this with the image size and the parameters used."
    )


class InferenceService(QObject):
    """Runs submitted jobs one at a time on its own thread and reports through signals.

    Signals carry the job id first. ``progress`` carries (id, fraction in [0, 1], ETA in
    seconds or None, message). ``failed`` carries a readable message (see
    :func:`readable_error`). ``notice`` carries a note the user should see (e.g. a fallback to
    the CPU after running out of GPU memory).
    """

    started = Signal(int, str)
    progress = Signal(int, float, object, str)
    finished = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    notice = Signal(int, str)
    _wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._queue: deque[Job] = deque()
        self._running: Job | None = None
        self._ids = itertools.count(1)
        self._thread: QThread | None = None
        self._wake.connect(self._on_wake)

    # -- life cycle (called from the owning, GUI thread) ----------------------------------------
    def start(self) -> None:
        """Move the service to a new QThread and start it. Connect the signals first."""
        if self._thread is not None:
            return
        thread = QThread()
        thread.setObjectName("photofix-inference")
        self.moveToThread(thread)
        self._thread = thread
        thread.start()

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and stop the thread; True when it ended within ``timeout_ms``."""
        self.cancel_all()
        thread = self._thread
        if thread is None:
            return True
        thread.quit()
        ended = thread.wait(timeout_ms)
        self._thread = None
        return bool(ended)

    # -- any thread ------------------------------------------------------------------------------
    def submit(self, job: Job) -> int:
        """Queue ``job`` and return its id; it runs after the jobs queued before it."""
        with self._lock:
            job.id = next(self._ids)
            self._queue.append(job)
        self._wake.emit()
        return job.id

    def cancel(self, job_id: int | None = None) -> None:
        """Cancel the running job (when ``job_id`` is None or matches it) and drop queued ones
        with that id (all queued ones when None). The running job stops at its next check.

        Call it directly from any thread (it only sets a thread-safe flag). Do not connect a
        signal straight to it: such a connection would be queued to the busy service thread.
        """
        dropped: list[Job] = []
        with self._lock:
            running = self._running
            if running is not None and job_id in (None, running.id) and running.progress:
                running.progress.cancel()
            keep = deque()
            for job in self._queue:
                (dropped if job_id in (None, job.id) else keep).append(job)
            self._queue = keep
        for job in dropped:
            self.cancelled.emit(job.id)

    def cancel_kind(self, kind: str) -> None:
        """Cancel every queued or running job of ``kind`` (e.g. stale previews)."""
        with self._lock:
            ids = [j.id for j in self._queue if j.kind == kind]
            if self._running is not None and self._running.kind == kind:
                ids.append(self._running.id)
        for job_id in ids:
            self.cancel(job_id)

    def cancel_all(self) -> None:
        self.cancel(None)

    @property
    def busy(self) -> bool:
        """Whether a job is running or queued."""
        with self._lock:
            return self._running is not None or bool(self._queue)

    def running_job(self) -> Job | None:
        with self._lock:
            return self._running

    def pending(self, kind: str | None = None) -> int:
        """How many jobs (of ``kind``) are queued or running."""
        with self._lock:
            jobs = [*self._queue, *([self._running] if self._running else [])]
        return sum(1 for j in jobs if kind is None or j.kind == kind)

    # -- service thread --------------------------------------------------------------------------
    @Slot()
    def _on_wake(self) -> None:
        while True:
            with self._lock:
                if self._running is not None or not self._queue:
                    return
                job = self._queue.popleft()
                job.progress = self._progress_for(job)
                self._running = job
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._running = None

    def _progress_for(self, job: Job) -> Progress:
        last = [0.0]

        def report(info: ProgressInfo) -> None:
            now = time.monotonic()
            if info.fraction < 1.0 and now - last[0] < PROGRESS_INTERVAL_S:
                return
            last[0] = now
            self.progress.emit(job.id, info.fraction, info.eta_seconds, info.message)

        return Progress(report, notice_callback=lambda text: self.notice.emit(job.id, text))

    def _run(self, job: Job) -> None:
        assert job.progress is not None
        self.started.emit(job.id, job.title)
        try:
            job.progress.check()
            result = job.run(JobContext(job.progress))
            job.progress.check()
        except Cancelled:
            self.cancelled.emit(job.id)
        except Exception as exc:
            self.failed.emit(job.id, readable_error(job.title, exc))
        else:
            self.finished.emit(job.id, result)
