"""MaskReview: a proposed mask waiting for the user before it is filled.

An operation with a ``review`` (remove-defects) runs in two halves. Applying it runs only the
first half, which proposes a mask as a step of its own (the engine's ``<op>.propose``, see
:func:`photofix.ops.steps.proposal_operation`); the user checks and edits that mask with
the brushes, then accepts it, and the second half (the fill) runs as one more step. Undoing past
the proposal, or any change of the image, ends the review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from photofix.ops.registry import Operation
from photofix.ui.live_preview import PreviewRequest

if TYPE_CHECKING:
    from photofix.ui.controller import WorkspaceController


@dataclass
class _Review:
    """A proposed mask waiting for the user (an operation with a ``review``)."""

    op: Operation
    params: dict[str, Any]
    index: int  # the history position of the proposal; undoing past it ends the review


class MaskReview(QObject):
    """The workspace's review state (see the module's docstring)."""

    def __init__(self, workspace: WorkspaceController) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.pending: _Review | None = None

    def start(self, op: Operation, params: dict[str, Any]) -> None:
        """The proposal of ``op`` was committed: show it and wait for the user."""
        ws = self.workspace
        doc = ws.document
        assert doc is not None and op.review is not None
        if not doc.mask.any():
            ws.message.emit(f"{op.title}: nothing was found; the image is unchanged.")
            return
        self.pending = _Review(op, params, doc.history.index)
        if not ws.settings.overlay_visible:
            ws.set_overlay_visible(True)  # the mask is what the user has to look at
        ws.review_changed.emit(
            f"The overlay shows what {op.title} will fill. Paint what it missed with the mask "
            "brush (B), erase what is not damage (E), then fill it."
        )
        ws.message.emit("Check the mask, then Accept and Fill (Operations panel).")

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
            self.workspace.review_changed.emit("")
