"""WorkspaceController: turns the canvas's intents into document edits and background jobs.

It owns the open :class:`~photofix.core.document.Document`, keeps the display (pyramids,
overlays, compare layer, preview) in step with it by dirty box, and talks to the
:class:`~photofix.inference.service.InferenceService`: operations, live previews and saves run
there, and their results come back as one undoable step. Dialogs belong to the main window;
the controller reports problems through :attr:`error` and notes through :attr:`message`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import QApplication

from photofix.core import imageio
from photofix.core.document import Document
from photofix.core.errors import ModelMissing, OperationError
from photofix.core.history import Box
from photofix.inference.device import DevicePolicy
from photofix.inference.service import InferenceService, Job, JobContext, readable_error
from photofix.ops.registry import Layers, OpContext, Operation, run_operation
from photofix.ui.canvas_items import HintOverlayItem, MaskOverlayItem
from photofix.ui.commands import ApplyResultCommand, MaskEditCommand, describe_params
from photofix.ui.display import DisplayPyramid
from photofix.ui.image_view import ImageView
from photofix.ui.qimage import qimage_from_rgb
from photofix.ui.settings import Settings

PREVIEW_DELAY_MS = 350
MAX_PREVIEW_SIDE = 1600
"""The live preview runs on at most this many pixels on a side, around the view's centre."""


@dataclass
class PreviewRequest:
    """What the operations panel would apply now."""

    op: Operation
    params: dict[str, Any]
    strength: float = 1.0
    limit_to_mask: bool = False
    feather: float = 0.0


SILENT_KINDS = ("preview", "probe")
"""Jobs that show no progress bar and are not "a job running" for the close prompt."""


@dataclass
class _PendingJob:
    kind: str  # apply | preview | save
    title: str
    on_done: Callable[[Any], None]
    generation: int


@dataclass
class _Review:
    """A proposed mask waiting for the user (an operation with a ``review``)."""

    op: Operation
    params: dict[str, Any]
    index: int  # the history position of the proposal; undoing past it ends the review


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
        self.pyramid: DisplayPyramid | None = None
        self._before: DisplayPyramid | None = None
        self._before_key: tuple | None = None
        self._generation = 0  # bumped on every change of the image layer
        self._stroke_last: QPointF | None = None
        self._stroke_erase = False
        self._jobs: dict[int, _PendingJob] = {}
        self._preview_request: PreviewRequest | None = None
        self._preview_job: int | None = None
        self._preview_paused = False  # after Apply, until the panel's request changes
        self._was_modified = False
        self._after_stroke: list[Callable[[], None]] = []  # results that arrived mid-stroke
        self._review: _Review | None = None

        self.mask_overlay = MaskOverlayItem()
        self.hint_overlay = HintOverlayItem(self._hint_layers)
        view.add_overlay(self.hint_overlay, 2)
        view.add_overlay(self.mask_overlay, 3)
        self.apply_overlay_settings()

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._on_preview_due)

        view.stroke_started.connect(self._on_stroke_started)
        view.stroke_moved.connect(self._on_stroke_moved)
        view.stroke_finished.connect(self._on_stroke_finished)
        view.view_changed.connect(self._on_view_changed)
        view.before_held.connect(self._on_before_held)
        view.view_changed.connect(self._sync_side_view)
        before_view.view_changed.connect(self._sync_main_view)

        service.started.connect(self._on_job_started)
        service.progress.connect(self._on_job_progress)
        service.finished.connect(self._on_job_finished)
        service.failed.connect(self._on_job_failed)
        service.cancelled.connect(self._on_job_cancelled)
        service.notice.connect(self._on_job_notice)

    # -- documents ---------------------------------------------------------------------------
    def open_file(self, path: Path) -> None:
        """Load ``path`` as the new document (raises PhotoFixError with a readable reason)."""
        loaded = imageio.load_image(path)
        self.set_document(Document.from_loaded(loaded), original_path=Path(path))

    def open_file_in_background(self, path: Path, then: Callable[[], None] | None = None) -> int:
        """Read ``path`` and prepare its display on the service thread (a 48-megapixel TIFF
        takes seconds), then make it the document. Jobs for the current image are cancelled.
        Failures arrive as :attr:`error` with the reason."""
        path = Path(path)
        self.service.cancel_kind("preview")
        self.service.cancel_kind("apply")

        def run(ctx: JobContext) -> tuple[Document, DisplayPyramid]:
            ctx.progress.update(0.0, f"Reading {path.name}")
            document = Document.from_loaded(imageio.load_image(path))
            ctx.progress.check()
            ctx.progress.update(0.7, "Preparing the display")
            return document, DisplayPyramid(document.image)

        def done(result: tuple[Document, DisplayPyramid]) -> None:
            document, pyramid = result
            self.set_document(document, original_path=path, pyramid=pyramid)
            if then is not None:
                then()

        return self._submit(Job(f"Opening {path.name}", run, kind="open"), done)

    def set_document(
        self,
        document: Document | None,
        original_path: Path | None = None,
        pyramid: DisplayPyramid | None = None,
    ) -> None:
        """Show ``document`` (None: close it); ``pyramid`` is its display if already built."""
        # results for the previous image are of no use any more (saves go on: they hold a copy)
        self.service.cancel_kind("preview")
        self.service.cancel_kind("apply")
        self.end_review()
        self.document = document
        self.original_path = original_path if document is not None else None
        self._before = None
        self._before_key = None
        self._generation += 1
        self._clear_preview()
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
        self._update_before()
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
            self._generation += 1
            self.end_review()  # the proposal was made for the image as it was
            self._clear_preview()
            assert self.pyramid is not None
            if box is None or self.pyramid.size != doc.size:
                self._reset_display()
            else:
                self.pyramid.update(doc.image, box)
                self.view.image_item.refresh(box)
            self.schedule_preview()
        elif layer == "mask":
            self.mask_overlay.mask_changed(doc.mask, box)
            if self._preview_request is not None and self._preview_request.limit_to_mask:
                self.schedule_preview()
        elif layer in ("hints", "hint_mask"):
            self.hint_overlay.invalidate(box)

    def _on_history_changed(self) -> None:
        review = self._review
        if review is not None and (
            self.document is None or self.document.history.index < review.index
        ):
            self.end_review()  # the proposal was undone
        self.history_changed.emit()
        modified = self.document is not None and self.document.modified
        if modified != self._was_modified:
            self._was_modified = modified
            self.modified_changed.emit(modified)
        if self.settings.compare_before == "previous":
            self._update_before()

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

    # -- brush strokes -----------------------------------------------------------------------
    def brush_radius(self) -> float:
        return max(0.5, self.settings.brush_size / 2.0)

    def _on_stroke_started(self, pos: QPointF) -> None:
        doc = self.document
        if doc is None or self.stroke_active():
            return
        tool = self.view.tool
        alt = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.AltModifier)
        self._stroke_erase = (tool == "eraser") != alt
        if tool == "hint":
            colour = QColor(self.settings.hint_colour)
            rgb = (colour.redF(), colour.greenF(), colour.blueF())
            doc.begin_stroke("hint_mask", hint_colour=rgb)
        else:
            doc.begin_stroke("mask")
            if not self.settings.overlay_visible:
                self.set_overlay_visible(True)  # painting blind helps nobody
        self._stroke_last = pos
        doc.stroke_to([(pos.x(), pos.y())], self.brush_radius(), erase=self._stroke_erase)

    def _on_stroke_moved(self, pos: QPointF) -> None:
        doc, last = self.document, self._stroke_last
        if doc is None or last is None:
            return
        points = [(last.x(), last.y()), (pos.x(), pos.y())]
        doc.stroke_to(points, self.brush_radius(), erase=self._stroke_erase)
        self._stroke_last = pos

    def _on_stroke_finished(self) -> None:
        doc = self.document
        if doc is None or self._stroke_last is None:
            return
        self._stroke_last = None
        doc.end_stroke()
        pending, self._after_stroke = self._after_stroke, []
        for commit in pending:
            commit()

    def stroke_active(self) -> bool:
        return self._stroke_last is not None

    # -- mask --------------------------------------------------------------------------------
    def edit_mask(self, kind: str, pixels: int = 0) -> None:
        if self.document is not None and not self.stroke_active():
            MaskEditCommand(kind, pixels).execute(self.document)

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
        self.settings.compare_mode = mode
        self.view.set_compare(mode)
        self.before_view.setVisible(mode == "side")
        self._update_before()
        if mode == "side":
            QTimer.singleShot(0, self._sync_side_view)

    def set_compare_before(self, which: str) -> None:
        self.settings.compare_before = which
        self._update_before()

    def _on_before_held(self, held: bool) -> None:
        if held:
            self._update_before(force=True)

    def _before_wanted(self) -> bool:
        return self.settings.compare_mode != "off" or self.view.before_is_held

    def before_image(self) -> np.ndarray | None:
        """The "before" image: the original file, or the image before the last image step."""
        doc = self.document
        if doc is None:
            return None
        if self.settings.compare_before != "previous":
            return doc.original
        for step in reversed(doc.history.done_steps()):
            patches = [p for p in step.patches if p.layer == "image"]
            if not patches:
                continue
            image = doc.image.copy()
            for patch in reversed(patches):
                if patch.box is None:
                    return patch.old
                y0, x0, y1, x1 = patch.box
                image[y0:y1, x0:x1] = patch.old
            return image
        return doc.image

    def _update_before(self, force: bool = False) -> None:
        doc = self.document
        if doc is None:
            self.view.before_item.set_pyramid(None)
            self.before_view.image_item.set_pyramid(None)
            return
        if not (force or self._before_wanted()):
            return
        which = self.settings.compare_before
        key = (id(doc), which, doc.history.index if which == "previous" else 0)
        if key != self._before_key:
            image = self.before_image()
            assert image is not None
            self._before = DisplayPyramid(image)
            self._before_key = key
        assert self._before is not None
        bw, bh = self._before.size
        w, h = doc.size
        # after a resize the original has another size: stretch it over the current image
        stretch = QTransform.fromScale(w / bw, h / bh)
        for item in (self.view.before_item, self.before_view.image_item):
            item.set_pyramid(self._before)
            item.setTransform(stretch)

    _syncing = False

    def shutdown(self) -> None:
        """The window is closing: stop reacting to the views and drop pending previews."""
        if self._shut_down:
            return
        self._shut_down = True
        self._preview_timer.stop()
        self._preview_request = None
        for signal, slot in (
            (self.view.view_changed, self._on_view_changed),
            (self.view.view_changed, self._sync_side_view),
            (self.before_view.view_changed, self._sync_main_view),
        ):
            signal.disconnect(slot)

    def _sync_side_view(self) -> None:
        if self._syncing or not self.before_view.isVisible():
            return
        self._syncing = True
        try:
            self.before_view.follow(self.view)
        finally:
            self._syncing = False

    def _sync_main_view(self) -> None:
        if self._syncing or not self.before_view.isVisible():
            return
        self._syncing = True
        try:
            self.view.follow(self.before_view)
        finally:
            self._syncing = False

    # -- status information ------------------------------------------------------------------
    def pixel_info(self, pos: QPointF) -> tuple[int, int, tuple[int, ...]] | None:
        """(x, y, channel values at the source bit depth) under ``pos``, or None outside."""
        doc = self.document
        if doc is None:
            return None
        x, y = math.floor(pos.x()), math.floor(pos.y())
        w, h = doc.size
        if not (0 <= x < w and 0 <= y < h):
            return None
        full = 65535 if doc.meta is not None and doc.meta.bit_depth >= 16 else 255
        rgb = tuple(round(float(v) * full) for v in doc.image[y, x])
        return x, y, rgb

    # -- operations --------------------------------------------------------------------------
    def _job_layers(self, op: Operation, *, crop: Box | None = None) -> Layers:
        doc = self.document
        assert doc is not None
        sl = (
            (slice(None), slice(None))
            if crop is None
            else np.s_[crop[0] : crop[2], crop[1] : crop[3]]
        )
        image = doc.image[sl]
        # the image is not copied for a whole-image job: it only changes through commits on
        # this thread, and a result computed while it changed is refused (generation check)
        if crop is not None:
            image = image.copy()
        alpha = None if doc.alpha is None else doc.alpha[sl].copy()
        hints = hint_mask = None
        if doc.hint_mask.any():
            hints, hint_mask = doc.hints[sl].copy(), doc.hint_mask[sl].copy()
        elif {"hints", "hint_mask"} & set(op.writes):  # e.g. resize: empty layers to resize
            h, w = image.shape[:2]
            hints, hint_mask = np.zeros((h, w, 3), np.float32), np.zeros((h, w), bool)
        return Layers(
            image=image,
            alpha=alpha,
            mask=doc.mask[sl].copy(),
            hints=hints,
            hint_mask=hint_mask,
            meta=doc.meta,
            source=doc.path,
        )

    def _device(self) -> DevicePolicy:
        return DevicePolicy(self.settings.device)

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
        # first half only: the mask to fill, recorded with the parameters that made it
        fill_params = {p.name for p in op.review.fill.params}
        proposal = replace(
            op,
            title=f"{op.title}: mask to check",
            params=tuple(p for p in op.params if p.name not in fill_params),
            run=op.review.propose,
            writes=("mask",),
            review=None,
        )
        own = {k: v for k, v in params.items() if k not in fill_params}
        self.end_review()
        return self._run_apply(request, proposal, own, then=lambda: self._start_review(op, params))

    def _run_apply(
        self,
        request: PreviewRequest,
        op: Operation,
        params: dict[str, Any],
        then: Callable[[], None] | None = None,
    ) -> int:
        """Submit ``op`` on the whole image; its result is committed as one step, then
        ``then`` runs. ``request`` gives the blend, and is what a model download applies again."""
        doc = self.document
        assert doc is not None
        self.service.cancel_kind("preview")
        layers = self._job_layers(op)
        device = self._device()
        blend = dict(strength=request.strength, limit_to_mask=request.limit_to_mask)
        blend["feather"] = request.feather

        def run(ctx: JobContext) -> Layers | _MissingModel:
            try:
                return run_operation(op, layers, params, OpContext(ctx.progress, device), **blend)
            except ModelMissing as exc:
                if exc.model_id is None:
                    raise
                return _MissingModel(exc.model_id, str(exc))

        extra: dict[str, Any] = {}
        if op.blendable and request.strength != 1.0:
            extra["strength"] = request.strength
        if op.blendable and request.limit_to_mask:
            extra.update(mask="limit", feather=request.feather)
        generation = self._generation

        def done(result: Layers | _MissingModel) -> None:
            if isinstance(result, _MissingModel):  # offer the download, then apply again
                self.model_missing.emit(result.model_id, result.message, request)
                return
            if self.stroke_active():  # a document step cannot start inside a brush stroke
                self._after_stroke.append(lambda: done(result))
                return
            if self.document is not doc or self._generation != generation:
                self.error.emit(
                    f"{op.title} not applied",
                    f"The image changed while {op.title} was running, so its result was not "
                    "applied. Apply it again.",
                )
                return
            # what is on screen now is the result: no preview of applying it a second time
            self._preview_paused = True
            self._preview_timer.stop()
            self.service.cancel_kind("preview")
            self._clear_preview()
            self.preview_changed.emit(False)
            step = ApplyResultCommand(op, params, result, extra).execute(doc)
            if step is None:
                self.message.emit(f"{op.title} changed nothing.")
            else:
                summary = describe_params({**params, **extra})
                self.message.emit(f"Applied {op.title}" + (f" ({summary})" if summary else ""))
            if then is not None:
                then()

        return self._submit(Job(op.title, run, kind="apply"), done)

    # -- checking a proposed mask (operations with a review) ---------------------------------
    def _start_review(self, op: Operation, params: dict[str, Any]) -> None:
        doc = self.document
        assert doc is not None and op.review is not None
        if not doc.mask.any():
            self.message.emit(f"{op.title}: nothing was found; the image is unchanged.")
            return
        self._review = _Review(op, params, doc.history.index)
        if not self.settings.overlay_visible:
            self.set_overlay_visible(True)  # the mask is what the user has to look at
        self.review_changed.emit(
            f"The overlay shows what {op.title} will fill. Paint what it missed with the mask "
            "brush (B), erase what is not damage (E), then fill it."
        )
        self.message.emit("Check the mask, then Accept and Fill (Operations panel).")

    def reviewing(self) -> bool:
        """Whether a proposed mask waits for the user to accept it."""
        return self._review is not None

    def accept_review(self) -> int | None:
        """Fill the proposed mask as the user left it: the reviewed operation's second half,
        one more undoable step. Returns the job id (None when refused)."""
        review, doc = self._review, self.document
        if review is None or doc is None:
            return None
        assert review.op.review is not None
        fill = review.op.review.fill
        if not doc.mask.any():
            self.error.emit(
                f"Cannot apply {fill.title}",
                f"The mask is empty: paint the damage to fill, or apply {review.op.title} again.",
            )
            return None
        params = {p.name: review.params[p.name] for p in fill.params if p.name in review.params}
        job = self.apply_operation(PreviewRequest(fill, params))
        if job is not None:
            self.end_review()
        return job

    def dismiss_review(self) -> None:
        """Leave the proposed mask unfilled (it stays; Undo removes it)."""
        if self._review is not None:
            self.end_review()
            self.message.emit("The mask is kept unfilled; Undo removes it.")

    def end_review(self) -> None:
        if self._review is not None:
            self._review = None
            self.review_changed.emit("")

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

    def _submit(self, job: Job, on_done: Callable[[Any], None]) -> int:
        # the service's signals reach this thread through its event loop, so registering
        # right after submit() is early enough even when the job starts at once
        job_id = self.service.submit(job)
        self._jobs[job_id] = _PendingJob(job.kind, job.title, on_done, self._generation)
        return job_id

    # -- live preview ------------------------------------------------------------------------
    def set_preview_request(self, request: PreviewRequest | None) -> None:
        """What to preview (None: no preview); the preview follows after a short pause."""
        self._preview_request = request
        self._preview_paused = False
        if request is None or not self._previewable(request.op):
            self._preview_timer.stop()
            self.service.cancel_kind("preview")
            self._clear_preview()
            self.preview_changed.emit(False)
            return
        self.schedule_preview()

    @staticmethod
    def _previewable(op: Operation) -> bool:
        return op.writes == ("image",)

    def schedule_preview(self) -> None:
        if self._preview_request and self.document is not None and not self._preview_paused:
            self._preview_timer.start()

    def _on_view_changed(self) -> None:
        if self._preview_request is None or self._shut_down:
            return
        rect = self.view.image_item.preview_rect()
        if rect is None or not rect.contains(self.view.visible_image_rect()):
            self.schedule_preview()

    def preview_box(self) -> Box | None:
        """The part of the image the preview covers: the visible area, at most
        MAX_PREVIEW_SIDE on a side around the view's centre."""
        doc = self.document
        if doc is None:
            return None
        visible = self.view.visible_image_rect()
        if visible.isEmpty():
            return None
        c = visible.center()
        half_w = min(visible.width(), MAX_PREVIEW_SIDE) / 2
        half_h = min(visible.height(), MAX_PREVIEW_SIDE) / 2
        w, h = doc.size
        x0, y0 = max(0, math.floor(c.x() - half_w)), max(0, math.floor(c.y() - half_h))
        x1, y1 = min(w, math.ceil(c.x() + half_w)), min(h, math.ceil(c.y() + half_h))
        if x1 <= x0 or y1 <= y0:
            return None
        return y0, x0, y1, x1

    def _on_preview_due(self) -> None:
        request, doc = self._preview_request, self.document
        if request is None or doc is None:
            return
        box = self.preview_box()
        if box is None:
            return
        op = request.op
        try:
            params = op.resolve(request.params)
        except OperationError as exc:
            self.message.emit(f"No preview: {exc}")
            return
        self.service.cancel_kind("preview")
        if request.limit_to_mask and not doc.mask.any():
            self._clear_preview()
            self.message.emit("Preview: the mask is empty; paint the area to change.")
            return
        layers = self._job_layers(op, crop=box)
        device = self._device()
        if request.limit_to_mask and not layers.mask.any():  # type: ignore[union-attr]
            self._clear_preview()
            return

        def run(ctx: JobContext) -> np.ndarray:
            result = run_operation(
                op,
                layers,
                params,
                OpContext(ctx.progress, device),
                strength=request.strength,
                limit_to_mask=request.limit_to_mask,
                feather=request.feather,
            )
            return result.image

        generation = self._generation

        def done(image: np.ndarray) -> None:
            if self.document is not doc or generation != self._generation:
                return
            if image.shape != layers.image.shape:
                return
            y0, x0, y1, x1 = box
            qimage = qimage_from_rgb(image)
            self.view.preview_label = f"Preview of {op.title}, not applied yet"
            self.view.image_item.set_preview(qimage, QRectF(x0, y0, x1 - x0, y1 - y0))
            self.view.viewport().update()
            self.preview_changed.emit(True)

        self._preview_job = self._submit(Job(f"Preview {op.title}", run, kind="preview"), done)

    def _clear_preview(self) -> None:
        if self.view.image_item.preview_rect() is not None:
            self.view.image_item.set_preview(None)
            self.view.viewport().update()  # and its "not applied yet" tag

    def has_preview(self) -> bool:
        return self.view.image_item.preview_rect() is not None

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
        image = doc.image.copy()
        alpha = None if doc.alpha is None else doc.alpha.copy()
        protect = [] if overwrite_original or self.original_path is None else [self.original_path]
        meta, index = doc.meta, doc.history.index

        def run(ctx: JobContext) -> Path:
            ctx.progress.update(0.0, f"Saving {path.name}")
            return imageio.save_image(
                path,
                image,
                alpha=alpha,
                meta=meta,
                format=format,
                bit_depth=bit_depth,
                quality=quality,
                protect=protect,
            )

        def done(saved: Path) -> None:
            if self.document is doc and not as_copy:
                doc.path = Path(saved)
                doc.saved_index = index
                self._on_history_changed()
            self.message.emit(f"Saved {Path(saved).name}")
            if then is not None:
                then()

        title = f"{'Exporting' if as_copy else 'Saving'} {path.name}"
        return self._submit(Job(title, run, kind="save"), done)

    # -- service signals ---------------------------------------------------------------------
    def _on_job_started(self, job_id: int, title: str) -> None:
        pending = self._jobs.get(job_id)
        if pending is not None and pending.kind not in SILENT_KINDS:
            self.job_started.emit(job_id, title)

    def _on_job_progress(self, job_id: int, fraction: float, eta: object, text: str) -> None:
        pending = self._jobs.get(job_id)
        if pending is not None and pending.kind not in SILENT_KINDS:
            self.job_progress.emit(job_id, fraction, eta, text)

    def _on_job_finished(self, job_id: int, result: object) -> None:
        pending = self._jobs.pop(job_id, None)
        if pending is None:
            return
        try:
            pending.on_done(result)
        except Exception as exc:  # e.g. an operation returned layers of the wrong size
            self.error.emit(f"{pending.title} failed", readable_error(pending.title, exc))
        if pending.kind not in SILENT_KINDS:
            self.job_ended.emit(job_id, "finished", "")

    def _on_job_failed(self, job_id: int, text: str) -> None:
        pending = self._jobs.pop(job_id, None)
        if pending is None:
            return
        if pending.kind == "preview":
            self.message.emit(f"No preview: {text}")
            return
        if pending.kind == "probe":
            self.device_resolved.emit("unavailable")
            self.message.emit(text)
            return
        self.job_ended.emit(job_id, "failed", text)
        self.error.emit(f"{pending.title} failed", text)

    def _on_job_cancelled(self, job_id: int) -> None:
        pending = self._jobs.pop(job_id, None)
        if pending is not None and pending.kind not in SILENT_KINDS:
            self.job_ended.emit(job_id, "cancelled", "")
            self.message.emit(f"{pending.title} cancelled; the image is unchanged.")

    def _on_job_notice(self, job_id: int, text: str) -> None:
        self.message.emit(text)

    def probe_device(self) -> None:
        """Find the compute device on the service thread (torch loads there, not here) and
        report it with :attr:`device_resolved`."""
        policy = self._device()

        def run(ctx: JobContext) -> str:
            return policy.resolve().name

        def done(name: str) -> None:
            self.device_resolved.emit(name)

        self._submit(Job("Checking the compute device", run, kind="probe"), done)

    def clear_model_cache(self) -> None:
        """Forget loaded models (after the device changed); done on the service thread."""

        def run(ctx: JobContext) -> None:
            from photofix.inference.runner import unload_models

            unload_models()

        self._submit(Job("Unloading models", run, kind="probe"), lambda _: None)

    def cancel_jobs(self) -> None:
        """Cancel the running and queued jobs (Cancel button, Esc)."""
        self.service.cancel_all()

    def busy(self) -> bool:
        """Whether a job the user started (not a preview) is queued or running."""
        return any(p.kind not in SILENT_KINDS for p in self._jobs.values())

    def running_title(self) -> str:
        titles = [p.title for p in self._jobs.values() if p.kind not in SILENT_KINDS]
        return titles[0] if titles else ""
