"""The Operations panel as a user sees it: at the window sizes people use, the chosen
operation's whole form, the blend controls and Apply are on screen together, without
scrolling inside the panel; and the chooser lists the operations by purpose."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from photofix.ops import REGISTRY
from photofix.ui.main_window import MainWindow
from tests.ui.test_defects_gui import apply
from tests.ui.test_workspace import opened


def rect_in(window: MainWindow, widget: QWidget) -> QRect:
    """The widget's rectangle in window coordinates."""
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def assert_in_sight(window: MainWindow, widgets: list[QWidget], area: QRect) -> None:
    for widget in widgets:
        name = getattr(widget, "objectName", lambda: "")() or type(widget).__name__
        assert widget.isVisible(), f"{name} is hidden"
        assert area.contains(rect_in(window, widget)), (
            f"{name} at {rect_in(window, widget)} is not inside {area}"
        )


def form_widgets(window: MainWindow) -> list[QWidget]:
    """The editors of the chosen operation's parameters and their labels (those that mean
    something with the other values: deblur's sigma only with psf=gaussian)."""
    form = window.operations.current_form()
    fields = [f for f in form.fields.values() if not f.isHidden()]
    labels = [form.layout().labelForField(field) for field in fields]
    return [*fields, *labels]


def blend_widgets(window: MainWindow) -> list[QWidget]:
    p = window.operations
    return [p.chooser, p.strength, p.limit_to_mask, p.feather, p.live_preview, p.apply_button]


@pytest.mark.parametrize("size", [(1200, 800), (1400, 900)], ids=["1200x800", "default"])
def test_every_operation_shows_its_whole_form_with_blend_and_apply(window, size) -> None:
    window.resize(*size)
    opened(window)
    panel = window.operations
    for name in REGISTRY.names():
        panel.select(name)
        QApplication.processEvents()
        assert panel.current_form().op.name == name
        assert (window.width(), window.height()) == size, "the panel made the window grow"
        shown = rect_in(window, panel.scroll.viewport())
        assert_in_sight(window, form_widgets(window), shown)
        assert panel.scroll.verticalScrollBar().maximum() == 0, f"{name}: its form scrolls"
        assert_in_sight(window, blend_widgets(window), window.rect())
        # the other operations' forms take no room
        assert [f.op.name for f in panel.forms if f.isVisible()] == [name]
    panel.select("detect-defects")
    assert panel.note.text() == (
        "Find dust and scratches changes the mask, not the image: check it, then fill it."
    )
    # the history keeps a few rows in sight below
    history = window.history
    assert_in_sight(window, [history], window.rect())
    assert history.viewport().height() >= 3 * history.fontMetrics().height()


def test_the_mask_check_is_in_sight_with_the_form_and_apply(window, qtbot) -> None:
    opened(window)
    apply(qtbot, window, "remove-defects", engine="fast")
    panel = window.operations
    assert panel.review.isVisible()
    assert (window.width(), window.height()) == (1200, 800)
    assert_in_sight(window, form_widgets(window), rect_in(window, panel.scroll.viewport()))
    assert panel.scroll.verticalScrollBar().maximum() == 0
    # the regions found are listed, several rows in sight (the list scrolls for the rest)
    rows = panel.regions.rows
    review = [panel.review_note, rows, panel.accept_button, panel.dismiss_button]
    assert_in_sight(window, [*blend_widgets(window), *review], window.rect())
    # at least four lines' worth (a row that says why it was left takes a second line)
    extra = rows.item(0).text().count("\n") * rows.fontMetrics().lineSpacing()
    assert rows.viewport().height() >= 4 * (rows.sizeHintForRow(0) - extra)
    # the note under Apply ("Apply shows the mask first") gives way to the check itself
    assert not panel.note.isVisible()
    # a short window: the form scrolls; blend, Apply and the check stay whole, none overlapping
    window.resize(1200, 600)
    QApplication.processEvents()
    assert window.height() == 600
    assert_in_sight(window, [*blend_widgets(window), *review], window.rect())
    assert rect_in(window, panel.review_note).bottom() < rect_in(window, rows).top()
    assert rect_in(window, rows).bottom() < rect_in(window, panel.accept_button).top()
    assert rect_in(window, panel.apply_button).bottom() < rect_in(window, panel.review).top()


def test_a_small_panel_scrolls_the_form_but_keeps_apply_in_sight(window) -> None:
    opened(window)
    window.resize(1200, 560)
    panel = window.operations
    panel.select("resize")  # the longest form
    QApplication.processEvents()
    assert window.height() == 560
    assert_in_sight(window, [panel.apply_button], window.rect())
    bar = panel.scroll.verticalScrollBar()
    assert bar.maximum() > 0  # the rest of the form is one scroll away
    bar.setValue(bar.maximum())
    QApplication.processEvents()
    last = panel.current_form().fields["method"]
    assert_in_sight(window, [last], rect_in(window, panel.scroll.viewport()))


def test_the_chooser_lists_operations_by_purpose_and_skips_the_headings(window) -> None:
    opened(window)
    panel = window.operations
    chooser = panel.chooser
    titles = [chooser.itemText(i) for i in range(chooser.count())]
    assert titles[0] == "Tone and colour" and "Size" in titles
    headings = [i for i in range(chooser.count()) if chooser.itemData(i) is None]
    assert all(not (chooser.model().flags(chooser.model().index(i, 0)) & Qt.ItemFlag.ItemIsEnabled)
               for i in headings)  # fmt: skip
    assert all(
        not chooser.itemIcon(i).isNull() for i in range(chooser.count()) if i not in headings
    )
    panel.select("tone")  # the last of its group: the next one is in the next group
    QTest.keyClick(chooser, Qt.Key.Key_Down)
    assert panel.current_form().op.name == "denoise"
    assert chooser.currentText() == "Denoise"
    # the Operations menu picks the same entry
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Operations")
    next(a for a in menu.actions() if a.text() == "Upscale").trigger()
    assert panel.current_form().op.name == "upscale" and chooser.currentText() == "Upscale"
