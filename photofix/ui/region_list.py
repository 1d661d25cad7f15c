"""The regions a remove-defects proposal found, listed under "Check the mask".

One row per region, most confident first: a check box (ticked = the region is on the mask)
and its kind, confidence and size. Ticking or unticking asks the review to take the region or
leave it out (:meth:`~photofix.ui.review.MaskReview.take_region`, one undoable step); clicking
a row's text (or Enter) shows the region on the canvas, marked. The review keeps the ticks in
step with the mask (:attr:`~photofix.ui.review.MaskReview.regions_checked`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QGraphicsRectItem,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from photofix.ops import defects
from photofix.ops.defects import Region

if TYPE_CHECKING:
    from photofix.ui.review import MaskReview, RegionRows

KIND_NAMES = {
    "dust": "Dust",
    "scratches": "Scratch",
    "tears": "Tear",
    "spots": "Spot",
    "film-lines": "Film line",
}
SHOWN_ROWS = 4  # rows in sight at least; the list scrolls for the rest


def kind_name(kind: str) -> str:
    """One region's kind as a person says it: "Dust", "Scratch", "Film line"."""
    return KIND_NAMES.get(kind, kind.replace("-", " ").capitalize())


def count(n: int) -> str:
    """``1204`` as ``1 204`` (a thin space groups the thousands, as in the docs)."""
    return f"{n:,}".replace(",", "\u202f")


def region_text(region: Region) -> str:
    """A row's text: ``Dust · confidence 0.97 · 23 px``; a sure region one step leaves (held
    back by the one-step cap, a scratch line, a speck among look-alikes) says why on a second
    line."""
    size = count(region.area)
    text = f"{kind_name(region.kind)} · confidence {region.confidence:.2f} · {size} px"
    if region.held:
        return text + "\nconfident, past the one-step cap"
    if region.sure and region.kind in defects.REVIEW_ONLY:
        return text + "\nsure, but lines are left for review"
    if region.sure and region.crowded:
        return text + "\nsure, but among look-alikes of the picture"
    return text


def region_tip(region: Region) -> str:
    bar = defects.CONFIDENT.get(region.kind)
    if region.held:
        why = (
            f"Confident, but past the one-step cap of {100 * defects.ONE_STEP_CAP:g} % of the"
            " picture: check it before filling."
        )
    elif region.sure and region.kind in defects.REVIEW_ONLY:
        why = (
            "Found with confidence, but one step never fills a scratch line unreviewed: on real"
            " scans such lines were picture content (a pole, a rail, a seam). Tick it if it is"
            " damage."
        )
    elif region.sure and region.crowded:
        why = (
            "Found with confidence, but many blobs of the picture like it lie around it that the"
            " detector did not take (a facade's windows, gravel, a crowd): one step leaves it."
            " Tick it if it is damage."
        )
    elif region.confident:
        why = "Found with confidence: one-step Remove dust and scratches fills it."
    else:
        why = "Less certain: one-step Remove dust and scratches leaves it."
        if bar is not None:
            why = f"Less certain (confident from {bar:.2f}): one step leaves it."
    x0, y0, x1, y1 = region.box
    return (
        f"{kind_name(region.kind)}, confidence {region.confidence:.2f}, {count(region.area)} px"
        f" at ({x0}, {y0})–({x1}, {y1}).\n{why}\nTick to put it on the mask, untick to leave it"
        " out; click its name to see it."
    )


class RegionMarkerItem(QGraphicsRectItem):
    """A dashed frame around the region last shown from the list."""

    def __init__(self) -> None:
        super().__init__()
        pen = QPen(QColor(80, 220, 255), 2.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setVisible(False)

    def mark(self, rect: QRectF) -> None:
        self.setRect(rect.adjusted(-2, -2, 2, 2))
        self.setVisible(True)


class _Rows(QListWidget):
    """The list itself: :data:`SHOWN_ROWS` lines high at least (less if it holds less), more
    where the panel has the room, never more than its rows need (it scrolls for the rest)."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._line = self._rows = self.fontMetrics().height() + 4  # measured by fit_rows

    def sizeHint(self) -> QSize:
        height = min(SHOWN_ROWS * self._line, self._rows)
        return QSize(super().sizeHint().width(), height + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def fit_rows(self) -> None:
        """Measure the rows just listed: a one-line row (a row that says why is a line
        taller) and all of them."""
        if self.count():
            extra = self.item(0).text().count("\n") * self.fontMetrics().lineSpacing()
            self._line = self.sizeHintForRow(0) - extra
            self._rows = sum(self.sizeHintForRow(i) for i in range(self.count()))
        self.setMaximumHeight(max(self._rows, self._line) + 2 * self.frameWidth())
        self.updateGeometry()


class RegionList(QWidget):
    """The regions found, with a check box each (see the module's docstring)."""

    toggled = Signal(int, bool)  # label, take (True) or leave out (False)
    shown = Signal(int)  # label: show it on the canvas

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.rows = _Rows()
        self.rows.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.rows.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.rows.itemChanged.connect(self._on_item_changed)
        self.rows.itemClicked.connect(self._on_item_clicked)
        self.rows.itemActivated.connect(lambda item: self.shown.emit(self._label(item)))
        layout.addWidget(self.rows)
        self.more = QLabel()
        self.more.setWordWrap(True)
        layout.addWidget(self.more)
        self._items: dict[int, QListWidgetItem] = {}
        self._ticked: QListWidgetItem | None = None  # the click that ticked it shows nothing
        self.setVisible(False)

    def follow(self, review: MaskReview) -> None:
        """Show ``review``'s regions, and ask it to take, leave out and show them."""
        review.regions_listed.connect(self.show_regions)
        review.regions_checked.connect(self.set_checked)
        self.toggled.connect(review.take_region)
        self.shown.connect(review.show_region)

    @staticmethod
    def _label(item: QListWidgetItem) -> int:
        return int(item.data(Qt.ItemDataRole.UserRole))

    def show_regions(self, rows: RegionRows | None) -> None:
        """List ``rows`` (None: hide the list)."""
        self.rows.blockSignals(True)
        self.rows.clear()
        self._items = {}
        if rows is not None:
            for region in rows.regions:
                item = QListWidgetItem(region_text(region))
                item.setData(Qt.ItemDataRole.UserRole, region.label)
                item.setToolTip(region_tip(region))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                              | Qt.ItemFlag.ItemIsSelectable)  # fmt: skip
                checked = rows.checked[region.label]
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                self.rows.addItem(item)
                self._items[region.label] = item
            self.more.setText(
                f"… and {count(rows.more)} less confident not listed (paint them, or apply"
                " with fill all)."
                if rows.more
                else ""
            )
        self.more.setVisible(bool(rows is not None and rows.more))
        self.rows.blockSignals(False)
        self.rows.fit_rows()
        self.setVisible(rows is not None)

    def set_checked(self, states: dict[int, bool]) -> None:
        """Tick (or untick) the rows of these labels, asking for nothing."""
        self.rows.blockSignals(True)
        for label, on in states.items():
            item = self._items.get(label)
            if item is not None:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.rows.blockSignals(False)

    def checked(self) -> dict[int, bool]:
        """Each listed label and whether its row is ticked."""
        return {
            label: item.checkState() == Qt.CheckState.Checked for label, item in self._items.items()
        }

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self._ticked = item  # a click's clicked() comes right after: forget it then
        QTimer.singleShot(0, self._forget_tick)
        self.toggled.emit(self._label(item), item.checkState() == Qt.CheckState.Checked)

    def _forget_tick(self) -> None:
        self._ticked = None

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        ticked, self._ticked = self._ticked, None
        if ticked is not item:  # a click on the text, not on the check box
            self.shown.emit(self._label(item))
