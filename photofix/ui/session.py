"""Autosave of the working session, offered back after a crash.

A session file holds everything needed to continue: the original pixels, every current layer
(image, alpha, mask, hints), the undo history (its patches) and the file it came from. It is
written atomically to the user data directory (platformdirs) by a background thread from a
snapshot taken on the GUI thread; a clean exit deletes it, so a file found at start-up means the
last session ended abnormally.

The file is a pickle of plain dataclasses and numpy arrays, written and read only by PhotoFix
in the user's own data folder: it is never exchanged, and is not a document format. It is read
back with an unpickler that resolves only those classes (and what numpy needs to rebuild an
array), so a planted or damaged file can name no other code to run.
"""

from __future__ import annotations

import pickle
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from platformdirs import user_data_dir

from photofix.core.document import LAYER_NAMES, Document
from photofix.core.history import Step
from photofix.core.imageio import ImageMeta, atomic_write

FORMAT_VERSION = 1
AUTOSAVE_NAME = "autosave.photofix-session"

# every global a session pickle may name: our dataclasses, and numpy's array/dtype/scalar
# rebuilders (under numpy 2's and numpy 1's module names)
_SESSION_GLOBALS = frozenset(
    {
        ("photofix.ui.session", "SessionSnapshot"),
        ("photofix.core.history", "Step"),
        ("photofix.core.history", "Patch"),
        ("photofix.core.imageio", "ImageMeta"),
        # step records (photofix.core.recipe) travel with the history's steps
        ("photofix.core.recipe", "StepRecord"),
        ("photofix.core.recipe", "Blend"),
        ("photofix.core.recipe", "MaskRef"),
        ("photofix.core.recipe", "HintsRef"),
        ("photofix.core.recipe", "ModelUse"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
    }
    | {
        (f"numpy.{core}.{module}", name)
        for core in ("_core", "core")
        for module, name in (
            ("numeric", "_frombuffer"),
            ("multiarray", "_reconstruct"),
            ("multiarray", "scalar"),
        )
    }
)


class _SessionUnpickler(pickle.Unpickler):
    """Resolves only the globals of :data:`_SESSION_GLOBALS`; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _SESSION_GLOBALS:
            raise pickle.UnpicklingError(
                f"it names {module}.{name}, which no PhotoFix session holds"
            )
        return super().find_class(module, name)


def sessions_dir() -> Path:
    return Path(user_data_dir("PhotoFix", "PhotoFix")) / "sessions"


@dataclass
class SessionSnapshot:
    """A copy of a Document's whole state, safe to write from another thread."""

    version: int
    saved_at: float
    path: str | None
    original_path: str | None
    meta: ImageMeta | None
    original: np.ndarray
    layers: dict[str, np.ndarray | None]
    steps: list[Step]
    index: int
    dropped: int
    saved_index: int | None
    kept_records: list = field(default_factory=list)  # of steps the undo budget dropped
    recorded: list = field(default_factory=list)  # the steps the opened file's record lists
    source_sha256: str | None = None  # of the opened file, when it was read

    @classmethod
    def of(
        cls,
        document: Document,
        original_path: Path | None,
        recorded: list | None = None,
        source_sha256: str | None = None,
    ) -> SessionSnapshot:
        layers = {}
        for name in LAYER_NAMES:
            value = document.get_layer(name)
            if name == "hints" and not document.hint_mask.any():
                value = None  # no hints painted: do not copy (and store) an empty colour layer
            layers[name] = None if value is None else value.copy()
        h = document.history
        return cls(
            FORMAT_VERSION,
            time.time(),
            None if document.path is None else str(document.path),
            None if original_path is None else str(original_path),
            document.meta,
            document.original,  # never modified in place
            layers,
            list(h.steps),  # steps are immutable once pushed
            h.index,
            h.dropped,
            document.saved_index,
            list(h.kept_records),
            list(recorded or []),
            source_sha256,
        )

    def to_document(self) -> Document:
        image = self.layers["image"]
        assert image is not None
        doc = Document(image, meta=self.meta, path=None if self.path is None else Path(self.path))
        doc.original = self.original
        for name, value in self.layers.items():
            if name == "hints" and value is None:
                continue  # the new Document already has an empty hint layer
            doc.set_layer(name, value)
        doc.history.steps = list(self.steps)
        doc.history.index = self.index
        doc.history.dropped = self.dropped
        doc.history.kept_records = list(getattr(self, "kept_records", []))
        # a recovered session is unsaved work, whatever it was at the time of the autosave
        doc.saved_index = None
        return doc


class SessionStore:
    """Reads and writes the autosave file; :meth:`save_async` writes on a background thread."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or sessions_dir()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    @property
    def path(self) -> Path:
        return self.folder / AUTOSAVE_NAME

    def exists(self) -> bool:
        return self.path.is_file()

    def save(self, snapshot: SessionSnapshot) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)

        def write(temp: Path) -> None:
            with open(temp, "wb") as f:
                pickle.dump(snapshot, f, protocol=pickle.HIGHEST_PROTOCOL)

        return atomic_write(self.path, write)

    def save_async(self, snapshot: SessionSnapshot) -> bool:
        """Start writing in the background; False when the previous write is still running."""
        if self._thread is not None and self._thread.is_alive():
            return False

        def work() -> None:
            try:
                self.save(snapshot)
                self.last_error = None
            except Exception as exc:  # an autosave failure must never take the app down
                self.last_error = str(exc)

        self._thread = threading.Thread(target=work, name="photofix-autosave", daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def load(self) -> SessionSnapshot:
        with open(self.path, "rb") as f:
            snapshot: Any = _SessionUnpickler(f).load()
        if not isinstance(snapshot, SessionSnapshot) or snapshot.version != FORMAT_VERSION:
            raise ValueError("the autosaved session was written by another PhotoFix version")
        return snapshot

    def discard_if_idle(self) -> None:
        """Delete the autosave unless one is being written right now."""
        if self._thread is None or not self._thread.is_alive():
            self.path.unlink(missing_ok=True)

    def discard(self) -> None:
        self.wait(30)
        self.path.unlink(missing_ok=True)
