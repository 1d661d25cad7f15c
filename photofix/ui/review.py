"""MaskReview: a proposed mask waiting for the user before it is filled.

An operation with a ``review`` (remove-defects) runs in two halves. Applying it runs only the
first half, which proposes a mask as a step of its own (the engine's ``<op>.propose``, see
:func:`photofix.ops.steps.proposal_operation`); the user checks and edits that mask with
the brushes, then accepts it, and the second half (the fill) runs as one more step. Undoing past
the proposal, or any change of the image, ends the review.

When the proposal hands back the regions it found (``remove-defects``: a
:class:`~photofix.ops.defect_choice.RegionChoice`), the review lists the most confident
:data:`ROW_CAP` of them with whether each is on the mask; taking or leaving one out is one
undoable mask step (``mask-paint``, as a brush stroke), and any change of the mask (a stroke,
an undo) updates the list without a step of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QRectF, Signal

from photofix.core.history import Box
from photofix.ops import steps
from photofix.ops.defect_choice import RegionChoice
from photofix.ops.defects import Region
from photofix.ops.registry import Operation
from photofix.ui.live_preview import PreviewRequest
from photofix.ui.region_list import RegionMarkerItem, kind_name

if TYPE_CHECKING:
    from photofix.ui.controller import WorkspaceController


@dataclass
class _Review:
    """A proposed mask waiting for the user (an operation with a ``review``)."""

    op: Operation
    params: dict[str, Any]
    index: int  # the history position of the proposal; undoing past it ends the review


ROW_CAP = 300  # regions listed, most confident first: thousands of specks stay responsive


@dataclass
class RegionRows:
    """What the region list shows: the regions listed (most confident first), whether each is
    on the mask (by label), and how many more were found than are listed."""

    regions: list[Region]
    checked: dict[int, bool]
    more: int


class MaskReview(QObject):
    """The workspace's review state (see the module's docstring)."""

    regions_listed = Signal(object)  # RegionRows, or None when no regions are listed
    regions_checked = Signal(object)  # {label: on the mask} for the rows that changed

    def __init__(self, workspace: WorkspaceController) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.pending: _Review | None = None
        self.choice: RegionChoice | None = None
        self.rows: RegionRows | None = None
        self._boxes = np.zeros((0, 4), np.int64)  # the listed regions' (y0, x0, y1, x1)
        self.marker = RegionMarkerItem()
        workspace.view.add_overlay(self.marker, 4)

    def start(
        self, op: Operation, params: dict[str, Any], attachments: dict[str, Any] | None = None
    ) -> None:
        """The proposal of ``op`` was committed (``attachments``: what its step handed back):
        show it and wait for the user."""
        ws = self.workspace
        doc = ws.document
        assert doc is not None and op.review is not None
        choice = (attachments or {}).get("regions")
        if not isinstance(choice, RegionChoice) or not choice.found.regions:
            choice = None
        if not doc.mask.any() and choice is None:
            ws.message.emit(f"{op.title}: nothing was found; the image is unchanged.")
            return
        self.pending = _Review(op, params, doc.history.index)
        if not ws.settings.overlay_visible:
            ws.set_overlay_visible(True)  # the mask is what the user has to look at
        text = (
            f"The overlay shows what {op.title} will fill. Paint what it missed with the mask "
            "brush (B), erase what is not damage (E), then fill it."
        )
        if choice is not None:  # the panel is short: two lines above the list
            n = len(choice.found.regions)
            found = f"{n} region{'s' if n != 1 else ''} found"
            text = f"{found}; ticked ones are on the mask. Touch up with the brush (B), eraser (E)."
            if not doc.mask.any():
                text = f"{found}, none confident: tick those that are damage, or use the brush (B)."
        ws.review_changed.emit(text)
        self._list(choice)
        ws.message.emit("Check the mask, then Accept and Fill (Operations panel).")

    # -- the regions found -------------------------------------------------------------------
    def _list(self, choice: RegionChoice | None) -> None:
        self.choice = choice
        self.marker.setVisible(False)
        doc = self.workspace.document
        if choice is None or doc is None:
            self.rows, self._boxes = None, np.zeros((0, 4), np.int64)
            self.regions_listed.emit(None)
            return
        ranked = choice.ranked()
        listed = ranked[:ROW_CAP]
        checked = {r.label: choice.taken(doc.mask, r) for r in listed}
        self.rows = RegionRows(listed, checked, len(ranked) - len(listed))
        self._boxes = np.array([choice.box(r, 0) for r in listed], np.int64).reshape(-1, 4)
        self.regions_listed.emit(self.rows)

    def mask_changed(self, box: Box | None) -> None:
        """The mask changed (a stroke, an undo, a region taken): tick the rows again."""
        rows, choice, doc = self.rows, self.choice, self.workspace.document
        if self.pending is None or rows is None or choice is None or doc is None:
            return
        b = self._boxes
        if box is None:
            near = np.arange(len(rows.regions))
        else:
            y0, x0, y1, x1 = box
            near = np.nonzero((b[:, 0] < y1) & (b[:, 2] > y0) & (b[:, 1] < x1) & (b[:, 3] > x0))[0]
        changed = {}
        for i in near.tolist():
            region = rows.regions[i]
            now = choice.taken(doc.mask, region)
            if now != rows.checked[region.label]:
                rows.checked[region.label] = changed[region.label] = now
        if changed:
            self.regions_checked.emit(changed)

    def take_region(self, label: int, take: bool) -> None:
        """Put the region ``label`` on the mask (``take``) or leave it out: one undoable mask
        step, its pixels grown as the proposal grows them."""
        ws, rows, choice, doc = self.workspace, self.rows, self.choice, self.workspace.document
        if self.pending is None or rows is None or choice is None or doc is None:
            return
        region = choice.region(label)
        if not ws.stroke_active():
            mask = choice.with_region(doc.mask, region, take)
            verb = "Take" if take else "Leave out"
            name = kind_name(region.kind).lower()
            request = steps.StepRequest(
                steps.MASK_PAINT, label=f"{verb} region: {name} {region.confidence:.2f}", mask=mask
            )
            result = steps.run_step(request, ws.job_layers(steps.MASK_PAINT))
            steps.commit(doc, result)  # the mask's change ticks the rows (mask_changed)
        if label in rows.checked:  # the row shows what the mask holds, whatever happened
            rows.checked[label] = choice.taken(doc.mask, region)
            self.regions_checked.emit({label: rows.checked[label]})

    def show_region(self, label: int) -> None:
        """Centre the canvas on the region ``label`` (zoomed in on a small one), marked."""
        if self.choice is None:
            return
        x0, y0, x1, y1 = self.choice.region(label).box
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.marker.mark(rect)
        self.workspace.view.show_area(rect)

    def history_moved(self) -> None:
        """End the review when its proposal was undone (or the document closed)."""
        review, doc = self.pending, self.workspace.document
        if review is not None and (doc is None or doc.history.index < review.index):
            self.end()

    def accept(self) -> int | None:
        """Fill the proposed mask as the user left it: the reviewed operation's second half,
        one more undoable step. Returns the job id (None when refused)."""
        ws = self.workspace
        review, doc = self.pending, ws.document
        if review is None or doc is None:
            return None
        assert review.op.review is not None
        fill = review.op.review.fill
        if not doc.mask.any():
            ws.error.emit(
                f"Cannot apply {fill.title}",
                f"The mask is empty: paint the damage to fill, or apply {review.op.title} again.",
            )
            return None
        params = {p.name: review.params[p.name] for p in fill.params if p.name in review.params}
        job = ws.apply_operation(PreviewRequest(fill, params))
        if job is not None:
            self.end()
        return job

    def dismiss(self) -> None:
        """Leave the proposed mask unfilled (it stays; Undo removes it)."""
        if self.pending is not None:
            self.end()
            self.workspace.message.emit("The mask is kept unfilled; Undo removes it.")

    def end(self) -> None:
        if self.pending is not None:
            self.pending = None
            self._list(None)
            self.workspace.review_changed.emit("")
