"""Compare: the "before" image behind the split line, in the side view and while \\ is held.

The before image is the original file or the image before the last image step (a setting). Its
display pyramid is built only when a compare mode or the held key needs it, and kept until the
document or that choice changes. The side-by-side view follows the main view's pan and zoom.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTransform

from photofix.core.document import Document
from photofix.ui.display import DisplayPyramid
from photofix.ui.image_view import ImageView
from photofix.ui.settings import Settings


class Compare(QObject):
    """Keeps the before layer of ``view`` and the side view ``before_view`` in step."""

    def __init__(
        self,
        view: ImageView,
        before_view: ImageView,
        settings: Settings,
        document: Callable[[], Document | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.before_view = before_view
        self.settings = settings
        self._document = document
        self._before: DisplayPyramid | None = None
        self._before_key: tuple | None = None
        self._syncing = False
        view.before_held.connect(self._on_before_held)
        view.view_changed.connect(self._sync_side_view)
        before_view.view_changed.connect(self._sync_main_view)

    def forget(self) -> None:
        """A new document: the cached before image belongs to the old one."""
        self._before = None
        self._before_key = None

    def set_mode(self, mode: str) -> None:
        self.settings.compare_mode = mode
        self.view.set_compare(mode)
        self.before_view.setVisible(mode == "side")
        self.update()
        if mode == "side":
            QTimer.singleShot(0, self._sync_side_view)

    def set_before(self, which: str) -> None:
        self.settings.compare_before = which
        self.update()

    def _on_before_held(self, held: bool) -> None:
        if held:
            self.update(force=True)

    def _wanted(self) -> bool:
        return self.settings.compare_mode != "off" or self.view.before_is_held

    def before_image(self) -> np.ndarray | None:
        """The "before" image: the original file, or the image before the last image step."""
        doc = self._document()
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

    def update(self, force: bool = False) -> None:
        doc = self._document()
        if doc is None:
            self.view.before_item.set_pyramid(None)
            self.before_view.image_item.set_pyramid(None)
            return
        if not (force or self._wanted()):
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

    def shutdown(self) -> None:
        """The window is closing: stop following the views."""
        self.view.view_changed.disconnect(self._sync_side_view)
        self.before_view.view_changed.disconnect(self._sync_main_view)

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
