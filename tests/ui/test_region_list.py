"""Taking the regions remove-defects found one by one, through the real window.

Detection is replaced by known regions of both kinds (sure and unsure, one held back by the
one-step cap; :data:`tests.ops.test_defects_choice.KNOWN`) on the bundled sample scan, so what
is confident is read from the regions, never assumed per kind.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QListWidgetItem

from photofix.core.mask import grow
from photofix.ops import defects as D
from photofix.ui import review as review_module
from photofix.ui.main_window import MainWindow
from tests.ops.test_defects_choice import known_regions
from tests.ui.test_defects_gui import apply, rows, stroke, undo_key
from tests.ui.test_workspace import opened


@pytest.fixture
def found(monkeypatch, window) -> D.DefectRegions:
    opened(window)
    window.activateWindow()
    window.view.setFocus()
    h, w = window.controller.document.image.shape[:2]
    regions = known_regions((h, w))
    monkeypatch.setattr(D, "find_regions", lambda *args, **kwargs: regions)
    return regions


def listed(window: MainWindow) -> list[tuple[str, bool]]:
    rows_ = window.operations.regions.rows
    return [
        (rows_.item(i).text(), rows_.item(i).checkState() == Qt.CheckState.Checked)
        for i in range(rows_.count())
    ]


def row_of(window: MainWindow, label: int) -> QListWidgetItem:
    rows_ = window.operations.regions.rows
    item = next(rows_.item(i) for i in range(rows_.count()) if rows_.item(i).data(256) == label)
    rows_.scrollToItem(item)
    QApplication.processEvents()
    return item


def click_row(window: MainWindow, label: int, *, box: bool) -> None:
    """A real click on the row of region ``label``: on its check box, or on its text."""
    rows_ = window.operations.regions.rows
    rect = rows_.visualItemRect(row_of(window, label))
    x = rect.left() + rect.height() // 2 + 2 if box else rect.left() + 90
    QTest.mouseClick(rows_.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, rect.center().y()))
    QApplication.processEvents()


def grown(found: D.DefectRegions, label: int) -> np.ndarray:
    return grow(found.labels == label, 1)


def by_confidence(found: D.DefectRegions, confidence: float) -> D.Region:
    return next(r for r in found.regions if r.confidence == confidence)


def a_confident_one(found: D.DefectRegions) -> D.Region:
    """The dust speck at 0.95 or the scratch at 0.97, whichever the rule fills unreviewed."""
    return next(r for r in found.regions if r.confident and r.confidence in (0.95, 0.97))


def test_the_list_shows_every_region_with_its_confidence_most_confident_first(
    window, qtbot, found
) -> None:
    apply(qtbot, window, "remove-defects", engine="fast")
    panel = window.operations
    assert panel.review.isVisible() and panel.regions.isVisible()
    assert "6 regions found" in panel.review_note.text()
    shown = listed(window)
    ranked = sorted(found.regions, key=lambda r: -r.confidence)
    # ticked exactly for what the proposal put on the mask (the confident regions)
    assert [checked for _, checked in shown] == [r.confident for r in ranked]
    assert np.array_equal(window.controller.document.mask, grow(found.confident_mask(), 1))
    # a sure scratch line that one step leaves for review says so
    left = "\nsure, but lines are left for review" if "scratches" in D.REVIEW_ONLY else ""
    assert shown[0][0] == "Scratch · confidence 0.97 · 300 px" + left
    assert "Dust · confidence 0.93 · 9 px\nconfident, past the one-step cap" in dict(shown)
    assert "Scratch · confidence 0.62 · 400 px" in dict(shown)
    assert "Dust · confidence 0.41 · 16 px" in dict(shown)


def test_ticking_an_unsure_region_takes_exactly_its_pixels_and_undo_gives_them_back(
    window, qtbot, found
) -> None:
    apply(qtbot, window, "remove-defects", engine="fast")
    c, doc = window.controller, window.controller.document
    image, before, steps = doc.image.copy(), doc.mask.copy(), len(doc.history.steps)
    scratch = by_confidence(found, 0.62)
    assert row_of(window, scratch.label).checkState() == Qt.CheckState.Unchecked

    click_row(window, scratch.label, box=True)
    assert np.array_equal(doc.mask, before | grown(found, scratch.label))  # nothing else moved
    assert np.array_equal(doc.image, image)
    assert rows(window)[-1] == "Take region: scratch 0.62"
    assert len(doc.history.steps) == steps + 1 and doc.journal[-1].op == "mask-paint"
    assert row_of(window, scratch.label).checkState() == Qt.CheckState.Checked
    assert c.reviewing()

    undo_key(window)
    assert np.array_equal(doc.mask, before)
    assert row_of(window, scratch.label).checkState() == Qt.CheckState.Unchecked
    assert len(doc.history.steps) == steps + 1 and doc.history.index == steps  # no new step
    assert c.reviewing()


def test_unticking_a_confident_region_leaves_it_out(window, qtbot, found) -> None:
    apply(qtbot, window, "remove-defects", engine="fast")
    doc = window.controller.document
    before = doc.mask.copy()
    sure = a_confident_one(found)
    assert row_of(window, sure.label).checkState() == Qt.CheckState.Checked
    click_row(window, sure.label, box=True)
    assert np.array_equal(doc.mask, before & ~grown(found, sure.label))
    name = {"dust": "dust", "scratches": "scratch"}[sure.kind]
    assert rows(window)[-1] == f"Leave out region: {name} {sure.confidence:.2f}"
    assert row_of(window, sure.label).checkState() == Qt.CheckState.Unchecked


def test_clicking_a_region_name_shows_it_on_the_canvas(window, qtbot, found) -> None:
    apply(qtbot, window, "remove-defects", engine="fast")
    view, doc = window.view, window.controller.document
    steps, mask = len(doc.history.steps), doc.mask.copy()
    view.fit()
    zoom = view.zoom()
    speck = by_confidence(found, 0.41)  # 4 x 4 px at (400, 100)
    click_row(window, speck.label, box=False)
    centre = view.centre()
    assert abs(centre.x() - 402) < 3 and abs(centre.y() - 102) < 3
    assert view.zoom() > zoom  # zoomed in on a small one (at most 8 screen px a pixel)
    assert view.zoom() == pytest.approx(8.0)
    marker = window.controller.review.marker
    assert marker.isVisible() and marker.rect().contains(401, 101)
    # only looked at: no step, no tick
    assert len(doc.history.steps) == steps and np.array_equal(doc.mask, mask)
    assert row_of(window, speck.label).checkState() == Qt.CheckState.Unchecked
    # a long scratch taller than the view at this zoom is zoomed out until it fits
    scratch = by_confidence(found, 0.97)
    click_row(window, scratch.label, box=False)
    seen = view.visible_image_rect()
    assert seen.top() <= 50 and seen.bottom() >= 200 and abs(view.centre().y() - 125) < 3


def test_the_brush_and_the_eraser_tick_and_untick_the_rows_without_a_step_of_their_own(
    window, qtbot, found
) -> None:
    apply(qtbot, window, "remove-defects", engine="fast")
    doc = window.controller.document
    speck = by_confidence(found, 0.41)
    steps = len(doc.history.steps)
    stroke(window, "brush", 15, [(398, 102), (406, 102)])
    assert row_of(window, speck.label).checkState() == Qt.CheckState.Checked
    stroke(window, "eraser", 15, [(398, 102), (406, 102)])
    assert row_of(window, speck.label).checkState() == Qt.CheckState.Unchecked
    assert [s.label for s in doc.history.steps[steps:]] == ["Mask stroke", "Mask stroke"]
    undo_key(window)
    assert row_of(window, speck.label).checkState() == Qt.CheckState.Checked


def test_accept_fills_what_is_ticked_and_the_list_goes_with_the_review(
    window, qtbot, found
) -> None:
    apply(qtbot, window, "remove-defects", engine="fast")
    c, doc, panel = window.controller, window.controller.document, window.operations
    original = doc.image.copy()
    click_row(window, by_confidence(found, 0.62).label, box=True)
    left_out = a_confident_one(found)
    click_row(window, left_out.label, box=True)
    mask = doc.mask.copy()
    with qtbot.waitSignal(c.job_ended, timeout=60_000):
        qtbot.mouseClick(panel.accept_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert not panel.review.isVisible() and not panel.regions.isVisible()
    assert c.review.choice is None and not c.review.marker.isVisible()
    assert np.array_equal(doc.mask, mask)
    assert np.array_equal(doc.image[~mask], original[~mask])  # outside the mask: bit for bit
    changed = np.any(doc.image != original, axis=2)
    assert changed[mask].mean() > 0.5
    assert not changed[grown(found, left_out.label)].any()  # left out
    assert rows(window)[-1] == "Fill the masked damage — engine fast"


def test_not_now_and_undoing_the_proposal_hide_the_list(window, qtbot, found) -> None:
    apply(qtbot, window, "remove-defects", engine="fast")
    panel = window.operations
    assert panel.regions.isVisible()
    qtbot.mouseClick(panel.dismiss_button, Qt.MouseButton.LeftButton)
    assert not panel.review.isVisible() and not panel.regions.isVisible()
    apply(qtbot, window, "remove-defects", engine="fast")
    assert panel.regions.isVisible() and len(listed(window)) == 6
    undo_key(window)
    assert not panel.review.isVisible() and not panel.regions.isVisible()


def test_with_nothing_confident_the_list_still_offers_every_region(
    window, qtbot, found, monkeypatch
) -> None:
    keep = [r for r in found.regions if r.confidence < D.CONFIDENT[r.kind]]  # 3 of 6
    labels = np.zeros_like(found.labels)
    regions = []
    for i, r in enumerate(keep, 1):  # numbered 1..n, as find_regions numbers them
        labels[found.labels == r.label] = i
        regions.append(D.Region(i, r.kind, r.box, r.area, r.confidence))
    unsure = D.DefectRegions(labels, regions)
    monkeypatch.setattr(D, "find_regions", lambda *args, **kwargs: unsure)
    apply(qtbot, window, "remove-defects", engine="fast")
    c, doc, panel = window.controller, window.controller.document, window.operations
    assert not doc.mask.any() and c.reviewing()
    assert "none confident" in panel.review_note.text()
    assert [checked for _, checked in listed(window)] == [False] * len(unsure.regions)
    click_row(window, unsure.regions[0].label, box=True)
    assert np.array_equal(doc.mask, grow(labels == unsure.regions[0].label, 1))


def test_a_long_list_is_capped_most_confident_first(window, qtbot, found, monkeypatch) -> None:
    monkeypatch.setattr(review_module, "ROW_CAP", 4)
    apply(qtbot, window, "remove-defects", engine="fast")
    more = window.operations.regions.more
    assert len(listed(window)) == 4 and more.isVisible()
    assert more.text().startswith("… and 2 less confident not listed")
    assert [t.split(" · ")[1] for t, _ in listed(window)] == [
        f"confidence {c}" for c in ("0.97", "0.95", "0.93", "0.62")
    ]


def test_a_sure_speck_among_look_alikes_says_why_it_is_left() -> None:
    """A speck found with confidence among alike blobs of the picture (crowded) is listed
    unticked with the reason on its second line and in its tooltip; the same speck not
    crowded is a plain confident row."""
    from photofix.ui.region_list import region_text, region_tip

    crowded = D.Region(1, "dust", (10, 10, 13, 13), 9, 0.96, crowded=True)
    assert not crowded.confident and crowded.sure
    assert region_text(crowded) == (
        "Dust · confidence 0.96 · 9 px\nsure, but among look-alikes of the picture"
    )
    assert "did not take" in region_tip(crowded) and "Tick it" in region_tip(crowded)
    plain = D.Region(1, "dust", (10, 10, 13, 13), 9, 0.96)
    assert plain.confident and region_text(plain) == "Dust · confidence 0.96 · 9 px"
    assert "fills it" in region_tip(plain)
