"""The canvas and its tools, driven through the real window with mouse and key events."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from photofix.core.imageio import to_uint8
from photofix.ops import REGISTRY
from photofix.ops.registry import Operation, OperationRegistry, Param
from photofix.resources import sample_scan
from photofix.ui.controller import PreviewRequest
from photofix.ui.main_window import MainWindow
from photofix.ui.panels import OperationsPanel, ParamField

from .conftest import wait_idle


def view_point(window: MainWindow, x: float, y: float) -> QPoint:
    """The viewport pixel showing (the centre of) image pixel (x, y)."""
    p = window.view.viewportTransform().map(QPointF(x + 0.5, y + 0.5))
    return QPoint(math.floor(p.x()), math.floor(p.y()))


def drag(widget, points: list[QPoint], button=Qt.MouseButton.LeftButton, modifiers=None) -> None:
    mods = modifiers or Qt.KeyboardModifier.NoModifier
    QTest.mousePress(widget, button, mods, points[0])
    for p in points[1:]:
        QTest.mouseMove(widget, p)
    QTest.mouseRelease(widget, button, mods, points[-1])


def overlay_rgb(window: MainWindow) -> tuple[int, int, int]:
    """The mask overlay's colour (as drawn at opacity 1)."""
    c = QColor(window.settings.mask_colour)
    return c.red(), c.green(), c.blue()


def opened(window: MainWindow) -> MainWindow:
    assert window.open_file(sample_scan())
    window.operations.live_preview.setChecked(False)
    wait_idle(window)  # no stray preview job may answer a test's wait for its own job
    window.view.set_zoom(1.0)
    window.view.centerOn(256, 256)
    QApplication.processEvents()
    return window


def test_open_shows_the_scan_with_size_depth_and_zoom(window) -> None:
    opened(window)
    assert window.size_label.text() == "512 × 512 px · 8-bit RGB · JPEG"
    assert window.zoom_label.text() == "100 %"
    assert "sample_scan.jpg" in window.windowTitle()
    shot = window.view.viewport().grab().toImage()
    p = view_point(window, 256, 480)
    shown = shot.pixelColor(p)
    expected = to_uint8(window.controller.document.image[480, 256])
    assert (shown.red(), shown.green(), shown.blue()) == tuple(expected)
    # status bar: cursor position and colour at the source bit depth
    QTest.mouseMove(window.view.viewport(), view_point(window, 10, 20))
    assert window.position_label.text() == "x 10, y 20"
    rgb = to_uint8(window.controller.document.image[20, 10])
    assert window.colour_label.text() == "RGB " + " ".join(str(v) for v in rgb)


def test_unreadable_file_is_refused_and_the_image_kept(window, answers, tmp_path) -> None:
    opened(window)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG broken")
    assert not window.open_file(bad)
    assert answers.warnings and "broken.png" in answers.warnings[0]
    assert window.controller.document.path == sample_scan()


def test_brush_stroke_is_one_undo_step_and_undo_redo_restore_it(window) -> None:
    opened(window)
    doc = window.controller.document
    window.actions["tool_brush"].setChecked(True)
    window._on_brush_size_changed(20)
    vp = window.view.viewport()
    drag(
        vp,
        [view_point(window, 100, 100), view_point(window, 200, 100), view_point(window, 300, 150)],
    )
    painted = doc.mask.copy()
    assert painted[100, 150] and painted[150, 300] and not painted[300, 300]
    assert len(doc.history.steps) == 1 and doc.history.steps[0].label == "Mask stroke"
    # the overlay shows the mask where painted
    window.controller.mask_overlay.setOpacity(1.0)

    def shown() -> tuple[int, int, int]:
        c = vp.grab().toImage().pixelColor(view_point(window, 150, 100))
        return c.red(), c.green(), c.blue()

    assert shown() == overlay_rgb(window)
    window.actions["undo"].trigger()
    assert not doc.mask.any()
    assert shown() == tuple(int(v) for v in to_uint8(doc.image[100, 150]))
    window.actions["redo"].trigger()
    assert np.array_equal(doc.mask, painted)
    # eraser takes part of it away, again as one step
    window.actions["tool_eraser"].setChecked(True)
    drag(vp, [view_point(window, 140, 100), view_point(window, 160, 100)])
    assert not doc.mask[100, 150] and doc.mask[100, 110]
    assert [s.label for s in doc.history.steps] == ["Mask stroke", "Mask stroke"]
    assert window.history.count() == 3


def test_hint_brush_paints_its_colour_on_its_own_layer(window) -> None:
    opened(window)
    doc = window.controller.document
    from PySide6.QtGui import QColor

    window._set_hint_colour(QColor("#2060c0"))
    window.actions["tool_hint"].setChecked(True)
    drag(window.view.viewport(), [view_point(window, 50, 50), view_point(window, 90, 50)])
    assert doc.hint_mask[50, 70] and not doc.mask.any()
    assert np.allclose(doc.hints[50, 70], (0x20 / 255, 0x60 / 255, 0xC0 / 255))
    shot = window.view.viewport().grab().toImage()
    c = shot.pixelColor(view_point(window, 70, 50))
    assert c.blue() > c.red()


def test_brush_size_keys_and_slider(window) -> None:
    opened(window)
    window._on_brush_size_changed(40)
    window.actions["brush_bigger"].trigger()
    assert window.settings.brush_size == 48 and window.brush_spin.value() == 48
    window.actions["brush_smaller"].trigger()
    window.actions["brush_smaller"].trigger()
    assert window.settings.brush_size == 33
    window.brush_slider.setValue(100)
    assert window.view.brush_cursor.radius() == 50


def test_mask_clear_invert_grow_shrink_are_undoable_steps(window) -> None:
    opened(window)
    c = window.controller
    doc = c.document
    seed = np.zeros((512, 512), bool)
    seed[100:110, 100:110] = True
    doc.commit("seed", {"mask": seed})
    n = doc.mask.sum()
    c.edit_mask("grow", 3)
    assert doc.mask.sum() > n
    c.edit_mask("grow", -3)
    assert doc.mask.sum() == n
    c.edit_mask("invert")
    assert doc.mask.sum() == 512 * 512 - n
    window.actions["mask_clear"].trigger()
    assert not doc.mask.any()
    labels = [s.label for s in doc.history.steps]
    assert labels == [
        "seed",
        "Grow mask by 3 px",
        "Shrink mask by 3 px",
        "Invert mask",
        "Clear mask",
    ]
    window.actions["undo"].trigger()
    assert doc.mask.sum() == 512 * 512 - n


def test_wheel_zooms_at_the_cursor_and_keys_fit_and_100(window) -> None:
    opened(window)
    view = window.view
    view.set_zoom(2.0)  # larger than the viewport, so the view can scroll to keep the anchor
    vp = view.viewport()
    at = view_point(window, 300, 200)
    before = view.mapToScene(at)
    event = QWheelEvent(
        QPointF(at), QPointF(vp.mapToGlobal(at)), QPoint(0, 0), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )  # fmt: skip
    QApplication.sendEvent(vp, event)
    assert view.zoom() == pytest.approx(2.4)
    after = view.mapToScene(at)
    assert abs(after.x() - before.x()) < 1 and abs(after.y() - before.y()) < 1
    assert window.zoom_label.text() == "240 %"
    window.actions["fit"].trigger()
    visible = view.visible_image_rect()
    assert visible.width() == pytest.approx(512, abs=1) and visible.height() == 512
    window.actions["actual"].trigger()
    assert view.zoom() == 1.0


@pytest.mark.parametrize("how", ["space", "middle"])
def test_pan_with_space_drag_or_middle_drag(window, how) -> None:
    opened(window)
    view = window.view
    view.set_zoom(4.0)
    view.centerOn(256, 256)
    QApplication.processEvents()
    centre = view.centre()
    vp = view.viewport()
    points = [QPoint(300, 300), QPoint(250, 280), QPoint(200, 260)]
    window.actions["tool_brush"].setChecked(True)
    if how == "space":
        QTest.keyPress(view, Qt.Key.Key_Space)
        drag(vp, points)
        QTest.keyRelease(view, Qt.Key.Key_Space)
    else:
        drag(vp, points, Qt.MouseButton.MiddleButton)
    moved = view.centre() - centre
    assert moved.x() == pytest.approx(100 / 4, abs=0.6) and moved.y() == pytest.approx(10, abs=0.6)
    assert not window.controller.document.mask.any(), "panning must not paint"


def fade_applied(window: MainWindow, qtbot) -> None:
    c = window.controller
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        c.apply_operation(PreviewRequest(REGISTRY.get("fade"), {}))
    QApplication.processEvents()


def test_compare_split_shows_before_left_and_after_right_and_follows_a_drag(window, qtbot):
    opened(window)
    fade_applied(window, qtbot)
    doc = window.controller.document
    window.actions["compare_vertical"].setChecked(True)
    view, vp = window.view, window.view.viewport()

    def shown(x: int, y: int) -> tuple[int, int, int]:
        c = vp.grab().toImage().pixelColor(view_point(window, x, y))
        return c.red(), c.green(), c.blue()

    def before(x: int, y: int) -> tuple[int, ...]:
        return tuple(int(v) for v in to_uint8(doc.original[y, x]))

    def after(x: int, y: int) -> tuple[int, ...]:
        return tuple(int(v) for v in to_uint8(doc.image[y, x]))

    assert before(200, 300) != after(200, 300)
    assert shown(200, 300) == before(200, 300)  # split at the middle: 200 is left of 256
    assert shown(400, 300) == after(400, 300)
    # drag the split line by its handle from the middle to x = 128 (with a painting tool only
    # the handle grabs it: strokes beside the line paint)
    y = round(view.split_knob().y())
    drag(vp, [view_point(window, 256, y), view_point(window, 200, y), view_point(window, 128, y)])
    assert view.split == pytest.approx(128.5 / 512, abs=0.01)
    assert shown(100, 300) == before(100, 300)
    assert shown(200, 300) == after(200, 300)
    assert not doc.mask.any(), "dragging the split must not paint"
    # holding backslash shows the before image everywhere
    QTest.keyPress(view, Qt.Key.Key_Backslash)
    assert shown(400, 300) == before(400, 300)
    QTest.keyRelease(view, Qt.Key.Key_Backslash)
    assert shown(400, 300) == after(400, 300)
    # top/bottom split
    window.actions["compare_horizontal"].setChecked(True)
    view.set_split(0.5)
    assert shown(300, 100) == before(300, 100)
    assert shown(300, 400) == after(300, 400)
    # before = previous step: the same as the original here (one image step)
    window.actions["before_previous"].setChecked(True)
    assert shown(300, 100) == before(300, 100)


def test_side_by_side_views_follow_each_other(window, qtbot) -> None:
    opened(window)
    window.actions["compare_side"].setChecked(True)
    QApplication.processEvents()
    main, other = window.view, window.before_view
    assert other.isVisible()
    main.set_zoom(3.0)
    main.centerOn(100, 120)
    QApplication.processEvents()
    assert other.zoom() == pytest.approx(3.0)
    assert abs(other.centre().x() - main.centre().x()) < 1
    assert abs(other.centre().y() - main.centre().y()) < 1
    other.horizontalScrollBar().setValue(other.horizontalScrollBar().value() + 60)
    assert abs(other.centre().x() - main.centre().x()) < 1
    # the side view shows the original
    doc = window.controller.document
    p = other.viewportTransform().map(QPointF(100.5, 120.5))
    c = other.viewport().grab().toImage().pixelColor(math.floor(p.x()), math.floor(p.y()))
    assert (c.red(), c.green(), c.blue()) == tuple(int(v) for v in to_uint8(doc.original[120, 100]))


def test_history_panel_lists_steps_with_parameters_and_jumps_on_click(window, qtbot) -> None:
    opened(window)
    doc = window.controller.document
    drag(window.view.viewport(), [view_point(window, 10, 10), view_point(window, 60, 10)])
    fade_applied(window, qtbot)
    texts = [window.history.item(i).text() for i in range(window.history.count())]
    assert texts[0] == "Opened sample_scan.jpg"
    assert texts[1] == "Mask stroke"
    assert texts[2].startswith("Fix fading — ") and "clip 0.5" in texts[2]
    faded = doc.image.copy()
    item = window.history.item(0)
    rect = window.history.visualItemRect(item)
    QTest.mouseClick(window.history.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.history.index == 0 and not doc.mask.any()
    assert np.array_equal(doc.image, doc.original)
    assert window.history.item(0).font().bold() is not False
    QTest.mouseClick(
        window.history.viewport(),
        Qt.MouseButton.LeftButton,
        pos=window.history.visualItemRect(window.history.item(2)).center(),
    )
    assert np.array_equal(doc.image, faded) and doc.mask.any()


def test_history_panel_says_when_old_steps_were_dropped(window) -> None:
    opened(window)
    doc = window.controller.document
    doc.history.set_budget(250_000)
    for i in range(4):
        mask = np.zeros((512, 512), bool)
        mask[: 100 * (i + 1)] = True
        doc.commit(f"step {i}", {"mask": mask})
    assert doc.history.dropped > 0
    assert "dropped" in window.history.item(0).text()


def test_operations_panel_is_built_from_the_params() -> None:
    panel_ops = OperationRegistry(
        [
            Operation(
                "demo",
                "Demo",
                "every kind of parameter",
                (
                    Param("amount", "float", 0.25, minimum=0, maximum=1),
                    Param("radius", "int", 3, minimum=1, maximum=9),
                    Param("mode", "choice", "b", choices=("a", "b")),
                    Param("fast", "bool", True),
                    Param("label", "str", "x"),
                    Param("size", "int", None, minimum=1),
                    Param("level", "float", "auto", minimum=0, maximum=50, allow_auto=True),
                ),
                lambda layers, params, ctx: layers,
            ),
            *REGISTRY,
        ]
    )
    panel = OperationsPanel(panel_ops)
    # every operation is offered once, by purpose; one the panel does not know comes last
    assert sorted(panel.operation_names()) == sorted(["demo", *REGISTRY.names()])
    assert panel.operation_names()[:2] == ["fade", "colorize"]
    assert panel.operation_names()[-1] == "demo"
    assert panel.current_form().op.name == "demo"  # the first one registered
    form = panel.forms[0]
    assert form.values() == {
        "amount": 0.25, "radius": 3, "mode": "b", "fast": True, "label": "x", "level": "auto",
    }  # fmt: skip
    field: ParamField = form.fields["size"]
    assert field.auto is not None and not field.editor.isEnabled()
    field.set_value(640)
    form.fields["level"].set_value(12.5)
    form.fields["radius"].editor.setValue(99)  # clamped to the declared maximum
    values = form.values()
    assert values["size"] == 640 and values["level"] == 12.5 and values["radius"] == 9
    panel_ops.get("demo").resolve(values)  # what the panel produces is valid for the op
    # resize cannot be blended: strength and mask limit are disabled for it
    panel.select("resize")
    assert not panel.strength.isEnabled() and not panel.live_preview.isEnabled()
    panel.select("fade")
    assert panel.strength.isEnabled()


def test_toolbar_feather_is_the_operations_feather(window) -> None:
    window.feather_spin.setValue(12)
    assert window.operations.feather.value() == 12 and window.settings.feather == 12
    window.operations.feather.setValue(3)
    assert window.feather_spin.value() == 3
    assert window.operations.request().feather == 3
