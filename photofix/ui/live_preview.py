"""LivePreview: what the operations panel would do, shown on the visible part of the image.

A short pause after the last change of the request (or of the view, when it leaves the
previewed area), the operation runs on at most :data:`MAX_PREVIEW_SIDE` pixels a side around
the view's centre, as a silent job. Its result is drawn over the image, tagged "not applied
yet"; nothing is committed. A result for an image that has changed since is dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QRectF, QTimer

from photofix.core.errors import OperationError
from photofix.core.history import Box
from photofix.core.recipe import Blend
from photofix.inference.service import Job, JobContext
from photofix.ops.registry import OpContext, Operation
from photofix.ops.steps import StepRequest, run_step
from photofix.ui.qimage import qimage_from_rgb

if TYPE_CHECKING:
    from photofix.ui.controller import WorkspaceController

PREVIEW_DELAY_MS = 350
MAX_PREVIEW_SIDE = 1600
"""The live preview runs on at most this many pixels on a side, around the view's centre."""


@dataclass
class PreviewRequest:
    """What the operations panel would apply now (the user's intent; :meth:`step` is the
    step engine's request for it)."""

    op: Operation
    params: dict[str, Any]
    strength: float = 1.0
    limit_to_mask: bool = False
    feather: float = 0.0

    def blend(self, op: Operation | None = None) -> Blend:
        """The blend to run ``op`` (default: this request's operation) with: none for an
        operation that cannot be blended, the feather only with the mask limit."""
        if not (op or self.op).blendable:
            return Blend()
        feather = self.feather if self.limit_to_mask else 0.0
        return Blend(self.strength, self.limit_to_mask, feather)

    def step(
        self, op: Operation | None = None, params: Mapping[str, Any] | None = None
    ) -> StepRequest:
        """The step request that runs this intent (``op`` and ``params`` replace the request's,
        e.g. for the proposal half of an operation with a review)."""
        op = op or self.op
        return StepRequest(op, dict(self.params if params is None else params), self.blend(op))


def previewable(op: Operation) -> bool:
    """Only operations that change the image alone are previewed (not resize, not masks)."""
    return op.writes == ("image",)


class LivePreview(QObject):
    """The preview of the workspace's current request (see the module's docstring)."""

    def __init__(self, workspace: WorkspaceController) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.view = workspace.view
        self.request: PreviewRequest | None = None
        self.job: int | None = None
        self.paused = False  # after Apply, until the panel's request changes
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PREVIEW_DELAY_MS)
        self.timer.timeout.connect(self._on_due)

    def set_request(self, request: PreviewRequest | None) -> None:
        self.request = request
        self.paused = False
        if request is None or not previewable(request.op):
            self.stop()
            return
        self.schedule()

    def stop(self) -> None:
        """No preview now: the pending one is dropped and the shown one cleared."""
        self.timer.stop()
        self.workspace.service.cancel_kind("preview")
        self.clear()
        self.workspace.preview_changed.emit(False)

    def pause(self) -> None:
        """An Apply committed: what is on screen is the result, so no preview of applying
        it a second time until the request changes."""
        self.paused = True
        self.stop()

    def shutdown(self) -> None:
        self.timer.stop()
        self.request = None

    def schedule(self) -> None:
        if self.request and self.workspace.document is not None and not self.paused:
            self.timer.start()

    def on_view_changed(self) -> None:
        if self.request is None:
            return
        rect = self.view.image_item.preview_rect()
        if rect is None or not rect.contains(self.view.visible_image_rect()):
            self.schedule()

    def box(self) -> Box | None:
        """The part of the image the preview covers: the visible area, at most
        MAX_PREVIEW_SIDE on a side around the view's centre."""
        doc = self.workspace.document
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

    def _on_due(self) -> None:
        ws = self.workspace
        request, doc = self.request, ws.document
        if request is None or doc is None:
            return
        box = self.box()
        if box is None:
            return
        op = request.op
        try:
            params = op.resolve(request.params)
        except OperationError as exc:
            ws.message.emit(f"No preview: {exc}")
            return
        ws.service.cancel_kind("preview")
        if request.limit_to_mask and not doc.mask.any():
            self.clear()
            ws.message.emit("Preview: the mask is empty; paint the area to change.")
            return
        y0, x0, y1, x1 = box
        # an operation that fits the whole picture runs on all of it; the visible part is shown
        whole = op.preview_whole
        layers = ws.job_layers(op, crop=None if whole else box)
        device = ws.device_policy()
        visible = layers.mask[y0:y1, x0:x1] if whole else layers.mask  # type: ignore[index]
        if request.limit_to_mask and not visible.any():
            self.clear()
            return

        step = request.step(op, params)

        def run(ctx: JobContext) -> np.ndarray:
            out = run_step(step, layers, OpContext(ctx.progress, device)).layers.image
            return out[y0:y1, x0:x1] if whole else out

        generation = ws.generation

        def done(image: np.ndarray) -> None:
            if ws.document is not doc or generation != ws.generation:
                return
            if image.shape[:2] != (y1 - y0, x1 - x0):
                return
            qimage = qimage_from_rgb(image)
            self.view.preview_label = f"Preview of {op.title}, not applied yet"
            self.view.image_item.set_preview(qimage, QRectF(x0, y0, x1 - x0, y1 - y0))
            self.view.viewport().update()
            ws.preview_changed.emit(True)

        self.job = ws.jobs.submit(
            Job(f"Preview {op.title}", run, kind="preview"),
            done,
            ws.generation,
            on_failed=lambda text: ws.message.emit(f"No preview: {text}"),
        )

    def clear(self) -> None:
        if self.view.image_item.preview_rect() is not None:
            self.view.image_item.set_preview(None)
            self.view.viewport().update()  # and its "not applied yet" tag

    def shown(self) -> bool:
        return self.view.image_item.preview_rect() is not None
