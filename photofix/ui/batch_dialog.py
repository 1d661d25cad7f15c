"""The Batch dialog: a recipe over a folder, with progress, pause and cancel, ending in review.

The recipe comes from a file or from the current image's history (its journal of step
records, as ``photofix recipe export`` writes it). The batch runs on a background thread
through the same engine as ``photofix batch`` (:func:`photofix.batch.engine.run_batch`), so a
batch from the window and one from the command line give the same files and records. Files
whose recipe has a review step are listed at the end: Open shows one in the workspace with its
proposed mask on the mask layer (one undoable step, so it can be edited with the brushes), and
Accept runs the remaining steps for it with the mask as it is then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from photofix.batch.engine import BatchControl, BatchJob, BatchResult, run_batch
from photofix.batch.output import accept_review
from photofix.batch.plan import BatchItem
from photofix.batch.worker import BatchOptions, Outcome, load_recipe
from photofix.core.errors import PhotoFixError
from photofix.core.recipe import Recipe

RECIPE_FROM_HISTORY = "batch-recipe.json"


class _Signals(QObject):
    line = Signal(str)
    outcome = Signal(object, int, int)
    finished = Signal(object)
    failed = Signal(str)


class BatchDialog(QDialog):
    """See the module docstring. ``current_recipe()`` gives the open image's history as a
    recipe (or None); ``open_for_review(source, mask)`` shows ``source`` with ``mask`` on its
    mask layer; ``current_mask()`` is the workspace's mask now (for Accept)."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        current_recipe: Callable[[], Recipe | None],
        open_for_review: Callable[[Path, np.ndarray], None],
        current_mask: Callable[[], np.ndarray | None],
        last_folder: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch")
        self.setModal(False)
        self._current_recipe = current_recipe
        self._open_for_review = open_for_review
        self._current_mask = current_mask
        self._control: BatchControl | None = None
        self._thread: threading.Thread | None = None
        self._signals = _Signals()
        self._signals.outcome.connect(self._on_outcome)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._reviews: dict[str, tuple[BatchItem, Outcome]] = {}
        self._items: dict[str, BatchItem] | None = None
        self.result: BatchResult | None = None
        self._job: BatchJob | None = None

        self.from_file = QRadioButton("Recipe file")
        self.from_history = QRadioButton("The open image's history")
        self.from_file.setChecked(True)
        self.from_history.setEnabled(current_recipe() is not None)
        self.recipe_path = QLineEdit()
        self.input_dir = QLineEdit(last_folder)
        self.output_dir = QLineEdit()
        self.recursive = QCheckBox("Include sub-folders")
        self.recursive.setChecked(True)
        self.format = QComboBox()
        for label, value in (("As the source", None), ("PNG", "png"), ("TIFF", "tiff"),
                             ("JPEG", "jpeg")):  # fmt: skip
            self.format.addItem(label, value)
        self.workers = QSpinBox()
        self.workers.setRange(0, 64)
        self.workers.setSpecialValueText("Automatic")

        form = QFormLayout()
        recipe_row = QHBoxLayout()
        recipe_row.addWidget(self.recipe_path)
        recipe_row.addWidget(self._browse(self.recipe_path, file=True))
        form.addRow(self.from_file, recipe_row)
        form.addRow(self.from_history, QLabel("(saved beside the outputs)"))
        for label, edit in (("Input folder", self.input_dir), ("Output folder", self.output_dir)):
            row = QHBoxLayout()
            row.addWidget(edit)
            row.addWidget(self._browse(edit, file=False))
            form.addRow(label, row)
        form.addRow("", self.recursive)
        form.addRow("Format", self.format)
        form.addRow("Workers", self.workers)

        self.start = QPushButton("Start")
        self.pause = QPushButton("Pause")
        self.cancel = QPushButton("Cancel")
        self.pause.setEnabled(False)
        self.cancel.setEnabled(False)
        self.start.clicked.connect(self.start_batch)
        self.pause.clicked.connect(self._on_pause)
        self.cancel.clicked.connect(self.cancel_batch)
        buttons = QHBoxLayout()
        for b in (self.start, self.pause, self.cancel):
            buttons.addWidget(b)

        self.progress = QProgressBar()
        self.status = QLabel("")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self._signals.line.connect(self.log.appendPlainText)
        self.review_list = QListWidget()
        self.review_list.itemDoubleClicked.connect(lambda _item: self.open_review())
        self.open_button = QPushButton("Open")
        self.accept_button = QPushButton("Accept")
        self.open_button.clicked.connect(self.open_review)
        self.accept_button.clicked.connect(self.accept_current)
        review_buttons = QHBoxLayout()
        review_buttons.addWidget(self.open_button)
        review_buttons.addWidget(self.accept_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.log, 1)
        layout.addWidget(QLabel("For review (double-click to open; Accept finishes it):"))
        layout.addWidget(self.review_list, 1)
        layout.addLayout(review_buttons)
        layout.addWidget(close)
        self._sync_review_buttons()
        self.review_list.currentItemChanged.connect(lambda *_: self._sync_review_buttons())
        self.resize(640, 720)

    def _browse(self, edit: QLineEdit, *, file: bool) -> QPushButton:
        button = QPushButton("…")
        button.setFixedWidth(32)

        def pick() -> None:
            if file:
                path, _ = QFileDialog.getOpenFileName(self, "Recipe", edit.text(), "*.json")
            else:
                path = QFileDialog.getExistingDirectory(self, "Folder", edit.text())
            if path:
                edit.setText(path)

        button.clicked.connect(pick)
        return button

    # -- running ---------------------------------------------------------------------------
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _recipe_file(self, output: Path) -> Path:
        if self.from_history.isChecked():
            recipe = self._current_recipe()
            if recipe is None:
                raise PhotoFixError("the open image has no steps to make a recipe from")
            output.mkdir(parents=True, exist_ok=True)
            path = output / RECIPE_FROM_HISTORY
            path.write_text(recipe.dumps(), encoding="utf-8")
            return path
        text = self.recipe_path.text().strip()
        if not text:
            raise PhotoFixError("choose a recipe file")
        return Path(text)

    def start_batch(self) -> bool:
        """Check the form and start the batch on a background thread (False: said why)."""
        if self.running():
            return False
        try:
            inputs, output = self.input_dir.text().strip(), self.output_dir.text().strip()
            if not inputs or not output:
                raise PhotoFixError("choose an input folder and an output folder")
            recipe = self._recipe_file(Path(output))
            load_recipe(recipe)  # refused here, with the step and reason, before any image
        except PhotoFixError as exc:
            QMessageBox.warning(self, "Batch", str(exc))
            return False
        self._job = BatchJob(
            recipe=recipe,
            inputs=[inputs],
            output_dir=Path(output),
            recursive=self.recursive.isChecked(),
            workers=self.workers.value(),
            options=BatchOptions(format=self.format.currentData()),
        )
        self._control = BatchControl()
        self._reviews.clear()
        self._items = None
        self.review_list.clear()
        self.log.clear()
        self.progress.setValue(0)
        self.status.setText("Starting…")
        self._set_running(True)
        signals, job, control = self._signals, self._job, self._control

        def work() -> None:
            try:
                result = run_batch(
                    job, control, out=_LogStream(signals), on_outcome=signals.outcome.emit
                )
            except PhotoFixError as exc:
                signals.failed.emit(str(exc))
            except Exception as exc:  # shown, never swallowed
                signals.failed.emit(f"{type(exc).__name__}: {exc}")
            else:
                signals.finished.emit(result)

        self._thread = threading.Thread(target=work, name="photofix-batch", daemon=True)
        self._thread.start()
        return True

    def _set_running(self, running: bool) -> None:
        self.start.setEnabled(not running)
        self.pause.setEnabled(running)
        self.cancel.setEnabled(running)
        self.pause.setText("Pause")

    def _on_pause(self) -> None:
        if self._control is None:
            return
        if self._control.paused:
            self._control.resume()
            self.pause.setText("Pause")
            self.status.setText("Resumed")
        else:
            self._control.pause()
            self.pause.setText("Resume")
            self.status.setText("Paused: the images already running finish first")

    def cancel_batch(self) -> None:
        if self._control is not None and self.running():
            self._control.cancel()
            self.status.setText("Cancelling: the images already running finish first…")

    def _on_outcome(self, outcome: Outcome, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.status.setText(f"{done} of {total}: {outcome.relative} ({outcome.status})")
        if outcome.status == "review" and self._job is not None:
            self._add_review(outcome)

    def _add_review(self, outcome: Outcome) -> None:
        entry = QListWidgetItem(outcome.relative)
        entry.setData(Qt.ItemDataRole.UserRole, outcome.relative)
        self.review_list.addItem(entry)
        self._reviews[outcome.relative] = (self._item_for(outcome), outcome)
        if self.review_list.currentRow() < 0:
            self.review_list.setCurrentRow(0)

    def _item_for(self, outcome: Outcome) -> BatchItem:
        from photofix.batch.plan import plan_batch

        assert self._job is not None
        if self._items is None:  # the same plan the engine made (planned once per batch)
            job = self._job
            self._items = {
                item.relative: item
                for item in plan_batch(
                    job.inputs, job.output_dir, recursive=job.recursive,
                    output_format=job.options.format,
                )
            }  # fmt: skip
        return self._items[outcome.relative]

    def _on_finished(self, result: BatchResult) -> None:
        self.result = result
        self._set_running(False)
        parts = [f"{result.count(s)} {s}" for s in ("done", "skipped", "review", "failed")]
        word = "Cancelled" if result.cancelled else "Finished"
        self.status.setText(f"{word}: {', '.join(parts)}. Report: {result.report_html.name}")
        self._sync_review_buttons()

    def _on_failed(self, text: str) -> None:
        self._set_running(False)
        self.status.setText("The batch stopped")
        QMessageBox.warning(self, "Batch", text)

    # -- review ----------------------------------------------------------------------------
    def _selected(self) -> tuple[BatchItem, Outcome] | None:
        entry = self.review_list.currentItem()
        if entry is None:
            return None
        return self._reviews.get(entry.data(Qt.ItemDataRole.UserRole))

    def _sync_review_buttons(self) -> None:
        has = self._selected() is not None
        self.open_button.setEnabled(has)
        self.accept_button.setEnabled(has and not self.running())

    def open_review(self) -> bool:
        """Show the selected file in the workspace with its proposed mask."""
        from photofix.core import imageio

        chosen = self._selected()
        if chosen is None:
            return False
        item, _ = chosen
        try:
            h, w = imageio.load_image(item.source).rgb.shape[:2]
            mask = imageio.load_mask(item.proposal, (h, w))
            self._open_for_review(item.source, mask)
        except PhotoFixError as exc:
            QMessageBox.warning(self, "Batch", str(exc))
            return False
        return True

    def accept_current(self) -> bool:
        """Run the remaining steps for the selected file with the workspace's mask now."""
        chosen = self._selected()
        if chosen is None or self._job is None:
            return False
        item, _ = chosen
        mask = self._current_mask()
        if mask is None:
            QMessageBox.warning(self, "Batch", "open the file for review first")
            return False
        try:
            recipe, recipe_sha = load_recipe(self._job.recipe)
            outcome = accept_review(item, recipe, recipe_sha, self._job.options, mask)
        except PhotoFixError as exc:
            QMessageBox.warning(self, "Batch", str(exc))
            return False
        self.log.appendPlainText(f"{item.relative}: accepted, written to {outcome.target}")
        del self._reviews[item.relative]
        self.review_list.takeItem(self.review_list.currentRow())
        self._sync_review_buttons()
        return True

    def closeEvent(self, event) -> None:
        if self.running() and self._control is not None:
            self._control.cancel()
        super().closeEvent(event)


class _LogStream:
    """The engine's plain progress lines, into the dialog's log (through a signal)."""

    def __init__(self, signals: _Signals) -> None:
        self._signals = signals
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._signals.line.emit(line)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def show_batch_dialog(window) -> BatchDialog:
    """Open (or raise) the main window's Batch dialog, wired to its workspace."""
    from photofix.ops.steps import MASK_PAINT, StepRequest, commit, layers_of, run_step

    controller = window.controller

    def current_recipe() -> Recipe | None:
        doc = controller.document
        records = doc.journal if doc is not None else []
        return Recipe.from_records(list(records)) if records else None

    def open_for_review(source: Path, mask: np.ndarray) -> None:
        if not window.open_file(source):
            raise PhotoFixError(f"cannot open {source.name}")
        doc = controller.document
        request = StepRequest(MASK_PAINT, label="Proposed mask (batch review)", mask=mask)
        commit(doc, run_step(request, layers_of(doc)))  # one undoable step: edit it freely

    def current_mask() -> np.ndarray | None:
        doc = controller.document
        return None if doc is None else np.array(doc.mask, bool)

    dialog = getattr(window, "_batch_dialog", None)
    if dialog is None:
        dialog = BatchDialog(
            window,
            current_recipe=current_recipe,
            open_for_review=open_for_review,
            current_mask=current_mask,
            last_folder=window.settings.last_folder or "",
        )
        window._batch_dialog = dialog
    dialog.show()
    dialog.raise_()
    return dialog
