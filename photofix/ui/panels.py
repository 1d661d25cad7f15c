"""Dock panels: the operations (with widgets generated from each Param), the history, and the
job progress shown in the status bar."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QResizeEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photofix.core.document import Document
from photofix.ops.registry import OperationRegistry
from photofix.ui.commands import describe_params
from photofix.ui.controller import PreviewRequest
from photofix.ui.icons import icon
from photofix.ui.param_form import (  # noqa: F401  (importable from here, as before)
    AUTO_TEXT,
    MULTI_CHOICES,
    ParamField,
    ParamForm,
    _CheckBoxes,
    outcome_text,
    relevant_params,
)
from photofix.ui.region_list import RegionList


class FormScrollArea(QScrollArea):
    """Scrolls the shown parameter form only when the panel is too short for it: its size hint
    is the form's whole height at the width it has (word-wrapped summary included)."""

    def sizeHint(self) -> QSize:
        widget = self.widget()
        hint = widget.sizeHint()
        width = self.viewport().width() if self.isVisible() else hint.width()
        height = widget.heightForWidth(width) if widget.hasHeightForWidth() else -1
        frame = 2 * self.frameWidth()
        return QSize(hint.width() + frame, (height if height >= 0 else hint.height()) + frame)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # the summary wraps differently: another height fits


# The operations by purpose, in the order the chooser lists them, with their icons. An
# operation not named here is listed last, under "Other".
PURPOSES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Tone and colour",
        (
            ("fade", "fa5s.adjust"),
            ("colorize", "fa5s.palette"),
            ("levels", "fa5s.chart-bar"),
            ("curves", "fa5s.bezier-curve"),
            ("exposure", "fa5s.sun"),
            ("white-balance", "fa5s.eye-dropper"),
            ("grayscale", "fa5s.tint-slash"),
            ("tone", "fa5s.coffee"),
        ),
    ),
    ("Grain and compression", (("denoise", "fa5s.braille"), ("jpeg-clean", "fa5s.th"))),
    (
        "Dust, scratches and damage",
        (
            ("detect-defects", "fa5s.search"),
            ("remove-defects", "fa5s.magic"),
            ("inpaint", "fa5s.fill-drip"),
            ("heal", "fa5s.band-aid"),
            ("clone", "fa5s.stamp"),
        ),
    ),
    (
        "Crop and straighten",
        (
            ("crop", "fa5s.crop-alt"),
            ("rotate", "fa5s.redo"),
            ("straighten", "fa5s.ruler"),
            ("split-scan", "fa5s.images"),
        ),
    ),
    ("Size", (("upscale", "fa5s.expand-arrows-alt"), ("resize", "fa5s.ruler-combined"))),
    (
        "Sharpness and light",
        (("deblur", "fa5s.bullseye"), ("sharpen", "fa5s.eye"), ("even-light", "fa5s.sun")),
    ),
)
OTHER_ICON = "fa5s.sliders-h"
# Operations that change only the pixels under the mask (the brush stroke).
FILLS_THE_MASK = ("inpaint", "heal", "clone")


class OperationsPanel(QWidget):
    """A chooser of the registered operations (grouped by purpose) above the chosen one's
    parameters (built from its :class:`Param`, scrolled only when the panel is too short for
    them), the shared blend controls (strength, limit to mask with feather), live preview and
    Apply; and, while a proposed mask waits to be checked (remove-defects), what to check with
    Accept and Not now."""

    apply_requested = Signal(object)  # PreviewRequest
    request_changed = Signal(object)  # PreviewRequest | None (for the live preview)
    review_accepted = Signal()
    review_dismissed = Signal()
    split_requested = Signal()  # Apply on split-scan: review the prints in a dialog
    estimate_requested = Signal(object)  # PreviewRequest: deblur's Estimate (the kernel box)

    def __init__(self, registry: OperationRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.forms: list[ParamForm] = []
        self._current = 0
        self.chooser = QComboBox()
        self.chooser.setToolTip("The operation to set up and apply")
        self.chooser.setMaxVisibleItems(20)
        layout.addWidget(self.chooser)

        forms = QWidget()
        forms_layout = QVBoxLayout(forms)
        forms_layout.setContentsMargins(2, 2, 2, 2)
        for op in registry:
            form = ParamForm(op)
            form.changed.connect(self._on_changed)
            if form.kernel_box is not None:
                form.kernel_box.estimate_requested.connect(
                    lambda: self.estimate_requested.emit(self.request())
                )
            form.setVisible(False)
            forms_layout.addWidget(form)
            self.forms.append(form)
        forms_layout.addStretch(1)
        self._fill_chooser()
        self.forms[0].setVisible(True)
        self.chooser.currentIndexChanged.connect(self._on_chosen)
        self.scroll = FormScrollArea()
        self.scroll.setWidget(forms)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.scroll.setMinimumHeight(self.fontMetrics().height() * 4)
        layout.addWidget(self.scroll)

        group = QGroupBox("Blend and apply")
        # never squeezed: when the panel is short, the form above scrolls instead
        group.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        blend = QFormLayout(group)
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(100)
        self.strength_label = QLabel("100 %")
        self.strength_label.setMinimumWidth(40)
        row = QHBoxLayout()
        row.addWidget(self.strength, 1)
        row.addWidget(self.strength_label)
        self.strength.valueChanged.connect(self._on_strength_changed)
        blend.addRow("Strength", row)
        self.limit_to_mask = QCheckBox("Only inside the mask")
        self.limit_to_mask.toggled.connect(self._on_changed)
        self.feather = QDoubleSpinBox()
        self.feather.setRange(0, 200)
        self.feather.setSuffix(" px")
        self.feather.setToolTip("Soften the mask's edge over this many pixels")
        self.feather.valueChanged.connect(self._on_changed)
        blend.addRow(self.limit_to_mask)
        blend.addRow("Feather", self.feather)
        self.live_preview = QCheckBox("Live preview of the visible area")
        self.live_preview.setToolTip(
            "Run the operation on what is on screen and show it on the after side of the "
            "compare view, before applying"
        )
        self.live_preview.toggled.connect(self._on_changed)
        blend.addRow(self.live_preview)
        self.note = QLabel()
        self.note.setWordWrap(True)
        blend.addRow(self.note)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self._on_apply_clicked)
        blend.addRow(self.apply_button)
        layout.addWidget(group)

        self.review = QGroupBox("Check the mask")
        # never squeezed; on a tall panel its list of regions takes the room left below
        self.review.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        review = QVBoxLayout(self.review)
        margins = review.contentsMargins()  # tight: the list of regions needs the room
        review.setContentsMargins(margins.left(), 4, margins.right(), 4)
        review.setSpacing(3)
        self.review_note = QLabel()
        self.review_note.setWordWrap(True)
        review.addWidget(self.review_note)
        self.regions = RegionList()  # the regions found, to take or leave out one by one
        review.addWidget(self.regions)
        self.accept_button = QPushButton("Accept and Fill")
        self.accept_button.setToolTip("Fill the mask as it is now (one undoable step)")
        self.accept_button.clicked.connect(self.review_accepted)
        self.dismiss_button = QPushButton("Not Now")
        self.dismiss_button.setToolTip("Keep the mask without filling it")
        self.dismiss_button.clicked.connect(self.review_dismissed)
        row = QHBoxLayout()
        row.addWidget(self.accept_button, 1)
        row.addWidget(self.dismiss_button)
        review.addLayout(row)
        self.review.setVisible(False)
        layout.addWidget(self.review, 100)
        layout.addStretch(1)
        self._sync_enabled()

    # -- state -------------------------------------------------------------------------------
    def _fill_chooser(self) -> None:
        """One entry per operation (its index in ``forms`` as data), grouped by purpose under
        headers that cannot be chosen."""
        by_name = {form.op.name: i for i, form in enumerate(self.forms)}
        groups = [
            (title, [(by_name.pop(name), icon_name) for name, icon_name in ops if name in by_name])
            for title, ops in PURPOSES
        ]
        groups.append(("Other", [(i, OTHER_ICON) for i in sorted(by_name.values())]))
        model = QStandardItemModel(self.chooser)
        for title, entries in groups:
            if not entries:
                continue
            header = QStandardItem(title)
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            font = QFont(header.font())
            font.setBold(True)
            header.setFont(font)
            model.appendRow(header)
            for index, icon_name in entries:
                op = self.forms[index].op
                item = QStandardItem(icon(icon_name), op.title)
                item.setData(index, Qt.ItemDataRole.UserRole)
                item.setToolTip(op.summary)
                model.appendRow(item)
        self.chooser.setModel(model)
        self._choose(0)

    def _choose(self, index: int) -> None:
        """Show the chooser's entry for ``forms[index]``."""
        for row in range(self.chooser.count()):
            if self.chooser.itemData(row) == index:
                self.chooser.setCurrentIndex(row)
                return

    def current_form(self) -> ParamForm:
        return self.forms[self._current]

    def set_image_size(self, size: tuple[int, int] | None) -> None:
        """The open image's (width, height), for the forms that say what size they make."""
        for form in self.forms:
            form.set_image_size(size)

    def operation_names(self) -> list[str]:
        """The operations as the chooser lists them."""
        return [
            self.forms[data].op.name
            for row in range(self.chooser.count())
            if (data := self.chooser.itemData(row)) is not None
        ]

    def select(self, name: str) -> None:
        for i, form in enumerate(self.forms):
            if form.op.name == name:
                self._choose(i)
                return
        raise KeyError(name)

    def request(self) -> PreviewRequest:
        form = self.current_form()
        blendable = form.op.blendable
        return PreviewRequest(
            form.op,
            form.values(),
            strength=self.strength.value() / 100.0 if blendable else 1.0,
            limit_to_mask=self.limit_to_mask.isChecked() and blendable,
            feather=self.feather.value(),
        )

    def set_blend(self, strength: float, limit: bool, feather: float, preview: bool) -> None:
        for w in (self.strength, self.limit_to_mask, self.feather, self.live_preview):
            w.blockSignals(True)
        self.strength.setValue(round(strength * 100))
        self.strength_label.setText(f"{self.strength.value()} %")
        self.limit_to_mask.setChecked(limit)
        self.feather.setValue(feather)
        self.live_preview.setChecked(preview)
        for w in (self.strength, self.limit_to_mask, self.feather, self.live_preview):
            w.blockSignals(False)
        self._on_changed()

    def show_estimate(self, found: dict, kernel: object, what: str) -> None:
        """An estimated blur (deblur): into the deblur form's fields and kernel picture."""
        form = next(f for f in self.forms if f.kernel_box is not None)
        form.kernel_box.show_estimate(found, kernel, what)
        if found:
            form.set_values(found)

    def set_busy(self, busy: bool) -> None:
        self.apply_button.setEnabled(not busy)
        self.apply_button.setText("Working…" if busy else "Apply")
        self.accept_button.setEnabled(not busy)

    def show_review(self, text: str) -> None:
        """Show what to check in the proposed mask ("" hides it)."""
        self.review_note.setText(text)
        self.review.setVisible(bool(text))
        self._sync_enabled()

    # -- slots -------------------------------------------------------------------------------
    def _on_chosen(self, row: int) -> None:
        index = self.chooser.itemData(row)
        if index is None or index == self._current:
            return
        self.forms[self._current].setVisible(False)
        self._current = index
        self.forms[index].setVisible(True)
        # lay out now, the scroll area at the new form's height first: no scroll bar flashes
        self.scroll.widget().layout().activate()
        self.scroll.updateGeometry()
        self.layout().activate()
        self.scroll.verticalScrollBar().setValue(0)
        self._on_changed()

    def _on_strength_changed(self, value: int) -> None:
        self.strength_label.setText(f"{value} %")
        self._on_changed()

    def _sync_enabled(self) -> None:
        op = self.current_form().op
        blends = op.blendable and "image" in op.writes
        for w in (self.strength, self.strength_label, self.limit_to_mask, self.feather):
            w.setEnabled(blends)
        why = "" if blends else f"{op.title} does not use the strength or the mask limit"
        for w in (self.strength, self.strength_label, self.limit_to_mask):
            w.setToolTip(why or "How much of the result to mix into the image")
        self.strength_label.setText(f"{self.strength.value()} %" if blends else "—")
        self.feather.setEnabled(blends and self.limit_to_mask.isChecked())
        previewable = op.writes == ("image",)
        self.live_preview.setEnabled(previewable)
        if op.review is not None:
            self.note.setText(
                "Apply shows the mask first: check it, touch it up with the brush, then fill it."
            )
        elif "image" not in op.writes:
            self.note.setText(
                f"{op.title} changes the mask, not the image: check it, then fill it."
            )
        elif op.name == "split-scan":
            self.note.setText(
                "Apply shows the prints found, to check and save each as a file of its own;"
                " this image stays as it is."
            )
        elif op.name in FILLS_THE_MASK:
            self.note.setText(
                f"{op.title} changes the masked area only: every other pixel stays as it is."
            )
        elif not op.blendable:
            self.note.setText(f"{op.title} changes the whole image: no strength or mask limit.")
        elif not previewable:
            self.note.setText("No live preview for this operation.")
        else:
            self.note.setText("")
        # while its mask waits to be checked, the check says it all (and needs the room)
        checking = op.review is not None and self.review.isVisibleTo(self)
        self.note.setVisible(bool(self.note.text()) and not checking)

    def _on_changed(self, *_: object) -> None:
        self._sync_enabled()
        op = self.current_form().op
        live = self.live_preview.isChecked() and op.writes == ("image",)
        self.request_changed.emit(self.request() if live else None)

    def _on_apply_clicked(self) -> None:
        if self.current_form().op.name == "split-scan":  # many images out: its own dialog
            self.split_requested.emit()
            return
        self.apply_requested.emit(self.request())


class HistoryPanel(QListWidget):
    """Every step with its parameters; the current one is bold, undone ones are grey. Clicking
    a row jumps there. The first row is the state as opened (or the oldest one kept, when steps
    were dropped to stay within the memory budget)."""

    goto_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlternatingRowColors(True)
        # a long row ends in "…" (its tooltip has it all): no scroll bar eats a row's height
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.itemClicked.connect(self._on_item_clicked)
        self.itemActivated.connect(self._on_item_clicked)

    def refresh(
        self, document: Document | None, source: str | None = None, recorded: Sequence[str] = ()
    ) -> None:
        """Show ``document``'s steps. ``source`` names the file it was opened from (a Save As
        does not rename it); ``recorded`` are the steps its file says made it, shown first."""
        self.blockSignals(True)
        self.clear()
        if document is not None:
            # what the file's record says made it: before it was opened, nothing to jump to
            n = len(recorded)
            heading = [f"Recorded in the file ({n} step{'s' if n != 1 else ''}):"] if n else []
            for i, text in enumerate([*heading, *recorded]):
                item = QListWidgetItem(text if i == 0 else f"    {text}")
                item.setToolTip(text if i == 0 else f"{text} (recorded in the file)")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = QFont(item.font())
                font.setItalic(True)
                item.setFont(font)
                item.setForeground(self.palette().placeholderText())
                self.addItem(item)
            h = document.history
            name = source or (document.path.name if document.path else "image")
            first = f"Opened {name}"
            if h.dropped:
                first = (
                    f"Oldest kept state — {h.dropped} earlier step"
                    f"{'s' if h.dropped != 1 else ''} dropped to stay within the "
                    f"{h.budget_bytes / 1024**3:.1f} GB history budget"
                )
            rows = [first]
            tips = [first]
            for step in h.steps:
                shown = relevant_params(step.op, step.params)  # not deblur's sigma for a disk
                shown.pop("layer", None)
                summary = describe_params(shown)
                rows.append(step.label + (f" — {summary}" if summary else ""))
                # what the step said it did (an automatic fit, how much it changed) stays with it
                notices = getattr(step.record, "notices", None) or ()
                tips.append("\n\n".join([rows[-1], *notices]))
            for i, (text, tip) in enumerate(zip(rows, tips, strict=True)):
                item = QListWidgetItem(text)
                item.setToolTip(tip)
                item.setData(Qt.ItemDataRole.UserRole, i)  # the history index it stands for
                if i == h.index:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                elif i > h.index:
                    item.setForeground(self.palette().placeholderText())
                self.addItem(item)
            self.setCurrentRow(len(heading) + len(recorded) + h.index)
            self.scrollToItem(self.currentItem())
        self.blockSignals(False)

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        index = item.data(Qt.ItemDataRole.UserRole)
        if index is not None:
            self.goto_requested.emit(int(index))


class JobStatusWidget(QWidget):
    """Title, progress bar with ETA, and Cancel, for the running job (hidden when idle)."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.eta = QLabel()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc); the image stays as it was")
        self.cancel_button.clicked.connect(self.cancelling)
        self.cancel_button.clicked.connect(self.cancel_requested)
        for w in (self.title, self.bar, self.eta, self.cancel_button):
            layout.addWidget(w)
        self.setVisible(False)

    def cancelling(self) -> None:
        """Say at once that the job is being stopped (until it has)."""
        if self.isVisible():
            self.eta.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def started(self, title: str) -> None:
        self.cancel_button.setEnabled(True)
        self.title.setText(title)
        self.bar.setValue(0)
        self.eta.setText("starting…")
        self.setVisible(True)

    def progressed(self, fraction: float, eta: float | None, message: str) -> None:
        self.bar.setValue(round(fraction * 1000))
        if not self.cancel_button.isEnabled():
            return  # "Cancelling…" stays until the job has stopped
        left = "" if eta is None else f"{format_duration(eta)} left"
        self.eta.setText(" · ".join(t for t in (f"{fraction:.0%}", left, message) if t))

    def ended(self) -> None:
        self.setVisible(False)


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"
