"""The deblur form's kernel: a small picture of the blur the form names, and its estimate.

Under the deblur parameters, :class:`KernelBox` shows the point-spread function the fields
name (Gaussian, disk, motion, a kernel file), enlarged with nearest-neighbour pixels so each
of its pixels stays a square, and says what it is. With ``psf=auto`` or ``shake`` the kernel
is only known once estimated: **Estimate** runs the estimation on the whole image in the
background (:func:`submit_estimate`, the Qt-free
:func:`photofix.ops.deblur.estimate_psf_params`) and fills the form with what it found — the
family and its sigma, radius, or motion length and angle — so the user can change them; the
live preview follows the fields as for any other edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from photofix.core.errors import PhotoFixError
from photofix.inference.service import Job, JobContext
from photofix.ops.psf import kernel_picture, psf_from_params
from photofix.ops.registry import AUTO, OpContext

if TYPE_CHECKING:
    from photofix.ui.controller import PreviewRequest, WorkspaceController

THUMBNAIL = 72  # px a side
ESTIMATED = ("auto", "shake")


def kernel_pixmap(k: np.ndarray, size: int = THUMBNAIL) -> QPixmap:
    """``k`` as a grayscale picture (peak white), enlarged by whole pixels to about ``size``."""
    pic = np.ascontiguousarray(kernel_picture(k, size))
    h, w = pic.shape
    image = QImage(pic.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    if max(w, h) > size:  # a kernel wider than the thumbnail: shrink, still without smoothing
        image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio)
    return QPixmap.fromImage(image)


class KernelBox(QWidget):
    """The kernel's thumbnail, what it is, and the Estimate button (see the module)."""

    estimate_requested = Signal()

    def __init__(self, values: Callable[[], dict[str, Any]], parent: QWidget | None = None):
        super().__init__(parent)
        self._values = values
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.picture = QLabel()
        self.picture.setFixedSize(THUMBNAIL + 4, THUMBNAIL + 4)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: black; border: 1px solid palette(mid);")
        layout.addWidget(self.picture)
        side = QVBoxLayout()
        self.text = QLabel()
        side.addWidget(self.text, 1)
        self.button = QPushButton("Estimate")
        self.button.setToolTip(
            "Estimate the blur from the picture (psf=shake: in the region or the painted"
            " mask) and put what is found into the fields above, to adjust"
        )
        self.button.clicked.connect(self.estimate_requested)
        side.addWidget(self.button)
        layout.addLayout(side, 1)
        self.estimate: tuple[dict[str, Any], np.ndarray | None, str] | None = None
        self.refresh()

    def refresh(self) -> None:
        """Show the kernel the fields name now (with auto/shake: the last estimate, if any)."""
        values = self._values()
        if values.get("psf", AUTO) in ESTIMATED:
            self.button.setText("Estimate")
            self._show(None, "Found when applied", "Estimate shows it here, to adjust")
            return
        self.button.setText("Estimate again")
        try:
            k = psf_from_params(values)
        except PhotoFixError as exc:
            self._show(None, str(exc))
            return
        text, tip = f"{k.shape[0]}×{k.shape[1]} px", ""
        if self.estimate is not None and self.estimate[0].get("psf") == values.get("psf"):
            text += ", estimated"
            tip = f"Estimated: {self.estimate[2]}"
        self._show(k, text, tip)

    def show_estimate(self, found: dict[str, Any], k: np.ndarray | None, what: str) -> None:
        self.estimate = (found, k, what)
        if not found:
            self._show(k, "No blur found", f"Estimated: {what}")

    def _show(self, k: np.ndarray | None, text: str, tip: str = "") -> None:
        if k is None:
            self.picture.clear()
        else:
            self.picture.setPixmap(kernel_pixmap(k))
        self.text.setText(text)
        self.text.setToolTip(tip)
        self.picture.setToolTip(
            "The blur kernel, enlarged (each square is one pixel)" + (f"\n{tip}" if tip else "")
        )


def submit_estimate(
    controller: WorkspaceController,
    request: PreviewRequest,
    on_done: Callable[[dict[str, Any], np.ndarray | None, str], None],
) -> int | None:
    """Estimate the blur ``request``'s deblur parameters would find on the whole image, in the
    background; ``on_done(found, kernel, description)`` gets it on the GUI thread."""
    from photofix.ops.deblur import estimate_psf_params

    doc = controller.document
    if doc is None:
        return None
    params = {k: v for k, v in request.params.items() if k in ("psf", "region", "noise")}
    if params.get("psf") not in ESTIMATED:
        params["psf"] = AUTO  # "Estimate again" from a named kernel: the whole picture
    image = controller.job_layers(request.op).image
    mask = doc.mask.copy() if params["psf"] == "shake" else None
    device = controller.device_policy()

    def run(ctx: JobContext) -> tuple[dict[str, Any], np.ndarray | None, str]:
        return estimate_psf_params(image, params, mask, OpContext(ctx.progress, device))

    generation = controller.generation

    def done(result: tuple[dict[str, Any], np.ndarray | None, str]) -> None:
        if controller.document is doc and controller.generation == generation:
            on_done(*result)

    return controller.jobs.submit(
        Job("Estimating the blur", run, kind="apply"),
        done,
        generation,
        on_failed=lambda text: controller.error.emit("Cannot estimate the blur", text),
    )
