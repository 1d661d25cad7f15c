"""Progress reporting and cancellation for long operations.

Every operation receives one :class:`Progress`. The worker calls :meth:`Progress.update` as work
completes and :meth:`Progress.check` at safe points (the tiler does so before every tile); the
user interface calls :meth:`Progress.cancel` from its own thread. Nothing here imports Qt: the
inference service adapts the callbacks to signals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from photofix.core.errors import Cancelled

__all__ = ["Progress", "ProgressInfo"]


@dataclass(frozen=True)
class ProgressInfo:
    """One progress report.

    ``fraction`` is the overall completed share in [0, 1] and never decreases during one job;
    ``eta_seconds`` is the estimated time left, ``None`` while nothing is done yet.
    """

    fraction: float
    eta_seconds: float | None
    message: str = ""


class _SharedState:
    """What a :class:`Progress` and all its sub-progresses have in common."""

    def __init__(self, notice_callback: Callable[[str], None] | None) -> None:
        self.lock = threading.RLock()
        self.cancel_event = threading.Event()
        self.notices: list[str] = []
        self.notice_callback = notice_callback


class Progress:
    """Thread-safe progress reporter and cancel token passed to every operation.

    ``callback`` receives a :class:`ProgressInfo` after every :meth:`update`, on the thread that
    called :meth:`update`. ``notice_callback`` receives each user-facing note posted with
    :meth:`notice`. The ETA is measured from the moment this object is created, so create it when
    the job starts running, not when it is queued. ``clock`` (seconds, monotone) can be replaced
    in tests.
    """

    def __init__(
        self,
        callback: Callable[[ProgressInfo], None] | None = None,
        *,
        notice_callback: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback
        self._setup(clock, clock(), _SharedState(notice_callback), parent=None, span=(0.0, 1.0))

    def _setup(
        self,
        clock: Callable[[], float],
        start_time: float,
        shared: _SharedState,
        *,
        parent: Progress | None,
        span: tuple[float, float],
    ) -> None:
        self._clock = clock
        self._start_time = start_time
        self._shared = shared
        self._fraction = 0.0
        # A sub-progress forwards its updates to the parent, mapped onto ``span``.
        self._parent = parent
        self._span = span

    # -- cancellation -----------------------------------------------------------------------

    def cancel(self) -> None:
        """Ask the operation to stop; safe to call from any thread, any number of times."""
        self._shared.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called on this progress, its parent or any sibling."""
        return self._shared.cancel_event.is_set()

    def check(self) -> None:
        """Raise :class:`~photofix.core.errors.Cancelled` if the operation was cancelled."""
        if self._shared.cancel_event.is_set():
            raise Cancelled()

    # -- progress ---------------------------------------------------------------------------

    @property
    def fraction(self) -> float:
        """The completed share of this progress's own range, in [0, 1]."""
        with self._shared.lock:
            return self._fraction

    def update(self, fraction: float, message: str = "") -> None:
        """Report that ``fraction`` (clamped to [0, 1]) of the work is done.

        Reports never go backwards: a fraction below an earlier one is raised to it, so a restart
        (for example after an out-of-memory retry) does not make the bar jump back.
        """
        with self._shared.lock:
            self._fraction = max(self._fraction, _clamp01(fraction))
            if self._parent is not None:
                start, end = self._span
                self._parent.update(start + (end - start) * self._fraction, message)
                return
            info = ProgressInfo(self._fraction, self._eta(self._fraction), message)
            # Called under the lock so that concurrent reporters' callbacks stay in order.
            if self._callback is not None:
                self._callback(info)

    def _eta(self, fraction: float) -> float | None:
        if fraction <= 0.0:
            return None
        elapsed = max(0.0, self._clock() - self._start_time)
        return elapsed * (1.0 - fraction) / fraction

    def sub(self, start: float, end: float) -> Progress:
        """A child progress whose ``update(f)`` reports ``start + (end - start) * f`` here.

        The child shares the cancel state and the notices with this progress.
        """
        if not 0.0 <= start <= end <= 1.0:
            raise ValueError(
                f"sub-progress range must satisfy 0 <= start <= end <= 1, got [{start}, {end}]"
            )
        child = Progress.__new__(Progress)
        child._callback = None
        child._setup(self._clock, self._start_time, self._shared, parent=self, span=(start, end))
        return child

    # -- notices ----------------------------------------------------------------------------

    def notice(self, message: str) -> None:
        """Post a note the user should see (e.g. that a job fell back to the CPU)."""
        with self._shared.lock:
            self._shared.notices.append(message)
            if self._shared.notice_callback is not None:
                self._shared.notice_callback(message)

    @property
    def notices(self) -> list[str]:
        """A copy of every note posted so far, by this progress, its parent or its children."""
        with self._shared.lock:
            return list(self._shared.notices)


def _clamp01(value: float) -> float:
    if value != value:  # NaN: treat as no progress rather than poisoning the bar
        return 0.0
    return min(1.0, max(0.0, float(value)))
