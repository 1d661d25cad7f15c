"""Progress: ETA, monotone fractions, sub-ranges, cancel from another thread, notices."""

from __future__ import annotations

import threading

import pytest

from photofix.core.errors import Cancelled
from photofix.inference.progress import Progress, ProgressInfo


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_eta_comes_from_elapsed_time_and_fraction():
    clock = FakeClock()
    reports: list[ProgressInfo] = []
    progress = Progress(reports.append, clock=clock)
    progress.update(0.0, "starting")
    clock.now += 10.0
    progress.update(0.25, "a quarter")
    clock.now += 10.0
    progress.update(1.0)
    assert reports[0] == ProgressInfo(0.0, None, "starting")  # nothing known yet
    assert reports[1] == ProgressInfo(0.25, pytest.approx(30.0), "a quarter")
    assert reports[2].fraction == 1.0 and reports[2].eta_seconds == 0.0


def test_fraction_is_clamped_and_never_goes_back():
    reports: list[ProgressInfo] = []
    progress = Progress(reports.append)
    for value in (-1.0, 0.5, 0.3, float("nan"), 2.0):
        progress.update(value)
    assert [r.fraction for r in reports] == [0.0, 0.5, 0.5, 0.5, 1.0]
    assert progress.fraction == 1.0


def test_sub_progress_maps_into_the_parent_range():
    clock = FakeClock()
    reports: list[ProgressInfo] = []
    parent = Progress(reports.append, clock=clock)
    parent.update(0.2)
    child = parent.sub(0.2, 0.6)
    child.update(0.5, "half of the middle step")
    grandchild = child.sub(0.5, 1.0)
    grandchild.update(1.0)
    assert [r.fraction for r in reports] == pytest.approx([0.2, 0.4, 0.6])
    assert reports[1].message == "half of the middle step"
    assert child.fraction == 1.0


def test_sub_rejects_a_bad_range():
    with pytest.raises(ValueError, match="start <= end"):
        Progress().sub(0.7, 0.3)


def test_cancel_from_another_thread_is_seen_by_check():
    progress = Progress()
    child = progress.sub(0.0, 0.5)
    progress.check()  # not cancelled yet: no error
    worker = threading.Thread(target=progress.cancel)
    worker.start()
    worker.join(timeout=5)
    assert progress.cancelled and child.cancelled
    with pytest.raises(Cancelled):
        child.check()


def test_cancel_of_a_child_cancels_the_whole_job():
    progress = Progress()
    progress.sub(0.5, 1.0).cancel()
    with pytest.raises(Cancelled):
        progress.check()


def test_notices_are_shared_between_parent_and_sub():
    seen: list[str] = []
    parent = Progress(notice_callback=seen.append)
    child = parent.sub(0.0, 0.5)
    parent.notice("first")
    child.notice("Out of memory with 512-px tiles; retried with 256-px tiles.")
    expected = ["first", "Out of memory with 512-px tiles; retried with 256-px tiles."]
    assert parent.notices == child.notices == seen == expected
