"""The parameter form of one operation, built from its declared :class:`Param`s.

Numbers become spin boxes, choices combo boxes, flags check boxes, text line edits, and lists
from a fixed set (``kinds``) rows of check boxes. A parameter that may be left unset or to the
operation ("auto") has a switch; while it is on, the editor gives way to a sentence saying
what will happen (upscale: "×4 unless a long edge is set"). Size-changing operations show the
size they will make.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QWidget,
)

from photofix.core.errors import PhotoFixError
from photofix.ops.defects import KINDS
from photofix.ops.registry import AUTO, Operation, Param

_BIG = 1e9


class ParamField(QWidget):
    """The editor of one :class:`Param`: a spin box, combo box, check box or line edit, with
    an "auto" switch when the parameter may be left to the operation (default None or
    ``allow_auto``)."""

    changed = Signal()

    def __init__(self, param: Param, parent: QWidget | None = None, auto_text: str = "") -> None:
        super().__init__(parent)
        self.param = param
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.editor = self._make_editor(param)
        self.editor.setToolTip(param.help)
        # while "auto" is ticked the editor's number means nothing: say what happens instead
        self.stack = QStackedWidget()
        self.stack.addWidget(self.editor)
        self.auto_label = QLabel(
            auto_text or ("chosen by the operation" if param.allow_auto else "not set")
        )
        self.auto_label.setStyleSheet("color: palette(mid);")
        self.auto_label.setToolTip(param.help)
        self.stack.addWidget(self.auto_label)
        layout.addWidget(self.stack, 1)
        self.auto: QCheckBox | None = None
        if param.default is None or param.allow_auto:
            self.auto = QCheckBox("auto")
            self.auto.setToolTip(
                "Let the operation choose" if param.allow_auto else "Leave this parameter unset"
            )
            self.auto.setChecked(self._is_auto(param.default))
            self.auto.toggled.connect(self._on_auto_toggled)
            layout.addWidget(self.auto)
            self._on_auto_toggled(self.auto.isChecked())

    @staticmethod
    def _is_auto(value: Any) -> bool:
        return value is None or value == AUTO

    def _auto_on(self) -> bool:
        return self.auto is not None and self.auto.isChecked()

    def _make_editor(self, p: Param) -> QWidget:
        if p.kind in ("int", "float"):
            box: QSpinBox | QDoubleSpinBox
            if p.kind == "int":
                box = QSpinBox()
                box.setRange(
                    int(p.minimum if p.minimum is not None else -(2**31 - 1)),
                    int(p.maximum if p.maximum is not None else 2**31 - 1),
                )
            else:
                box = QDoubleSpinBox()
                lo = p.minimum if p.minimum is not None else -_BIG
                hi = p.maximum if p.maximum is not None else _BIG
                box.setRange(lo, hi)
                span = hi - lo
                box.setDecimals(3 if span <= 10 else 2)
                box.setSingleStep(10 ** math.floor(math.log10(max(span, 1e-3) / 20)))
            if isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
                box.setValue(p.default)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self.changed)
            return box
        if p.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(p.choices))
            if p.default in p.choices:
                combo.setCurrentText(str(p.default))
            combo.currentTextChanged.connect(self.changed)
            return combo
        if p.kind == "bool":
            check = QCheckBox()
            check.setChecked(bool(p.default))
            check.toggled.connect(self.changed)
            return check
        if p.name in MULTI_CHOICES:
            return _CheckBoxes(MULTI_CHOICES[p.name], str(p.default or ""), self.changed)
        line = QLineEdit("" if p.default is None else str(p.default))
        line.editingFinished.connect(self.changed)
        if p.name in FILE_PARAMS:  # a folder button inside the field opens a file chooser
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon)
            browse = line.addAction(icon, QLineEdit.ActionPosition.TrailingPosition)
            browse.setToolTip(f"Choose the {p.name} file")
            browse.triggered.connect(lambda: self._choose_file(line, p))
        return line

    def _choose_file(self, line: QLineEdit, p: Param) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, p.help, line.text(), "Images (*.png *.tif *.tiff *.jpg *.jpeg *.bmp *.webp)"
        )
        if name:
            line.setText(name)
            self.changed.emit()

    def _on_auto_toggled(self, _: bool) -> None:
        auto = self._auto_on()
        self.editor.setEnabled(not auto)
        self.stack.setCurrentIndex(1 if auto else 0)
        self.changed.emit()

    def value(self) -> Any:
        if self._auto_on():
            return AUTO if self.param.allow_auto else None
        e = self.editor
        if isinstance(e, _CheckBoxes):
            return e.text()
        if isinstance(e, (QSpinBox, QDoubleSpinBox)):
            return e.value()
        if isinstance(e, QComboBox):
            return e.currentText()
        if isinstance(e, QCheckBox):
            return e.isChecked()
        assert isinstance(e, QLineEdit)
        return e.text()

    def set_value(self, value: Any) -> None:
        if self.auto is not None:
            self.auto.setChecked(self._is_auto(value))
            if value is None or value == AUTO:
                return
        e = self.editor
        if isinstance(e, _CheckBoxes):
            e.set_text(str(value))
        elif isinstance(e, (QSpinBox, QDoubleSpinBox)):
            e.setValue(value)
        elif isinstance(e, QComboBox):
            e.setCurrentText(str(value))
        elif isinstance(e, QCheckBox):
            e.setChecked(bool(value))
        elif isinstance(e, QLineEdit):
            e.setText(str(value))


# Parameters that mean something only for some values of another: (op, param) → (the other,
# its values). The others' rows are hidden (deblur's sigma only with psf=gaussian, ...).
SHOWN_WITH: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("deblur", "sigma"): ("psf", ("gaussian",)),
    ("deblur", "radius"): ("psf", ("disk",)),
    ("deblur", "length"): ("psf", ("motion",)),
    ("deblur", "angle"): ("psf", ("motion",)),
    ("deblur", "kernel"): ("psf", ("kernel",)),
    ("deblur", "region"): ("psf", (AUTO, "shake")),
    ("even-light", "model"): ("reference", ("",)),
    ("even-light", "fit"): ("reference", ("",)),
    ("even-light", "keep_highlights"): ("reference", ("",)),
}


def relevant_params(op: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` without those that mean nothing with the others' values (:data:`SHOWN_WITH`):
    what the history lists for a step."""
    return {
        k: v
        for k, v in params.items()
        if (op, k) not in SHOWN_WITH or params.get(SHOWN_WITH[op, k][0]) in SHOWN_WITH[op, k][1]
    }


# Text parameters that name a file: a line edit with a button that opens a file chooser.
FILE_PARAMS = frozenset({"kernel", "reference"})
# Text parameters that take a comma-separated list from a fixed set: shown as check boxes.
MULTI_CHOICES: dict[str, tuple[str, ...]] = {"kinds": KINDS}
# What an unset or automatic parameter means, where "not set" would not say it.
AUTO_TEXT: dict[tuple[str, str], str] = {
    ("upscale", "scale"): "×4 unless a long edge is set",
    ("upscale", "long_edge"): "not set: the scale decides",
    ("resize", "scale"): "not set",
    ("crop", "width"): "to the right edge",
    ("crop", "height"): "to the bottom edge",
}


class _CheckBoxes(QWidget):
    """One check box per choice, two to a row (so the form stays as narrow as the panel); the
    value is the ticked ones joined by commas."""

    def __init__(self, choices: tuple[str, ...], text: str, changed: Any) -> None:
        super().__init__()
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(2)  # a third row (film-lines) keeps the form within the panel
        self.boxes: dict[str, QCheckBox] = {}
        for i, choice in enumerate(choices):
            box = QCheckBox(choice)
            box.toggled.connect(changed)
            layout.addWidget(box, i // 2, i % 2)
            self.boxes[choice] = box
        layout.setColumnStretch(2, 1)
        self.set_text(text)

    def set_text(self, text: str) -> None:
        chosen = {t.strip() for t in text.replace("+", ",").split(",")}
        for name, box in self.boxes.items():
            box.setChecked(name in chosen)

    def text(self) -> str:
        return ",".join(name for name, box in self.boxes.items() if box.isChecked())


class ParamForm(QWidget):
    """A form with one :class:`ParamField` per parameter of an operation."""

    changed = Signal()

    def __init__(self, op: Operation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.op = op
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        summary = QLabel(op.summary)
        summary.setWordWrap(True)
        summary.setStyleSheet("color: palette(mid);")
        layout.addRow(summary)
        self.fields: dict[str, ParamField] = {}
        for param in op.params:
            field = ParamField(param, auto_text=AUTO_TEXT.get((op.name, param.name), ""))
            field.changed.connect(self.changed)
            field.changed.connect(self._update_outcome)
            label = QLabel(param.name.replace("_", " "))
            label.setToolTip(param.help)
            layout.addRow(label, field)
            self.fields[param.name] = field
        # deblur: a picture of the kernel the fields name, and its estimate from the image
        self.kernel_box = None
        if op.name == "deblur":
            from photofix.ui.deblur_form import KernelBox

            self.kernel_box = KernelBox(self.values)
            self.changed.connect(self.kernel_box.refresh)
            layout.addRow("blur shape", self.kernel_box)
        # for operations that change the size: what the result will be, in pixels
        self.image_size: tuple[int, int] | None = None
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        layout.addRow(self.outcome)
        self.changed.connect(self._show_relevant)
        self._show_relevant()
        self._update_outcome()

    def _show_relevant(self) -> None:
        # every field, set or not: a row's visibility depends on the others' values only
        relevant = relevant_params(self.op.name, {**dict.fromkeys(self.fields), **self.values()})
        for op, name in SHOWN_WITH:
            if op == self.op.name:
                row = self.layout().getWidgetPosition(self.fields[name])[0]
                self.layout().setRowVisible(row, name in relevant)

    def set_image_size(self, size: tuple[int, int] | None) -> None:
        self.image_size = size
        self._update_outcome()

    def _update_outcome(self) -> None:
        text = outcome_text(self.op, self.values(), self.image_size)
        self.outcome.setText(text)
        self.outcome.setVisible(bool(text))

    def set_values(self, values: dict[str, Any]) -> None:
        """Put ``values`` into their fields (the others stay); ``changed`` is emitted once."""
        for name, value in values.items():
            field = self.fields[name]
            field.blockSignals(True)
            field.set_value(value)
            field.blockSignals(False)
        self.changed.emit()
        self._update_outcome()

    def values(self) -> dict[str, Any]:
        """The parameters as typed values, leaving out the unset ones."""
        out = {}
        for name, field in self.fields.items():
            value = field.value()
            if value is not None:
                out[name] = value
        return out


def outcome_text(op: Operation, values: dict[str, Any], size: tuple[int, int] | None) -> str:
    """What running ``op`` with ``values`` on an image of ``size`` (w, h) makes, for the
    size-changing operations ("Result: 1200 × 800 → 4800 × 3200 px (×4)"), else ""."""
    if op.name not in ("upscale", "resize") or size is None:
        return ""
    from photofix.ops.resize import target_size

    w, h = size
    asked = {k: values.get(k) for k in ("scale", "width", "height", "long_edge")}
    if op.name == "upscale" and not any(v is not None for v in asked.values()):
        asked["scale"] = 4
    try:
        nw, nh = target_size(w, h, asked)
    except PhotoFixError as exc:
        return f"Result: {exc}"
    factor = max(nw / w, nh / h)
    return f"Result: {w} × {h} → {nw} × {nh} px (×{factor:.3g})"
