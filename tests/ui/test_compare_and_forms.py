"""Rough edges a new user hit in the compare view and the operation forms."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from photofix.ops import REGISTRY
from photofix.ui.controller import PreviewRequest
from photofix.ui.panels import OperationsPanel, _CheckBoxes

from .conftest import wait_idle
from .test_workspace import drag, fade_applied, opened, view_point


def test_split_line_comes_into_sight_when_zoomed_in(window, qtbot) -> None:
    opened(window)
    view = window.view
    view.set_zoom(8.0)
    view.centerOn(440, 100)  # far right of the 512-px picture: x = 256 is off-screen
    QApplication.processEvents()
    window.actions["compare_vertical"].setChecked(True)
    seen = view.visible_image_rect()
    x = view.split_line()[0].x()
    assert seen.left() < x < seen.right()
    # zooming in again elsewhere brings it back again
    view.centerOn(60, 400)
    view.zoom_by(1.25)
    seen = view.visible_image_rect()
    assert seen.left() < view.split_line()[0].x() < seen.right()


def test_painting_beside_the_split_line_paints_and_the_handle_still_drags(window, qtbot) -> None:
    opened(window)
    window.actions["tool_brush"].setChecked(True)
    window.actions["compare_vertical"].setChecked(True)
    view, vp = window.view, window.view.viewport()
    doc = window.controller.document
    knob = view.split_knob()
    # a stroke 3 px right of the line, well away from the handle
    y = round(knob.y()) + 120
    drag(vp, [view_point(window, 259, y), view_point(window, 262, y + 20)])
    assert view.split == 0.5
    assert doc.mask[y : y + 20, 250:270].any(), "the stroke beside the line painted nothing"
    # the handle in the middle of the line still moves it
    drag(vp, [view_point(window, 256, knob.y()), view_point(window, 150, knob.y())])
    assert abs(view.split - 150.5 / 512) < 0.01


def test_before_side_has_the_new_size_after_an_enlargement(window, qtbot) -> None:
    opened(window)
    window.actions["compare_vertical"].setChecked(True)
    with qtbot.waitSignal(window.service.finished, timeout=20_000):
        window.controller.apply_operation(PreviewRequest(REGISTRY.get("resize"), {"scale": 2}))
    wait_idle(window)
    assert window.controller.document.size == (1024, 1024)
    view = window.view
    assert view.before_item.sceneBoundingRect() == view.image_rect()
    window.actions["compare_side"].setChecked(True)
    QApplication.processEvents()
    before = window.before_view
    assert before.image_item.sceneBoundingRect().size() == view.image_rect().size()


def test_side_by_side_labels_each_side(window, qtbot) -> None:
    opened(window)
    fade_applied(window, qtbot)
    window.actions["compare_side"].setChecked(True)
    QApplication.processEvents()
    assert window.before_view.side_label == "Before" and window.view.compare_mode == "side"
    for v in (window.view, window.before_view):
        shot = v.viewport().grab().toImage()
        tag = shot.pixelColor(QPoint(10, 10))  # the dark rounded tag in the corner
        assert tag.red() < 90 and tag.green() < 90, "no label drawn"


def test_kinds_are_check_boxes(qtbot) -> None:
    panel = OperationsPanel(REGISTRY)
    qtbot.addWidget(panel)
    panel.select("remove-defects")
    field = panel.current_form().fields["kinds"]
    assert isinstance(field.editor, _CheckBoxes)
    assert [n for n, b in field.editor.boxes.items() if b.isChecked()] == ["dust", "scratches"]
    field.editor.boxes["scratches"].setChecked(False)
    field.editor.boxes["tears"].setChecked(True)
    assert panel.request().params["kinds"] == "dust,tears"
    field.set_value("scratches")
    assert panel.current_form().values()["kinds"] == "scratches"


def test_upscale_form_says_what_will_happen(qtbot) -> None:
    panel = OperationsPanel(REGISTRY)
    qtbot.addWidget(panel)
    panel.show()
    panel.select("upscale")
    panel.set_image_size((1200, 800))
    form = panel.current_form()
    scale, long_edge = form.fields["scale"], form.fields["long_edge"]
    assert scale.stack.currentWidget() is scale.auto_label
    assert scale.auto_label.text() == "×4 unless a long edge is set"
    assert long_edge.auto_label.text() == "not set: the scale decides"
    assert not scale.editor.isVisible()  # no meaningless "2" beside a ticked "auto"
    assert form.outcome.text() == "Result: 1200 × 800 → 4800 × 3200 px (×4)"
    scale.auto.setChecked(False)
    scale.editor.setValue(2)
    assert form.outcome.text() == "Result: 1200 × 800 → 2400 × 1600 px (×2)"
    scale.auto.setChecked(True)
    long_edge.auto.setChecked(False)
    long_edge.editor.setValue(3000)
    assert form.outcome.text() == "Result: 1200 × 800 → 3000 × 2000 px (×2.5)"


def test_strength_is_disabled_where_the_operation_ignores_it(qtbot) -> None:
    panel = OperationsPanel(REGISTRY)
    qtbot.addWidget(panel)
    for name, used in (("fade", True), ("detect-defects", False), ("upscale", False),
                       ("heal", False), ("levels", True)):  # fmt: skip
        panel.select(name)
        assert panel.strength.isEnabled() is used, name
        assert panel.limit_to_mask.isEnabled() is used, name
        assert (panel.strength_label.text() == "—") is not used
    panel.select("inpaint")
    assert panel.note.text() == (
        "Fill the masked damage changes the masked area only: every other pixel stays as it is."
    )
