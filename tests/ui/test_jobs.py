"""Operations run through the inference service: apply, cancel, errors, live preview, and the
GUI thread stays responsive meanwhile."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, QPointF, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from photofix.inference.tiling import run_tiled
from photofix.ops import REGISTRY
from photofix.ops.registry import Layers, OpContext, Operation
from photofix.resources import sample_scan
from photofix.ui.controller import PreviewRequest
from tests.ui.test_workspace import overlay_rgb

from .conftest import wait_idle


def slow_operation(tile_seconds: float = 0.04, busy: bool = False) -> Operation:
    # 512 x 512 in 64 px tiles with overlap: 81 tiles, about 81 x tile_seconds in all
    """A tiled operation that darkens the image slowly (registered only in these tests)."""

    def tile_fn(tile: np.ndarray) -> np.ndarray:
        if busy:  # hold the GIL for a while, as Python-heavy model code does
            end = time.perf_counter() + tile_seconds
            x = 0
            while time.perf_counter() < end:
                x += 1
        else:
            time.sleep(tile_seconds)
        return tile * 0.5

    def run(layers: Layers, params, ctx: OpContext) -> Layers:
        out = run_tiled(layers.image, tile_fn, tile=64, overlap=8, progress=ctx.progress)
        return layers.replace(image=out)

    return Operation("slow", "Slow darken", "test only", (), run)


@pytest.fixture
def opened(window):
    assert window.open_file(sample_scan())
    window.operations.live_preview.setChecked(False)
    wait_idle(window)  # no stray preview job may answer a test's wait for its own job
    return window


def test_apply_runs_fade_in_the_service_as_one_undoable_step(opened, qtbot) -> None:
    window = opened
    doc = window.controller.document
    window.operations.select("fade")
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        qtbot.mouseClick(window.operations.apply_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert not np.array_equal(doc.image, doc.original)
    assert [s.label for s in doc.history.steps] == ["Fix fading"]
    assert doc.history.steps[0].op == "fade"
    # a faded print's red cast is reduced
    before, after = doc.original.mean(axis=(0, 1)), doc.image.mean(axis=(0, 1))
    assert before[0] - before[2] > after[0] - after[2]
    assert not window.jobs.isVisible() and window.operations.apply_button.isEnabled()
    window.actions["undo"].trigger()
    assert np.array_equal(doc.image, doc.original)


def test_strength_and_mask_limit_blend_the_result(opened, qtbot) -> None:
    window = opened
    c, doc = window.controller, window.controller.document
    mask = np.zeros((512, 512), bool)
    mask[100:200, 100:200] = True
    doc.commit("mask", {"mask": mask})
    window.operations.select("fade")
    window.operations.limit_to_mask.setChecked(True)
    window.operations.feather.setValue(0)
    window.operations.strength.setValue(50)
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        c.apply_operation(window.operations.request())
    QApplication.processEvents()
    assert np.array_equal(doc.image[~mask], doc.original[~mask])
    full = REGISTRY.get("fade").run(
        Layers(doc.original), REGISTRY.get("fade").resolve({}), OpContext()
    )
    inside = doc.image[mask]
    expected = doc.original[mask] + 0.5 * (full.image[mask] - doc.original[mask])
    assert np.allclose(inside, expected, atol=1e-5)
    assert "strength 0.5" in window.history.item(2).text()


def test_cancel_stops_a_long_job_and_leaves_the_image_unchanged(opened, qtbot) -> None:
    window = opened
    c, doc = window.controller, window.controller.document
    before = doc.image.copy()
    c.apply_operation(PreviewRequest(slow_operation(), {}))
    # other (silent) jobs may report progress first: wait for what the user sees
    qtbot.waitUntil(
        lambda: window.jobs.isVisible() and "left" in window.jobs.eta.text(), timeout=10_000
    )
    assert window.jobs.title.text() == "Slow darken"
    started = time.perf_counter()
    with qtbot.waitSignal(window.service.cancelled, timeout=5_000):
        qtbot.mouseClick(window.jobs.cancel_button, Qt.MouseButton.LeftButton)
    stopped_in = time.perf_counter() - started
    QApplication.processEvents()
    print(f"\ncancel → cancelled signal: {1000 * stopped_in:.0f} ms (tiles of 40 ms)")
    assert stopped_in < 1.0  # one 40 ms tile, plus a loaded machine's slack
    assert np.array_equal(doc.image, before)
    assert not doc.history.steps
    assert not window.jobs.isVisible()
    assert "cancelled" in window.statusBar().currentMessage()


def test_a_failing_operation_shows_a_readable_message(opened, qtbot, answers) -> None:
    window = opened
    doc = window.controller.document

    def broken(layers, params, ctx):
        raise ValueError("tile size must be even")

    op = Operation("broken", "Broken op", "test only", (), broken)
    with qtbot.waitSignal(window.service.failed, timeout=10_000):
        window.controller.apply_operation(PreviewRequest(op, {}))
    QApplication.processEvents()
    assert answers.warnings == [
        "Broken op failed unexpectedly (ValueError: tile size must be even). Your image is "
        "unchanged. Please report this with the image size and the parameters used."
    ]
    assert not doc.history.steps


def test_an_empty_mask_limit_is_refused_before_running(opened, answers) -> None:
    window = opened
    window.operations.limit_to_mask.setChecked(True)
    assert window.controller.apply_operation(window.operations.request()) is None
    assert answers.warnings and "mask is empty" in answers.warnings[0]


def measure_timer(seconds: float, keep_going=lambda: True) -> np.ndarray:
    """Gaps (ms) between the ticks of a 16 ms timer on the GUI thread over ``seconds``."""
    clock = QElapsedTimer()
    ticks: list[int] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(16)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    clock.start()
    timer.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and keep_going():
        QTest.qWait(5)
    timer.stop()
    return np.diff(ticks)


def test_gui_timer_keeps_ticking_while_a_job_runs(opened, qtbot) -> None:
    """A 16 ms timer on the GUI thread never fires more than 50 ms late during a job.

    The job holds the GIL in pure Python most of the time (the worst case for a Python GUI).
    This box is shared with other busy processes, whose scheduling alone can delay any
    thread: the lateness without a job is measured too, and the job is measured over up to
    three one-second windows, the best of which must meet the bound (twice the idle lateness
    when the box itself is that loaded).
    """
    window = opened
    idle_late = float(measure_timer(0.75).max() - 16)
    op = slow_operation(tile_seconds=0.05, busy=True)
    with qtbot.waitSignal(window.controller.job_started, timeout=5_000):
        window.controller.apply_operation(PreviewRequest(op, {}))
    windows = []
    for _ in range(3):
        gaps = measure_timer(1.0, window.controller.busy)
        assert window.controller.busy(), "the job should still be running while we measure"
        assert len(gaps) > 15
        windows.append((float(gaps.max() - 16), float(np.median(gaps))))
        if windows[-1][0] <= max(50.0, 2 * idle_late):
            break
    print(
        "\n16 ms timer during a job, per 1 s window (max late, median gap) ms: "
        + ", ".join(f"({late:.0f}, {median:.0f})" for late, median in windows)
        + f"; without a job: max late {idle_late:.0f} ms"
    )
    assert min(late for late, _ in windows) <= max(50.0, 2 * idle_late)
    window.controller.cancel_jobs()
    wait_idle(window)


def test_live_preview_shows_the_visible_area_before_applying(opened, qtbot) -> None:
    window = opened
    c, doc = window.controller, window.controller.document
    window.view.set_zoom(2.0)
    window.view.centerOn(256, 256)
    window.operations.select("fade")
    with qtbot.waitSignal(c.preview_changed, timeout=10_000) as blocker:
        window.operations.live_preview.setChecked(True)
    assert blocker.args == [True]
    rect = window.view.image_item.preview_rect()
    assert rect is not None and rect.contains(window.view.visible_image_rect())
    assert np.array_equal(doc.image, doc.original) and not doc.history.steps
    # the after side of the split shows the preview
    window.actions["compare_vertical"].setChecked(True)
    vp = window.view.viewport()
    p = window.view.viewportTransform().map(rect.center()).toPoint() + vp.rect().topLeft()
    p.setX(p.x() + 20)
    shown = vp.grab().toImage().pixelColor(p)
    scene = window.view.mapToScene(p)
    x, y = int(scene.x()), int(scene.y())
    original = np.rint(doc.original[y, x] * 255)
    assert abs(shown.blue() - original[2]) > 3 or abs(shown.red() - original[0]) > 3
    # Apply replaces the preview by the real result
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        c.apply_operation(window.operations.request())
    QApplication.processEvents()
    assert window.view.image_item.preview_rect() is None
    wait_idle(window)


def test_a_result_computed_while_the_image_changed_is_refused(opened, qtbot, answers) -> None:
    window = opened
    c, doc = window.controller, window.controller.document
    with qtbot.waitSignal(c.job_progress, timeout=10_000):
        c.apply_operation(PreviewRequest(slow_operation(tile_seconds=0.01), {}))
    changed = doc.image.copy()
    changed[:10, :10] = 0.0
    doc.commit("edit meanwhile", {"image": changed})
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        pass
    QApplication.processEvents()
    assert [s.label for s in doc.history.steps] == ["edit meanwhile"]
    assert np.array_equal(doc.image, changed)
    assert answers.warnings and "changed while Slow darken was running" in answers.warnings[0]


def test_a_result_arriving_during_a_brush_stroke_is_applied_after_it(opened, qtbot) -> None:
    window = opened
    c, doc = window.controller, window.controller.document
    window.actions["overlay"].setChecked(False)
    c._on_stroke_started(QPointF(20, 20))
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        c.apply_operation(PreviewRequest(REGISTRY.get("fade"), {}))
    QApplication.processEvents()
    c._on_stroke_moved(QPointF(80, 20))
    assert not doc.history.steps  # still painting: nothing committed yet
    assert window.actions["overlay"].isChecked(), "painting shows the overlay again"
    c._on_stroke_finished()
    assert [s.label for s in doc.history.steps] == ["Mask stroke", "Fix fading"]


def test_resize_changes_every_layer_and_undo_restores_the_size(opened, qtbot) -> None:
    window = opened
    c, doc = window.controller, window.controller.document
    c._on_stroke_started(QPointF(20, 20))
    c._on_stroke_moved(QPointF(80, 20))
    c._on_stroke_finished()
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        c.apply_operation(PreviewRequest(REGISTRY.get("resize"), {"scale": 0.5}))
    QApplication.processEvents()
    assert doc.size == (256, 256) and doc.mask.shape == (256, 256) and doc.mask[10, 25]
    assert window.size_label.text().startswith("256 × 256 px")
    assert window.view.image_rect().width() == 256
    window.actions["compare_vertical"].setChecked(True)  # the 512 px original is stretched over
    assert window.view.before_item.sceneBoundingRect().width() == 256
    window.actions["undo"].trigger()
    assert doc.size == (512, 512) and window.view.image_rect().width() == 512
    assert window.size_label.text().startswith("512 × 512 px")


def test_an_operation_that_writes_the_mask_updates_the_overlay(opened, qtbot) -> None:
    """Detectors propose a mask: the panel and the apply path need no change for them."""
    window = opened
    doc = window.controller.document

    def detect(layers: Layers, params, ctx: OpContext) -> Layers:
        mask = layers.image.mean(axis=2) > params["threshold"]
        return layers.replace(mask=mask)

    from photofix.ops.registry import Param

    op = Operation("detect", "Detect bright specks", "test only",
                   (Param("threshold", "float", 0.9, minimum=0, maximum=1),), detect,
                   writes=("mask",), blendable=False)  # fmt: skip
    with qtbot.waitSignal(window.service.finished, timeout=10_000):
        window.controller.apply_operation(PreviewRequest(op, {"threshold": 0.85}))
    QApplication.processEvents()
    expected = doc.image.mean(axis=2) > 0.85
    assert expected.any() and np.array_equal(doc.mask, expected)
    assert doc.history.steps[0].label == "Detect bright specks"
    assert window.history.item(1).text() == "Detect bright specks — threshold 0.85"
    y, x = np.argwhere(expected)[0]
    window.controller.mask_overlay.setOpacity(1.0)
    window.view.set_zoom(1.0)
    window.view.centerOn(float(x), float(y))
    p = window.view.viewportTransform().map(QPointF(x + 0.5, y + 0.5))
    c = window.view.viewport().grab().toImage().pixelColor(int(p.x()), int(p.y()))
    assert (c.red(), c.green(), c.blue()) == overlay_rgb(window)
