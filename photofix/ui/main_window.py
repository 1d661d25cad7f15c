"""MainWindow: menus, toolbars and docks around the canvas.

The window is assembled from mixins, one per seam: :class:`~photofix.ui.file_workflow.FileWorkflow`
(open, save, export), :class:`~photofix.ui.prompts.Prompts` (questions and warnings),
:class:`~photofix.ui.autosave.Autosave` (autosave, recovery, close),
:class:`~photofix.ui.tool_options.ToolOptions` (brush and overlay options) and
:class:`~photofix.ui.status.StatusBar`. The workspace logic is the
:class:`~photofix.ui.controller.WorkspaceController`'s.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QDoubleSpinBox,
    QInputDialog,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QToolButton,
)

from photofix.inference.service import InferenceService
from photofix.ops import REGISTRY
from photofix.ui.about import show_about
from photofix.ui.autosave import Autosave
from photofix.ui.batch_dialog import show_batch_dialog
from photofix.ui.controller import WorkspaceController
from photofix.ui.deblur_form import submit_estimate
from photofix.ui.document_state import DocumentState
from photofix.ui.file_workflow import (  # noqa: F401  (the names were importable from here)
    FORMAT_OF_SUFFIX,
    OPEN_FILTER,
    SAVE_FILTERS,
    SUFFIX,
    ExportDialog,
    FileWorkflow,
    _same_file,
)
from photofix.ui.icons import icon, swatch
from photofix.ui.image_view import TOOLS, ImageView
from photofix.ui.logs import show_logs
from photofix.ui.panels import HistoryPanel, JobStatusWidget, OperationsPanel
from photofix.ui.pick_tools import PickTools
from photofix.ui.prompts import Prompts
from photofix.ui.repair_brushes import RepairBrushes
from photofix.ui.session import SessionStore
from photofix.ui.settings import DEFAULT_MASK_COLOUR, MASK_COLOURS, Settings
from photofix.ui.status import StatusBar
from photofix.ui.tool_menus import CLONE_TIP, HEAL_TIP, PICK_TOOL_ACTIONS, REPAIR_KEYS, ToolMenus
from photofix.ui.tool_options import MAX_BRUSH, ToolOptions

DEVICE_NAMES = {
    "auto": "Auto (GPU if present)",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
    "cpu": "CPU",
}


class MainWindow(
    FileWorkflow, Prompts, Autosave, ToolOptions, ToolMenus, StatusBar, DocumentState, QMainWindow
):
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
        self.repair = RepairBrushes(self.controller)
        self.operations = OperationsPanel(REGISTRY)
        self.pick = PickTools(self.controller, self.operations)
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
        a(
            "export_recipe",
            "Export &Recipe…",
            self._on_export_recipe_requested,
            None,
            None,
            "Save the steps as a recipe that photofix process --recipe runs on other scans",
        )
        a("batch", "&Batch…", lambda: show_batch_dialog(self), "Ctrl+B", "fa5s.layer-group")
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
            ("heal", "Spot &Healing Brush", "J", "fa5s.band-aid", HEAL_TIP),
            ("clone", "Clone &Stamp", "S", "fa5s.stamp", CLONE_TIP),
            *PICK_TOOL_ACTIONS,
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
        a(
            "exact",
            "&Exact Float32 (Reproducible)",
            self._set_exact,
            None,
            None,
            "No reduced precision: the result is bit-identical to photofix process --exact",
            checkable=True,
        )
        a("operator", "&Operator Name…", self._on_operator_requested, None)
        a("about", "&About PhotoFix", self._on_about_requested, None)
        self._build_tool_menu_actions()
        a("show_logs", "Show &Logs", lambda: show_logs(self), None, tip="Open the log folder")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for key in ("open",):
            file_menu.addAction(self.actions[key])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        for key in ("save", "save_as", "export", "export_recipe"):
            file_menu.addAction(self.actions[key])
        file_menu.addSeparator()
        file_menu.addAction(self.actions["batch"])
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
        device.addSeparator()
        device.addAction(self.actions["exact"])
        edit.addAction(self.actions["operator"])

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
        for key in ("tool_navigate", "tool_brush", "tool_eraser", "tool_hint", *REPAIR_KEYS):
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
        self._fill_tool_menus(mask, help_menu)
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
        for key in ("tool_navigate", "tool_brush", "tool_eraser", "tool_hint", *REPAIR_KEYS):
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
        self.operations.regions.follow(c.review)
        self.history.goto_requested.connect(c.goto)
        self.operations.apply_requested.connect(c.apply_operation)
        self.operations.request_changed.connect(c.set_preview_request)
        self.operations.estimate_requested.connect(
            lambda request: submit_estimate(c, request, self.operations.show_estimate)
        )
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
        self.actions[f"tool_{s.tool if s.tool in TOOLS else 'brush'}"].setChecked(True)
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
        self.actions["exact"].setChecked(s.exact)
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

    def _set_exact(self, exact: bool) -> None:
        if exact == self.settings.exact:
            return
        self.settings.exact = exact
        self.controller.clear_model_cache()  # models loaded for the other precision

    def _on_operator_requested(self) -> None:
        name, ok = QInputDialog.getText(
            self,
            "Operator",
            "Your name, as every saved file's record names who restored it:",
            text=self.settings.operator,
        )
        if ok:
            self.settings.operator = name.strip()

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

    # -- session safety ----------------------------------------------------------------------
