"""WorkspaceController: turns the canvas's intents into document edits and background jobs.

It owns the open :class:`~photofix.core.document.Document`, keeps the display (pyramids,
overlays, compare layer, preview) in step with it by dirty box, and talks to the
:class:`~photofix.inference.service.InferenceService`: operations, live previews and saves run
there, and their results come back as one undoable step. Dialogs belong to the main window;
the controller reports problems through :attr:`error` and notes through :attr:`message`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QPointF, Signal
from PySide6.QtGui import QColor

from photofix import __version__
from photofix.core import provenance
from photofix.core.document import Document
from photofix.core.errors import ModelMissing, OperationError
from photofix.core.history import Box
from photofix.core.imageio import ImageMeta
from photofix.core.recipe import Recipe, StepRecord
from photofix.inference.device import DevicePolicy
from photofix.inference.service import InferenceService, Job, JobContext
from photofix.ops import steps
from photofix.ops.registry import Layers, OpContext, Operation
from photofix.ops.steps import StepResult
from photofix.ui.canvas_items import HintOverlayItem, MaskOverlayItem
from photofix.ui.commands import describe_params
from photofix.ui.compare import Compare
from photofix.ui.display import DisplayPyramid
from photofix.ui.file_jobs import Opened, RecordInfo, open_job, read_for_window, save_job
from photofix.ui.image_view import ImageView
from photofix.ui.jobs import SILENT_KINDS, JobTracker
from photofix.ui.live_preview import (
    MAX_PREVIEW_SIDE,
    PREVIEW_DELAY_MS,
    LivePreview,
    PreviewRequest,
)
from photofix.ui.review import MaskReview
from photofix.ui.settings import Settings
from photofix.ui.strokes import BrushStrokes

__all__ = [
    "MAX_PREVIEW_SIDE",
    "PREVIEW_DELAY_MS",
    "SILENT_KINDS",
    "PreviewRequest",
    "WorkspaceController",
]


@dataclass(frozen=True)
class _MissingModel:
    """An apply job's answer when its model must be downloaded first."""

    model_id: str
    message: str


class WorkspaceController(QObject):
    """The workspace's logic between the canvas, the document and the inference service."""

    document_changed = Signal()  # a document was opened or closed
    history_changed = Signal()
    modified_changed = Signal(bool)
    job_started = Signal(int, str)
    job_progress = Signal(int, float, object, str)
    job_ended = Signal(int, str, str)  # id, "finished" | "failed" | "cancelled", message
    message = Signal(str)
    error = Signal(str, str)  # title, readable text
    preview_changed = Signal(bool)
    device_resolved = Signal(str)
    overlay_shown = Signal(bool)
    # model id, readable text, the request to apply again once the model is installed
    model_missing = Signal(str, str, object)
    # what to check in a proposed mask before it is filled; "" when no mask waits for the user
    review_changed = Signal(str)

    def __init__(
        self,
        view: ImageView,
        before_view: ImageView,
        service: InferenceService,
        settings: Settings,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._shut_down = False
        self.view = view
        self.before_view = before_view
        self.service = service
        self.settings = settings
        self.document: Document | None = None
        self.original_path: Path | None = None
        self.recorded: list[StepRecord] = []  # the steps the opened file says made it
        self.source_sha256: str | None = None
        self.source_meta: ImageMeta | None = None
        self.open_note = ""  # why the opened file's record was not used, or ""
        self.pyramid: DisplayPyramid | None = None
        self.generation = 0  # bumped on every change of the image layer
        self._was_modified = False
        self.strokes = BrushStrokes(self)
        self.review = MaskReview(self)

        self.mask_overlay = MaskOverlayItem()
        self.hint_overlay = HintOverlayItem(self._hint_layers)
        view.add_overlay(self.hint_overlay, 2)
        view.add_overlay(self.mask_overlay, 3)
        self.apply_overlay_settings()

        self.preview = LivePreview(self)

        view.stroke_started.connect(self._on_stroke_started)
        view.stroke_moved.connect(self._on_stroke_moved)
        view.stroke_finished.connect(self._on_stroke_finished)
        view.view_changed.connect(self._on_view_changed)
        self.compare = Compare(view, before_view, settings, lambda: self.document, self)

        self.jobs = JobTracker(service, self)
        for theirs, ours in (
            (self.jobs.job_started, self.job_started),
            (self.jobs.job_progress, self.job_progress),
            (self.jobs.job_ended, self.job_ended),
            (self.jobs.message, self.message),
            (self.jobs.error, self.error),
        ):
            theirs.connect(ours)

    @property
    def _jobs(self) -> dict:
        """The jobs submitted and not yet answered (by id)."""
        return self.jobs.pending

    # -- documents ---------------------------------------------------------------------------
    def open_file(self, path: Path) -> None:
        """Load ``path`` as the new document (raises PhotoFixError with a readable reason)."""
        self._show_opened(Path(path), read_for_window(Path(path)))

    def open_file_in_background(self, path: Path, then: Callable[[], None] | None = None) -> int:
        """Read ``path`` and prepare its display on the service thread (a 48-megapixel TIFF
        takes seconds), then make it the document. Jobs for the current image are cancelled.
        Failures arrive as :attr:`error` with the reason."""
        path = Path(path)
        self.service.cancel_kind("preview")
        self.service.cancel_kind("apply")

        def done(opened: Opened) -> None:
            self._show_opened(path, opened)
            if then is not None:
                then()

        return self._submit(open_job(path), done)

    def _show_opened(self, path: Path, opened: Opened) -> None:
        self.set_document(
            opened.document,
            original_path=path,
            pyramid=opened.pyramid,
            recorded=opened.recorded,
            source_sha256=opened.source_sha256,
        )
        self.open_note = opened.note
        if opened.note:
            self.message.emit(opened.note)

    def set_document(
        self,
        document: Document | None,
        original_path: Path | None = None,
        pyramid: DisplayPyramid | None = None,
        recorded: Sequence[StepRecord] = (),
        source_sha256: str | None = None,
    ) -> None:
        """Show ``document`` (None: close it); ``pyramid`` is its display if already built,
        ``recorded`` the steps its file's record says made it, ``source_sha256`` the hash of
        ``original_path`` when it was read (the input of every record made from it)."""
        # results for the previous image are of no use any more (saves go on: they hold a copy)
        self.service.cancel_kind("preview")
        self.service.cancel_kind("apply")
        self.end_review()
        self.document = document
        self.original_path = original_path if document is not None else None
        self.recorded = list(recorded) if document is not None else []
        self.source_sha256 = source_sha256 if document is not None else None
        self.source_meta = None if document is None else document.meta  # as opened
        self.open_note = ""
        self.compare.forget()
        self.generation += 1
        self.preview.clear()
        if document is None:
            self.pyramid = None
            self.view.image_item.set_pyramid(None)
            self.mask_overlay.set_mask(None)
            self.hint_overlay.set_size(0, 0)
            self.view.set_image_size(0, 0)
        else:
            document.subscribe(self._on_layer_changed)
            document.history.subscribe(self._on_history_changed)
            if pyramid is not None:
                self.pyramid = pyramid
            self._reset_display(rebuild=pyramid is None)
            self.view.fit()
        self.compare.update()
        self.document_changed.emit()
        self._on_history_changed()

    def _reset_display(self, rebuild: bool = True) -> None:
        doc = self.document
        assert doc is not None
        if self.pyramid is None:
            self.pyramid = DisplayPyramid(doc.image)
        elif rebuild:
            self.pyramid.reset(doc.image)
        self.view.image_item.set_pyramid(self.pyramid)
        w, h = doc.size
        self.view.set_image_size(w, h)
        self.before_view.set_image_size(w, h)
        self.mask_overlay.set_mask(doc.mask)
        self.hint_overlay.set_levels(len(self.pyramid.levels))
        self.hint_overlay.set_size(w, h)

    def _hint_layers(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.document is None:
            return None
        return self.document.hints, self.document.hint_mask

    def _on_layer_changed(self, layer: str, box: Box | None) -> None:
        doc = self.document
        if doc is None:
            return
        if layer == "image":
            self.generation += 1
            self.end_review()  # the proposal was made for the image as it was
            self.preview.clear()
            assert self.pyramid is not None
            if box is None or self.pyramid.size != doc.size:
                self._reset_display()
            else:
                self.pyramid.update(doc.image, box)
                self.view.image_item.refresh(box)
            self.schedule_preview()
        elif layer == "mask":
            self.mask_overlay.mask_changed(doc.mask, box)
            self.review.mask_changed(box)  # the regions' ticks follow the mask
            if self.preview.request is not None and self.preview.request.limit_to_mask:
                self.schedule_preview()
        elif layer in ("hints", "hint_mask"):
            self.hint_overlay.invalidate(box)

    def _on_history_changed(self) -> None:
        self.review.history_moved()
        self.history_changed.emit()
        modified = self.document is not None and self.document.modified
        if modified != self._was_modified:
            self._was_modified = modified
            self.modified_changed.emit(modified)
        if self.settings.compare_before == "previous":
            self.compare.update()

    # -- undo --------------------------------------------------------------------------------
    def undo(self) -> None:
        if self.document is not None and not self.stroke_active():
            self.document.undo()

    def redo(self) -> None:
        if self.document is not None and not self.stroke_active():
            self.document.redo()

    def goto(self, index: int) -> None:
        """Jump to the state after ``index`` steps, step by step (repaints only what changed)."""
        doc = self.document
        if doc is None or self.stroke_active():
            return
        while doc.history.index > index and doc.undo() is not None:
            pass
        while doc.history.index < index and doc.redo() is not None:
            pass

    # -- brush strokes (see BrushStrokes) ----------------------------------------------------
    def brush_radius(self) -> float:
        return self.strokes.radius()

    def _on_stroke_started(self, pos: QPointF) -> None:
        self.strokes.start(pos)

    def _on_stroke_moved(self, pos: QPointF) -> None:
        self.strokes.move(pos)

    def _on_stroke_finished(self) -> None:
        self.strokes.finish()

    def stroke_active(self) -> bool:
        return self.strokes.active()

    # -- mask --------------------------------------------------------------------------------
    def edit_mask(self, kind: str, pixels: int = 0) -> None:
        if self.document is not None and not self.stroke_active():
            request = steps.mask_edit_request(kind, pixels)
            op = request.operation()
            result = steps.run_step(request, self.job_layers(op))
            steps.commit(self.document, result)

    def apply_overlay_settings(self) -> None:
        s = self.settings
        self.mask_overlay.set_colour(QColor(s.mask_colour))
        self.mask_overlay.setOpacity(s.overlay_opacity)
        self.mask_overlay.setVisible(s.overlay_visible)
        self.hint_overlay.setOpacity(0.85)
        self.hint_overlay.setVisible(s.overlay_visible)

    def set_overlay_visible(self, visible: bool) -> None:
        self.settings.overlay_visible = visible
        self.apply_overlay_settings()
        self.overlay_shown.emit(visible)

    # -- compare -----------------------------------------------------------------------------
    def set_compare(self, mode: str) -> None:
        self.compare.set_mode(mode)

    def set_compare_before(self, which: str) -> None:
        self.compare.set_before(which)

    def before_image(self) -> np.ndarray | None:
        """The "before" image: the original file, or the image before the last image step."""
        return self.compare.before_image()

    def shutdown(self) -> None:
        """The window is closing: stop reacting to the views and drop pending previews."""
        if self._shut_down:
            return
        self._shut_down = True
        self.preview.shutdown()
        self.view.view_changed.disconnect(self._on_view_changed)
        self.compare.shutdown()

    # -- operations --------------------------------------------------------------------------
    def job_layers(self, op: Operation, *, crop: Box | None = None) -> Layers:
        """What ``op`` reads from the document (see :func:`photofix.ops.steps.layers_of`)."""
        assert self.document is not None
        return steps.layers_of(self.document, op, crop=crop)

    def device_policy(self) -> DevicePolicy:
        return DevicePolicy(self.settings.device, half_precision=not self.settings.exact)

    def apply_operation(self, request: PreviewRequest) -> int | None:
        """Run the operation on the whole image in the background; its result becomes one
        undoable step. An operation with a ``review`` (remove-defects) only proposes its mask
        here, as a step of its own: the user checks and edits it, then :meth:`accept_review`
        fills it. Returns the job id (None when refused, with :attr:`error` emitted)."""
        doc = self.document
        if doc is None:
            return None
        op = request.op
        try:
            params = op.resolve(request.params)
            if request.limit_to_mask and not doc.mask.any():
                raise OperationError("the mask is empty: paint the area to change first")
        except OperationError as exc:
            self.error.emit(f"Cannot apply {op.title}", f"{op.title}: {exc}")
            return None
        if op.review is None:
            return self._run_apply(request, op, params)
        # first half only: the mask to fill, recorded as the engine's "<op>.propose" step (a
        # detection that replays as detection) with the parameters that made it
        proposal = steps.proposal_operation(op)
        own = {p.name: params[p.name] for p in proposal.params if p.name in params}
        self.end_review()
        return self._run_apply(
            request, proposal, own, then=lambda r: self.review.start(op, params, r.attachments)
        )

    def _run_apply(
        self,
        request: PreviewRequest,
        op: Operation,
        params: dict[str, Any],
        then: Callable[[StepResult], None] | None = None,
    ) -> int:
        """Submit ``op`` on the whole image; its result is committed as one step, then
        ``then(result)`` runs. ``request`` gives the blend, and is what a model download
        applies again."""
        doc = self.document
        assert doc is not None
        self.service.cancel_kind("preview")
        step = request.step(op, params)
        layers = self.job_layers(op)
        device = self.device_policy()

        def run(ctx: JobContext) -> StepResult | _MissingModel:
            try:
                return steps.run_step(step, layers, OpContext(ctx.progress, device))
            except ModelMissing as exc:
                if exc.model_id is None:
                    raise
                return _MissingModel(exc.model_id, str(exc))

        generation = self.generation

        def done(result: StepResult | _MissingModel) -> None:
            if isinstance(result, _MissingModel):  # offer the download, then apply again
                self.model_missing.emit(result.model_id, result.message, request)
                return
            if self.stroke_active():  # a document step cannot start inside a brush stroke
                self.strokes.defer(lambda: done(result))
                return
            if self.document is not doc or self.generation != generation:
                self.error.emit(
                    f"{op.title} not applied",
                    f"The image changed while {op.title} was running, so its result was not "
                    "applied. Apply it again.",
                )
                return
            # what is on screen now is the result: no preview of applying it a second time
            self.preview.pause()
            if steps.commit(doc, result) is None:
                self.message.emit(f"{op.title} changed nothing.")
            else:
                summary = describe_params(steps.history_params(result))
                self.message.emit(f"Applied {op.title}" + (f" ({summary})" if summary else ""))
            if then is not None:
                then(result)

        return self._submit(Job(op.title, run, kind="apply"), done)

    # -- checking a proposed mask (operations with a review) ---------------------------------
    def reviewing(self) -> bool:
        """Whether a proposed mask waits for the user to accept it."""
        return self.review.pending is not None

    def accept_review(self) -> int | None:
        """Fill the proposed mask as the user left it (see :meth:`MaskReview.accept`)."""
        return self.review.accept()

    def dismiss_review(self) -> None:
        """Leave the proposed mask unfilled (it stays; Undo removes it)."""
        self.review.dismiss()

    def end_review(self) -> None:
        self.review.end()

    def install_model(self, model_id: str, then: PreviewRequest | None = None) -> int:
        """Download and verify a model in the background (progress, cancel, resume); when it
        is installed, apply ``then``. Failures (offline, checksum) reach :attr:`error`."""
        from photofix.models import get_model

        spec = get_model(model_id)

        def run(ctx: JobContext) -> None:
            from photofix.models.download import install

            install(spec, ctx.progress)

        def done(_: None) -> None:
            self.message.emit(f"Installed {spec.title}.")
            if then is not None:
                self.apply_operation(then)

        return self._submit(Job(f"Downloading {spec.title}", run, kind="apply"), done)

    def _submit(
        self,
        job: Job,
        on_done: Callable[[Any], None],
        on_failed: Callable[[str], None] | None = None,
    ) -> int:
        return self.jobs.submit(job, on_done, self.generation, on_failed)

    # -- live preview ------------------------------------------------------------------------
    def set_preview_request(self, request: PreviewRequest | None) -> None:
        """What to preview (None: no preview); the preview follows after a short pause."""
        self.preview.set_request(request)

    def schedule_preview(self) -> None:
        self.preview.schedule()

    def _on_view_changed(self) -> None:
        if not self._shut_down:
            self.preview.on_view_changed()

    def preview_box(self) -> Box | None:
        """The part of the image the preview covers (see :meth:`LivePreview.box`)."""
        return self.preview.box()

    def has_preview(self) -> bool:
        return self.preview.shown()

    def recipe(self) -> Recipe | None:
        """The steps that made the image from its source scan, as a recipe: those recorded
        in the opened file, then this session's journal (None without a document)."""
        if self.document is None:
            return None
        return Recipe.from_records([*self.recorded, *self.document.journal], __version__)

    # -- saving ------------------------------------------------------------------------------
    def save(
        self,
        path: Path,
        *,
        format: str | None = None,
        bit_depth: int | None = None,
        quality: int = 95,
        overwrite_original: bool = False,
        as_copy: bool = False,
        then: Callable[[], None] | None = None,
    ) -> int | None:
        """Write the image in the background (atomically). ``as_copy`` (Export) leaves the
        document's file name and saved state alone. The original file is refused unless
        ``overwrite_original``."""
        doc = self.document
        if doc is None:
            return None
        protect = [] if overwrite_original or self.original_path is None else [self.original_path]
        index = doc.history.index
        job = save_job(
            doc,
            path,
            format=format,
            bit_depth=bit_depth,
            quality=quality,
            protect=protect,
            as_copy=as_copy,
            record=RecordInfo(
                self.original_path,
                self.source_sha256,
                self.source_meta,
                self.settings.operator,
                self.settings.exact,
            ),
        )

        def done(saved: Path) -> None:
            if self.document is doc and not as_copy:
                doc.path = Path(saved)
                doc.saved_index = index
                self._on_history_changed()
            record = provenance.sidecar_path(saved).name
            self.message.emit(f"Saved {Path(saved).name}; how it was made is in {record}")
            if then is not None:
                then()

        return self._submit(job, done)

    # -- device and jobs ---------------------------------------------------------------------
    def _on_probe_failed(self, text: str) -> None:
        self.device_resolved.emit("unavailable")
        self.message.emit(text)

    def probe_device(self) -> None:
        """Find the compute device on the service thread (torch loads there, not here) and
        report it with :attr:`device_resolved`."""
        policy = self.device_policy()

        def run(ctx: JobContext) -> str:
            return policy.resolve().name

        def done(name: str) -> None:
            self.device_resolved.emit(name)

        self._submit(
            Job("Checking the compute device", run, kind="probe"), done, self._on_probe_failed
        )

    def clear_model_cache(self) -> None:
        """Forget loaded models (after the device changed); done on the service thread."""

        def run(ctx: JobContext) -> None:
            from photofix.inference.runner import unload_models

            unload_models()

        self._submit(
            Job("Unloading models", run, kind="probe"), lambda _: None, self._on_probe_failed
        )

    def cancel_jobs(self) -> None:
        """Cancel the running and queued jobs (Cancel button, Esc)."""
        self.jobs.cancel_all()

    def busy(self) -> bool:
        """Whether a job the user started (not a preview) is queued or running."""
        return self.jobs.busy()

    def running_title(self) -> str:
        return self.jobs.running_title()
