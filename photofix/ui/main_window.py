"""MainWindow: menus, toolbars, docks, status bar and the file workflow around the canvas."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QToolButton,
    QWidget,
)

from photofix import __version__
from photofix.core.errors import PhotoFixError
from photofix.inference.service import InferenceService
from photofix.ops import REGISTRY
from photofix.ui.about import show_about
from photofix.ui.controller import WorkspaceController
from photofix.ui.icons import icon, swatch
from photofix.ui.image_view import ImageView
from photofix.ui.logs import show_logs
from photofix.ui.panels import HistoryPanel, JobStatusWidget, OperationsPanel
from photofix.ui.session import SessionSnapshot, SessionStore
from photofix.ui.settings import DEFAULT_MASK_COLOUR, MASK_COLOURS, Settings

OPEN_FILTER = "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.bmp);;All files (*)"
SAVE_FILTERS = {
    "TIFF": "TIFF image (*.tif *.tiff)",
    "PNG": "PNG image (*.png)",
    "JPEG": "JPEG image (*.jpg *.jpeg)",
    "WEBP": "WebP image (*.webp)",
}
SUFFIX = {"TIFF": ".tif", "PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
FORMAT_OF_SUFFIX = {
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
}
MAX_BRUSH = 2000
DEVICE_NAMES = {
    "auto": "Auto (GPU if present)",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
    "cpu": "CPU",
}


class ExportDialog(QDialog):
    """Format, bit depth and JPEG quality for File → Export."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        form = QFormLayout(self)
        self.format = QComboBox()
        self.format.addItems(list(SAVE_FILTERS))
        self.format.setCurrentText(settings.export_format)
        self.depth = QComboBox()
        self.depth.addItems(["16-bit", "8-bit"])
        self.depth.setCurrentText(f"{settings.export_bit_depth}-bit")
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(settings.jpeg_quality)
        form.addRow("Format", self.format)
        form.addRow("Bit depth", self.depth)
        form.addRow("JPEG / WebP quality", self.quality)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentTextChanged.connect(self._on_format_changed)
        self._on_format_changed(self.format.currentText())

    def _on_format_changed(self, fmt: str) -> None:
        lossy = fmt in ("JPEG", "WEBP")
        self.depth.setEnabled(not lossy)
        self.quality.setEnabled(lossy)

    def choice(self) -> tuple[str, int, int]:
        depth = (
            8
            if self.format.currentText() in ("JPEG", "WEBP")
            else int(self.depth.currentText().split("-")[0])
        )
        return self.format.currentText(), depth, self.quality.value()


class MainWindow(QMainWindow):
    """The restoration workspace."""

    def __init__(
        self,
        *,
        store: QSettings | None = None,
        sessions: SessionStore | None = None,
        probe_device: bool = True,
    ) -> None:
        super().__init__()
        self.store = store or QSettings()
        self.settings = Settings.load(self.store)
        self.sessions = sessions or SessionStore()
        self._autosaved_at: tuple[int, int] | None = None
        self._closing_confirmed = False
        self.setWindowTitle("PhotoFix")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks)

        self.service = InferenceService()
        self.view = ImageView()
        self.before_view = ImageView(interactive=False)
        self.before_view.setVisible(False)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.before_view)
        splitter.addWidget(self.view)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.setCentralWidget(splitter)
        self.controller = WorkspaceController(
            self.view, self.before_view, self.service, self.settings, parent=self
        )
        self.operations = OperationsPanel(REGISTRY)
        self.history = HistoryPanel()
        self.jobs = JobStatusWidget()

        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        self._build_toolbars()
        self._build_docks()
        self._build_status_bar()
        self._connect()
        self._apply_settings()
        self.service.start()  # after every connection (a fast job's signal is not lost)

        self._autosave_timer = QTimer(self)
        self._autosave_timer.timeout.connect(self._on_autosave_due)
        self._autosave_timer.start(max(1, self.settings.autosave_minutes) * 60_000)
        if probe_device:
            QTimer.singleShot(1500, self.controller.probe_device)
        self._update_actions()

    # -- construction ------------------------------------------------------------------------
    def _action(
        self,
        key: str,
        text: str,
        slot: Callable[..., object],
        shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
        icon_name: str | None = None,
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icon(icon_name))
        if tip or shortcut is not None:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(
                f"{tip or text.replace('&', '').rstrip('…')}" + (f" ({keys})" if keys else "")
            )
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
        self.actions[key] = action
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        a(
            "open",
            "&Open…",
            self._on_open_requested,
            QKeySequence.StandardKey.Open,
            "fa5s.folder-open",
        )
        a("save", "&Save", self._on_save_requested, QKeySequence.StandardKey.Save, "fa5s.save")
        a("save_as", "Save &As…", self._on_save_as_requested, "Ctrl+Shift+S")
        a("export", "&Export…", self._on_export_requested, "Ctrl+Alt+E", "fa5s.file-export")
        a("close_image", "&Close Image", self._on_close_image_requested, "Ctrl+W")
        a("quit", "&Quit", self.close, QKeySequence.StandardKey.Quit)
        a("undo", "&Undo", self.controller.undo, "Ctrl+Z", "fa5s.undo")
        a("redo", "&Redo", self.controller.redo, "Ctrl+Shift+Z", "fa5s.redo")
        self.actions["redo"].setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        a("zoom_in", "Zoom &In", lambda: self.view.zoom_by(1.25), "Ctrl++", "fa5s.search-plus")
        self.actions["zoom_in"].setShortcuts([QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")])
        a("zoom_out", "Zoom &Out", lambda: self.view.zoom_by(0.8), "Ctrl+-", "fa5s.search-minus")
        a("fit", "&Fit on Screen", self.view.fit, "Ctrl+0", "fa5s.compress-arrows-alt")
        a("actual", "&100 %", self.view.actual_pixels, "Ctrl+1", "fa5s.expand")
        a(
            "overlay",
            "Show &Mask Overlay",
            self._on_overlay_toggled,
            "O",
            "fa5s.eye",
            "Show or hide the mask and hint overlay",
            checkable=True,
        )
        self.mask_colours = QActionGroup(self)
        self.mask_colours.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        for name, hex_colour in MASK_COLOURS.items():
            act = a(
                f"mask_colour_{name.lower()}",
                name,
                lambda on, c=hex_colour: self.set_mask_colour(
                    QColor(c if on else self.settings.mask_colour)
                ),
                None,
                None,
                f"Show the mask in {name.lower()}",
                checkable=True,
            )
            act.setIcon(swatch(QColor(hex_colour)))
            self.mask_colours.addAction(act)
        a(
            "mask_colour_other",
            "&Other Colour…",
            self._on_mask_colour_requested,
            None,
            None,
            "Pick any colour for the mask overlay",
        )
        a("cancel", "&Cancel Job", self.controller.cancel_jobs, "Esc", "fa5s.times-circle")

        tools = QActionGroup(self)
        for key, text, shortcut, name, tip in (
            ("navigate", "&Hand", "H", "fa5s.hand-paper", "Pan the view"),
            ("brush", "Mask &Brush", "B", "fa5s.paint-brush", "Paint the damage mask"),
            ("eraser", "Mask &Eraser", "E", "fa5s.eraser", "Erase from the mask (Alt inverts)"),
            ("hint", "Colour &Hint Brush", "K", "fa5s.palette", "Paint colour hints"),
        ):
            act = a(
                f"tool_{key}",
                text,
                lambda on, k=key: on and self._set_tool(k),
                shortcut,
                name,
                tip,
                checkable=True,
            )
            tools.addAction(act)
        a("brush_smaller", "Smaller Brush", lambda: self._scale_brush(1 / 1.2), "[")
        a("brush_bigger", "Bigger Brush", lambda: self._scale_brush(1.2), "]")
        a("hint_colour", "Hint &Colour…", self._on_hint_colour_requested, None)

        a("mask_clear", "&Clear Mask", lambda: self.controller.edit_mask("clear"), "Ctrl+D")
        a(
            "mask_invert",
            "&Invert Mask",
            lambda: self.controller.edit_mask("invert"),
            "Ctrl+Shift+I",
        )
        a("mask_grow", "&Grow Mask…", lambda: self._on_grow_requested(1), None)
        a("mask_shrink", "&Shrink Mask…", lambda: self._on_grow_requested(-1), None)

        compare = QActionGroup(self)
        for key, text, shortcut in (
            ("off", "&No Compare", None),
            ("vertical", "Split &Left/Right", "Shift+Y"),
            ("horizontal", "Split &Top/Bottom", "Alt+Y"),
            ("side", "&Side by Side", "Y"),
        ):
            act = a(
                f"compare_{key}",
                text,
                lambda on, k=key: on and self._set_compare(k),
                shortcut,
                {"vertical": "fa5s.columns", "side": "fa5s.clone"}.get(key),
                checkable=True,
            )
            compare.addAction(act)
        self.actions["compare_vertical"].setToolTip(
            "Before/after split: drag the line; hold \\ to see the before image"
        )
        before = QActionGroup(self)
        for key, text in (
            ("original", "Before = &Original File"),
            ("previous", "Before = &Previous Step"),
        ):
            act = a(
                f"before_{key}",
                text,
                lambda on, k=key: on and self.controller.set_compare_before(k),
                None,
                checkable=True,
            )
            before.addAction(act)

        devices = QActionGroup(self)
        for key, text in DEVICE_NAMES.items():
            act = a(
                f"device_{key}",
                text,
                lambda on, k=key: on and self._set_device(k),
                None,
                checkable=True,
            )
            devices.addAction(act)
        a("about", "&About PhotoFix", self._on_about_requested, None)
        a("show_logs", "Show &Logs", lambda: show_logs(self), None, tip="Open the log folder")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for key in ("open",):
            file_menu.addAction(self.actions[key])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        for key in ("save", "save_as", "export"):
            file_menu.addAction(self.actions[key])
        file_menu.addSeparator()
        file_menu.addAction(self.actions["close_image"])
        file_menu.addAction(self.actions["quit"])

        edit = bar.addMenu("&Edit")
        edit.addAction(self.actions["undo"])
        edit.addAction(self.actions["redo"])
        edit.addSeparator()
        device = edit.addMenu("Compute &Device")
        for key in DEVICE_NAMES:
            device.addAction(self.actions[f"device_{key}"])

        view = bar.addMenu("&View")
        for key in ("zoom_in", "zoom_out", "fit", "actual"):
            view.addAction(self.actions[key])
        view.addSeparator()
        view.addAction(self.actions["overlay"])
        self.mask_colour_menu = view.addMenu("Mask Overlay Co&lour")
        self.mask_colour_menu.setToolTipsVisible(True)
        for name in MASK_COLOURS:
            self.mask_colour_menu.addAction(self.actions[f"mask_colour_{name.lower()}"])
        self.mask_colour_menu.addSeparator()
        self.mask_colour_menu.addAction(self.actions["mask_colour_other"])
        compare = view.addMenu("&Compare")
        for key in ("off", "vertical", "horizontal", "side"):
            compare.addAction(self.actions[f"compare_{key}"])
        compare.addSeparator()
        compare.addAction(self.actions["before_original"])
        compare.addAction(self.actions["before_previous"])
        self.panels_menu = view.addMenu("&Panels")

        mask = bar.addMenu("&Mask")
        for key in ("tool_navigate", "tool_brush", "tool_eraser", "tool_hint"):
            mask.addAction(self.actions[key])
        mask.addAction(self.actions["brush_smaller"])
        mask.addAction(self.actions["brush_bigger"])
        mask.addAction(self.actions["hint_colour"])
        mask.addMenu(self.mask_colour_menu)
        mask.addSeparator()
        for key in ("mask_clear", "mask_invert", "mask_grow", "mask_shrink"):
            mask.addAction(self.actions[key])

        ops = bar.addMenu("&Operations")
        for op in REGISTRY:
            act = ops.addAction(op.title)
            act.setToolTip(op.summary)
            act.triggered.connect(lambda _=False, name=op.name: self._show_operation(name))
        ops.addSeparator()
        ops.addAction(self.actions["cancel"])

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.actions["show_logs"])
        help_menu.addAction(self.actions["about"])

    def _build_toolbars(self) -> None:
        main = self.addToolBar("Main")
        main.setObjectName("toolbar-main")
        for key in ("open", "save", "export", None, "undo", "redo", None, "fit", "actual"):
            if key is None:
                main.addSeparator()
            else:
                main.addAction(self.actions[key])
        tools = self.addToolBar("Tools")
        tools.setObjectName("toolbar-tools")
        for key in ("tool_navigate", "tool_brush", "tool_eraser", "tool_hint"):
            tools.addAction(self.actions[key])
        tools.addSeparator()
        tools.addWidget(QLabel(" Size "))
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(1, 500)
        self.brush_slider.setFixedWidth(140)
        self.brush_slider.setToolTip("Brush diameter in image pixels ([ and ] change it)")
        self.brush_spin = QSpinBox()
        self.brush_spin.setRange(1, MAX_BRUSH)
        self.brush_spin.setSuffix(" px")
        tools.addWidget(self.brush_slider)
        tools.addWidget(self.brush_spin)
        tools.addWidget(QLabel(" Feather "))
        self.feather_spin = QDoubleSpinBox()
        self.feather_spin.setRange(0, 200)
        self.feather_spin.setSuffix(" px")
        self.feather_spin.setToolTip(
            "Soft edge of the mask: an operation limited to the mask fades out over this "
            "many pixels (the same setting as in the Operations panel)"
        )
        tools.addWidget(self.feather_spin)
        self.hint_button = QToolButton()
        self.hint_button.setToolTip("Colour of the hint brush")
        self.hint_button.clicked.connect(self._on_hint_colour_requested)
        tools.addWidget(self.hint_button)
        tools.addSeparator()
        tools.addAction(self.actions["overlay"])
        overlay_button = tools.widgetForAction(self.actions["overlay"])
        if isinstance(overlay_button, QToolButton):  # its arrow offers the overlay colours
            overlay_button.setMenu(self.mask_colour_menu)
            overlay_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        tools.addAction(self.actions["compare_vertical"])
        tools.addAction(self.actions["compare_side"])

    def _build_docks(self) -> None:
        for title, widget, name in (
            ("Operations", self.operations, "dock-operations"),
            ("History", self.history, "dock-history"),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            )
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            self.panels_menu.addAction(dock.toggleViewAction())
        ops, history = (self.findChild(QDockWidget, n) for n in ("dock-operations", "dock-history"))
        # the operations get the height the window gains or loses: their form, blend controls
        # and Apply must be in sight; the history keeps a few rows (drag the edge for more)
        self.operations.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.history.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.history.setMinimumHeight(2 * self.history.fontMetrics().height())
        self.resizeDocks([ops], [340], Qt.Orientation.Horizontal)
        self.resizeDocks([ops, history], [700, 150], Qt.Orientation.Vertical)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.zoom_label = QLabel()
        self.position_label = QLabel()
        self.colour_swatch = QLabel()
        self.colour_swatch.setFixedSize(14, 14)
        self.colour_label = QLabel()
        self.size_label = QLabel()
        self.device_label = QLabel()
        bar.addPermanentWidget(self.jobs)
        for w in (
            self.position_label,
            self.colour_swatch,
            self.colour_label,
            self.zoom_label,
            self.size_label,
            self.device_label,
        ):
            bar.addPermanentWidget(w)
        self.position_label.setMinimumWidth(110)
        self.colour_label.setMinimumWidth(150)
        bar.showMessage(
            f"PhotoFix {__version__} — open a scanned photograph (Ctrl+O) or drop one here"
        )

    def _connect(self) -> None:
        c = self.controller
        c.history_changed.connect(self._on_history_changed)
        c.document_changed.connect(self._on_document_changed)
        c.modified_changed.connect(self.setWindowModified)
        c.job_started.connect(self._on_job_started)
        c.job_progress.connect(self._on_job_progress)
        c.job_ended.connect(self._on_job_ended)
        c.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.error.connect(self._on_error)
        c.model_missing.connect(self._on_model_missing)
        c.device_resolved.connect(self._on_device_resolved)
        c.overlay_shown.connect(self._on_overlay_shown)
        c.review_changed.connect(self._on_review_changed)
        self.operations.review_accepted.connect(c.accept_review)
        self.operations.review_dismissed.connect(c.dismiss_review)
        self.history.goto_requested.connect(c.goto)
        self.operations.apply_requested.connect(c.apply_operation)
        self.operations.request_changed.connect(c.set_preview_request)
        self.jobs.cancel_requested.connect(c.cancel_jobs)
        self.view.zoom_changed.connect(self._on_zoom_changed)
        self.view.cursor_moved.connect(self._on_cursor_moved)
        self.view.cursor_left.connect(self._on_cursor_left)
        self.view.files_dropped.connect(self._on_files_dropped)
        self.view.before_held.connect(self._on_before_held)
        self.brush_slider.valueChanged.connect(self._on_brush_size_changed)
        self.brush_spin.valueChanged.connect(self._on_brush_size_changed)
        self.feather_spin.valueChanged.connect(self.operations.feather.setValue)
        self.operations.feather.valueChanged.connect(self._on_feather_changed)

    def _apply_settings(self) -> None:
        s = self.settings
        if s.window_geometry:
            self.restoreGeometry(s.window_geometry)
        if s.window_state:
            self.restoreState(s.window_state)
        self.actions[
            f"tool_{s.tool if s.tool in ('navigate', 'brush', 'eraser', 'hint') else 'brush'}"
        ].setChecked(True)
        self._on_brush_size_changed(s.brush_size)
        self._set_hint_colour(QColor(s.hint_colour))
        self.actions["overlay"].setChecked(s.overlay_visible)
        if not QColor.isValidColorName(s.mask_colour):  # a damaged setting
            s.mask_colour = DEFAULT_MASK_COLOUR
            self.controller.apply_overlay_settings()
        self._show_mask_colour()
        mode = (
            s.compare_mode if s.compare_mode in ("off", "vertical", "horizontal", "side") else "off"
        )
        self.actions[f"compare_{mode}"].setChecked(True)
        self.controller.set_compare(mode)
        self.actions[
            f"before_{'previous' if s.compare_before == 'previous' else 'original'}"
        ].setChecked(True)
        self.actions[f"device_{s.device if s.device in DEVICE_NAMES else 'auto'}"].setChecked(True)
        if s.operation in REGISTRY.names():
            self.operations.select(s.operation)
        self.operations.set_blend(s.strength, s.limit_to_mask, s.feather, s.live_preview)
        self._on_feather_changed(s.feather)
        self.device_label.setText(f"Device: {DEVICE_NAMES.get(s.device, s.device)}")
        self._rebuild_recent_menu()

    # -- settings ----------------------------------------------------------------------------
    def save_settings(self) -> None:
        s = self.settings
        s.window_geometry = bytes(self.saveGeometry().data())
        s.window_state = bytes(self.saveState().data())
        s.tool = self.view.tool
        request = self.operations.request()
        s.operation = request.op.name
        s.strength = self.operations.strength.value() / 100.0
        s.limit_to_mask = self.operations.limit_to_mask.isChecked()
        s.feather = request.feather
        s.live_preview = self.operations.live_preview.isChecked()
        s.save(self.store)

    # -- files -------------------------------------------------------------------------------
    def open_file(self, path: Path) -> bool:
        """Open ``path`` now (no unsaved-changes prompt); on failure say why and keep the
        current image."""
        path = Path(path)
        self.statusBar().showMessage(f"Opening {path.name}…")
        QWidget.setCursor(self, Qt.CursorShape.WaitCursor)
        started = time.perf_counter()
        try:
            self.controller.open_file(path)
        except PhotoFixError as exc:
            self._on_error("Cannot open image", str(exc))
            self.statusBar().clearMessage()
            return False
        finally:
            self.unsetCursor()
        self.settings.last_folder = str(path.resolve().parent)
        self.settings.add_recent(path)
        self.view.setFocus()  # space-drag and the backslash toggle work at once
        self._rebuild_recent_menu()
        self.statusBar().showMessage(
            f"Opened {path.name} in {time.perf_counter() - started:.1f} s", 5000
        )
        return True

    def open_in_background(self, path: Path) -> int:
        """Open ``path`` without blocking the window (progress in the status bar)."""
        path = Path(path)

        def opened() -> None:
            self.settings.last_folder = str(path.resolve().parent)
            self.settings.add_recent(path)
            self._rebuild_recent_menu()
            self.view.setFocus()
            self.statusBar().showMessage(f"Opened {path.name}", 5000)

        return self.controller.open_file_in_background(path, then=opened)

    def request_open(self, path: Path) -> None:
        """Open ``path`` after asking about unsaved changes."""
        self.run_after_saving(lambda: self.open_in_background(path))

    def _on_open_requested(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open image", self.settings.last_folder, OPEN_FILTER
        )
        if name:
            self.request_open(Path(name))

    def _on_files_dropped(self, paths: list[Path]) -> None:
        if paths:
            self.request_open(paths[0])

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self._on_files_dropped(paths)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for text in self.settings.recent_files:
            act = self.recent_menu.addAction(Path(text).name)
            act.setToolTip(text)
            act.setStatusTip(text)
            act.triggered.connect(lambda _=False, p=text: self.request_open(Path(p)))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))
        if self.settings.recent_files:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Recent Files")
            clear.triggered.connect(self._on_clear_recent)

    def _on_clear_recent(self) -> None:
        self.settings.recent_files = []
        self._rebuild_recent_menu()

    def _on_close_image_requested(self) -> None:
        self.run_after_saving(lambda: self.controller.set_document(None))

    def save_to(
        self,
        path: Path,
        *,
        format: str | None = None,
        bit_depth: int | None = None,
        quality: int | None = None,
        as_copy: bool = False,
        then: Callable[[], None] | None = None,
    ) -> int | None:
        """Save (or export, ``as_copy``) to ``path`` in the background, asking first when that
        would replace the original file. Returns the job id, or None when not started."""
        c = self.controller
        if c.document is None:
            return None
        overwrite = False
        if c.original_path is not None and _same_file(path, c.original_path):
            answer = self.ask(
                "Replace the original?",
                f"{path.name} is the original scan. Replacing it loses the unrestored "
                "pixels for good.\n\nSave the restoration under another name instead?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
                {
                    QMessageBox.StandardButton.Save: "Save As…",
                    QMessageBox.StandardButton.Discard: "Replace Original",
                },
            )
            if answer == QMessageBox.StandardButton.Save:
                self._on_save_as_requested(then=then)
                return None
            if answer != QMessageBox.StandardButton.Discard:
                return None
            overwrite = True
        return c.save(
            path,
            format=format,
            bit_depth=bit_depth,
            quality=quality or self.settings.jpeg_quality,
            overwrite_original=overwrite,
            as_copy=as_copy,
            then=then,
        )

    def _on_save_requested(self, then: Callable[[], None] | None = None) -> None:
        doc = self.controller.document
        if doc is None:
            return
        if doc.path is None:
            self._on_save_as_requested(then=then)
            return
        self.save_to(doc.path, then=then)

    def _suggested_name(self, fmt: str) -> Path:
        doc = self.controller.document
        folder = Path(self.settings.last_folder or Path.home())
        if doc is not None and doc.path is not None:
            stem = doc.path.stem
            if self.controller.original_path and _same_file(
                doc.path, self.controller.original_path
            ):
                stem += "-restored"
            return doc.path.with_name(stem + SUFFIX[fmt])
        return folder / ("restored" + SUFFIX[fmt])

    def _on_save_as_requested(self, then: Callable[[], None] | None = None) -> None:
        doc = self.controller.document
        if doc is None:
            return
        fmt = (
            "TIFF"
            if doc.meta is None
            else FORMAT_OF_SUFFIX.get(f".{doc.meta.format.lower()}", "TIFF")
        )
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save as",
            str(self._suggested_name(fmt)),
            ";;".join(SAVE_FILTERS.values()),
            SAVE_FILTERS[fmt],
        )
        if name:
            self.save_to(Path(name), then=then)

    def _on_export_requested(self) -> None:
        if self.controller.document is None:
            return
        dialog = ExportDialog(self.settings, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        fmt, depth, quality = dialog.choice()
        self.settings.export_format, self.settings.jpeg_quality = fmt, quality
        if fmt not in ("JPEG", "WEBP"):
            self.settings.export_bit_depth = depth
        name, _ = QFileDialog.getSaveFileName(
            self, "Export", str(self._suggested_name(fmt)), SAVE_FILTERS[fmt]
        )
        if name:
            path = Path(name)
            if path.suffix.lower() not in FORMAT_OF_SUFFIX:
                path = path.with_suffix(SUFFIX[fmt])
            self.save_to(path, format=fmt, bit_depth=depth, quality=quality, as_copy=True)

    def run_after_saving(self, action: Callable[[], object]) -> None:
        """Run ``action`` now, or after the user saved or discarded the unsaved changes (or
        never, when they cancel)."""
        doc = self.controller.document
        if doc is None or not doc.modified:
            action()
            return
        answer = self.ask(
            "Unsaved changes",
            f"Save the changes to {doc.path.name if doc.path else 'the image'} first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Discard:
            action()
        elif answer == QMessageBox.StandardButton.Save:
            self._on_save_requested(then=action)

    # -- dialogs (one place, so tests can answer them) -----------------------------------------
    def ask(
        self,
        title: str,
        text: str,
        buttons: QMessageBox.StandardButton,
        default: QMessageBox.StandardButton,
        labels: dict[QMessageBox.StandardButton, str] | None = None,
    ) -> QMessageBox.StandardButton:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setDefaultButton(default)
        for button, label in (labels or {}).items():
            box.button(button).setText(label)
        return QMessageBox.StandardButton(box.exec())

    def _on_error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def _on_model_missing(self, model_id: str, text: str, request: object) -> None:
        """An operation needs a model that is not installed: offer to download it (verified
        against its pinned SHA-256), then apply the operation again."""
        yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
        reply = self.ask(
            "Model not installed",
            f"{text}\n\nDownload it now? Nothing is sent except the request for the file.",
            yes | no,
            yes,
            {yes: "Download", no: "Not now"},
        )
        if reply == yes:
            self.controller.install_model(model_id, request)  # type: ignore[arg-type]

    # -- tools -------------------------------------------------------------------------------
    def _set_tool(self, tool: str) -> None:
        self.view.set_tool(tool)
        self.settings.tool = tool

    def _on_brush_size_changed(self, size: int) -> None:
        size = max(1, min(MAX_BRUSH, int(size)))
        self.settings.brush_size = size
        for w in (self.brush_slider, self.brush_spin):
            w.blockSignals(True)
            w.setValue(size)
            w.blockSignals(False)
        self.view.set_brush_radius(size / 2)

    def _on_feather_changed(self, value: float) -> None:
        self.settings.feather = value
        self.feather_spin.blockSignals(True)
        self.feather_spin.setValue(value)
        self.feather_spin.blockSignals(False)

    def _scale_brush(self, factor: float) -> None:
        size = self.settings.brush_size
        new = round(size * factor)
        if new == size:
            new = size + (1 if factor > 1 else -1)
        self._on_brush_size_changed(new)

    def _set_hint_colour(self, colour: QColor) -> None:
        if not colour.isValid():
            return
        self.settings.hint_colour = colour.name()
        self.hint_button.setIcon(swatch(colour, 18))

    def _on_hint_colour_requested(self) -> None:
        colour = QColorDialog.getColor(QColor(self.settings.hint_colour), self, "Hint colour")
        self._set_hint_colour(colour)
        if colour.isValid():
            self.actions["tool_hint"].setChecked(True)

    def set_mask_colour(self, colour: QColor) -> None:
        """Draw the mask overlay in ``colour`` (remembered; the overlay is shown to see it)."""
        if not colour.isValid():
            return
        self.settings.mask_colour = colour.name()
        self.controller.apply_overlay_settings()
        if not self.settings.overlay_visible:
            self.controller.set_overlay_visible(True)
        self._show_mask_colour()

    def _show_mask_colour(self) -> None:
        """Tick the preset that is the overlay colour (none for another colour)."""
        current = QColor(self.settings.mask_colour).name()
        for name, hex_colour in MASK_COLOURS.items():
            act = self.actions[f"mask_colour_{name.lower()}"]
            act.blockSignals(True)
            act.setChecked(QColor(hex_colour).name() == current)
            act.blockSignals(False)
        self.actions["mask_colour_other"].setIcon(swatch(QColor(current)))

    def _on_mask_colour_requested(self) -> None:
        colour = QColorDialog.getColor(
            QColor(self.settings.mask_colour), self, "Mask overlay colour"
        )
        self.set_mask_colour(colour)

    def _on_grow_requested(self, sign: int) -> None:
        what = "Grow" if sign > 0 else "Shrink"
        pixels, ok = QInputDialog.getInt(
            self, f"{what} mask", f"{what} the mask by (px):", 4, 1, 500
        )
        if ok:
            self.controller.edit_mask("grow", sign * pixels)

    def _on_overlay_toggled(self, visible: bool) -> None:
        self.controller.set_overlay_visible(visible)

    def _on_overlay_shown(self, visible: bool) -> None:
        action = self.actions["overlay"]
        action.blockSignals(True)
        action.setChecked(visible)
        action.blockSignals(False)

    def _set_compare(self, mode: str) -> None:
        self.controller.set_compare(mode)
        if mode == "side":  # two equal halves, so both show the same area
            half = max(1, self.splitter.width() // 2)
            self.splitter.setSizes([half, half])
            self.before_view.follow(self.view)

    def _set_device(self, device: str) -> None:
        if device == self.settings.device:
            return
        self.settings.device = device
        self.device_label.setText(f"Device: {DEVICE_NAMES[device]}")
        self.controller.clear_model_cache()
        self.controller.probe_device()

    def _show_operation(self, name: str) -> None:
        self.operations.select(name)
        self._show_operations_dock()

    def _show_operations_dock(self) -> None:
        dock = self.findChild(QDockWidget, "dock-operations")
        dock.show()
        dock.raise_()

    def _on_review_changed(self, text: str) -> None:
        self.operations.show_review(text)
        if text:  # the Accept button must be in sight
            self._show_operations_dock()

    def _on_about_requested(self) -> None:
        show_about(self)

    # -- status ------------------------------------------------------------------------------
    def _on_zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %" if zoom >= 0.1 else f"{zoom * 100:.1f} %")

    def _on_cursor_moved(self, pos: QPointF) -> None:
        info = self.controller.pixel_info(pos)
        if info is None:
            self._on_cursor_left()
            return
        x, y, rgb = info
        self.position_label.setText(f"x {x}, y {y}")
        self.colour_label.setText("RGB " + " ".join(str(v) for v in rgb))
        full = 65535 if max(rgb) > 255 or self._bit_depth() >= 16 else 255
        colour = QColor(*(round(v * 255 / full) for v in rgb))
        self.colour_swatch.setStyleSheet(f"background: {colour.name()}; border: 1px solid #888;")

    def _bit_depth(self) -> int:
        doc = self.controller.document
        return 8 if doc is None or doc.meta is None else doc.meta.bit_depth

    def _on_cursor_left(self) -> None:
        self.position_label.setText("")
        self.colour_label.setText("")
        self.colour_swatch.setStyleSheet("")

    def _on_device_resolved(self, name: str) -> None:
        self.device_label.setText(f"Device: {name}")

    def _on_before_held(self, held: bool) -> None:
        if held:
            self.statusBar().showMessage("Showing the before image (release \\ to return)")
        else:
            self.statusBar().clearMessage()

    def _on_document_changed(self) -> None:
        doc = self.controller.document
        if doc is None:
            self.size_label.setText("")
            self.setWindowTitle("PhotoFix")
        else:
            w, h = doc.size
            m = doc.meta
            depth = f" · {m.bit_depth}-bit {m.source_mode} · {m.format}" if m else ""
            self.size_label.setText(f"{w} × {h} px{depth}")
            self._update_title()
        self._on_zoom_changed(self.view.zoom())
        self._update_actions()

    def _update_title(self) -> None:
        doc = self.controller.document
        if doc is None:
            self.setWindowTitle("PhotoFix")
            return
        name = doc.path.name if doc.path else "Recovered session"
        self.setWindowTitle(f"{name}[*] — PhotoFix")
        self.setWindowModified(doc.modified)

    def _on_history_changed(self) -> None:
        doc = self.controller.document
        self.history.refresh(doc)
        self._update_title()
        self._update_actions()
        if doc is not None:
            w, h = doc.size
            m = doc.meta
            depth = f" · {m.bit_depth}-bit {m.source_mode} · {m.format}" if m else ""
            self.size_label.setText(f"{w} × {h} px{depth}")
            if not doc.modified:
                self.sessions.discard_if_idle()  # nothing unsaved left to recover

    def _update_actions(self) -> None:
        doc = self.controller.document
        has = doc is not None
        for key in (
            "save",
            "save_as",
            "export",
            "close_image",
            "mask_clear",
            "mask_invert",
            "mask_grow",
            "mask_shrink",
            "fit",
            "actual",
            "zoom_in",
            "zoom_out",
        ):
            self.actions[key].setEnabled(has)
        self.actions["undo"].setEnabled(has and doc.history.can_undo)
        self.actions["redo"].setEnabled(has and doc.history.can_redo)
        self.operations.setEnabled(has)
        self.actions["cancel"].setEnabled(self.controller.busy())

    # -- jobs --------------------------------------------------------------------------------
    def _on_job_started(self, job_id: int, title: str) -> None:
        self.jobs.started(title)
        self.operations.set_busy(True)
        self.actions["cancel"].setEnabled(True)

    def _on_job_progress(self, job_id: int, fraction: float, eta: object, text: str) -> None:
        self.jobs.progressed(fraction, eta if isinstance(eta, float) else None, text)

    def _on_job_ended(self, job_id: int, outcome: str, text: str) -> None:
        if not self.controller.busy():
            self.jobs.ended()
            self.operations.set_busy(False)
            self.actions["cancel"].setEnabled(False)

    # -- session safety ----------------------------------------------------------------------
    def autosave_now(self) -> bool:
        """Write the session in the background if it changed since the last autosave."""
        doc = self.controller.document
        if doc is None or not doc.modified:
            return False
        key = (id(doc), doc.history.index, len(doc.history.steps))
        if key == self._autosaved_at:
            return False
        snapshot = SessionSnapshot.of(doc, self.controller.original_path)
        if self.sessions.save_async(snapshot):
            self._autosaved_at = key
            return True
        return False

    def _on_autosave_due(self) -> None:
        self.autosave_now()

    def offer_recovery(self) -> bool:
        """After a crash: offer the autosaved session back. True when it was restored."""
        if not self.sessions.exists():
            return False
        try:
            snapshot = self.sessions.load()
        except Exception as exc:  # a damaged autosave must not stop the program
            self._on_error(
                "Cannot recover the last session", f"The autosave is unreadable ({exc})."
            )
            self.sessions.discard()
            return False
        name = Path(snapshot.path).name if snapshot.path else "an image"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(snapshot.saved_at))
        answer = self.ask(
            "Recover unsaved work?",
            f"PhotoFix did not close properly last time. Recover the work on {name} "
            f"autosaved at {when}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Discard,
            QMessageBox.StandardButton.Yes,
            {
                QMessageBox.StandardButton.Yes: "Recover",
                QMessageBox.StandardButton.Discard: "Discard",
            },
        )
        if answer != QMessageBox.StandardButton.Yes:
            self.sessions.discard()
            return False
        original = Path(snapshot.original_path) if snapshot.original_path else None
        self.controller.set_document(snapshot.to_document(), original_path=original)
        self.statusBar().showMessage(f"Recovered the work on {name} from {when}", 8000)
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing_confirmed:
            if self.controller.busy():
                answer = self.ask(
                    "A job is running",
                    f"{self.controller.running_title()} is still running. Cancel it and close?",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.No,
                    {
                        QMessageBox.StandardButton.Yes: "Cancel Job and Close",
                        QMessageBox.StandardButton.No: "Keep Working",
                    },
                )
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return
                self.controller.cancel_jobs()
            doc = self.controller.document
            if doc is not None and doc.modified:
                event.ignore()

                def close_now() -> None:
                    self._closing_confirmed = True
                    QTimer.singleShot(0, self.close)  # not from inside this close event

                self.run_after_saving(close_now)
                return
        self.save_settings()
        self._autosave_timer.stop()
        self.controller.shutdown()
        self.service.stop()
        self.sessions.discard()
        event.accept()


def _same_file(a: Path, b: Path) -> bool:
    try:
        if Path(a).resolve() == Path(b).resolve():
            return True
        return Path(a).exists() and Path(b).exists() and Path(a).samefile(b)
    except OSError:
        return False
