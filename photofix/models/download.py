"""Weights downloaded on demand: catalog entry, resumable verified download, atomic install.

A model whose weights are not on PyPI declares :class:`DownloadWeights` as its spec's
``weights``: URL, SHA-256, size in bytes, file name. :func:`install` fetches the file as a job
(a :class:`~photofix.core.progress.Progress` carries progress and cancel):

- the transfer goes to ``<name>.part`` beside the final file; an interrupted or cancelled
  transfer leaves the part, and the next :func:`install` resumes it with an HTTP ``Range``
  request (starting again when the server ignores ranges);
- the SHA-256 (and size) are checked before anything is installed: a wrong file is deleted and
  :class:`~photofix.core.errors.ChecksumMismatch` raised;
- the verified file is moved into place atomically (``os.replace`` in the same folder), so a
  model file that exists is always complete;
- an entry without a published SHA-256 is refused: PhotoFix never installs unverified weights.

Files live in the user data folder (platformdirs ``user_data_dir("PhotoFix")/models``) or
``$PHOTOFIX_MODELS_DIR`` when set (tests, portable installs). :func:`import_file` installs a copy
the user fetched some other way (offline machines), with the same checks.

Errors: :class:`~photofix.core.errors.DownloadFailed` (no network, server error, transfer
broken — the message says what to do), ``ChecksumMismatch``, ``Cancelled``, and
:class:`~photofix.core.errors.ModelMissing` from :func:`installed_path`.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from photofix.core.errors import ChecksumMismatch, DownloadFailed, ModelMissing
from photofix.core.progress import Progress

if TYPE_CHECKING:
    from photofix.models.spec import ModelSpec


__all__ = [
    "DownloadWeights",
    "ModelStatus",
    "file_sha256",
    "import_file",
    "install",
    "installed_path",
    "models_dir",
    "status",
    "verified_path",
    "verify",
]

CHUNK = 1 << 16
USER_AGENT = "PhotoFix model installer"


@dataclass(frozen=True)
class DownloadWeights:
    """One weights file fetched on demand: where from, what it must hash to, how big it is.

    ``sha256`` is the full lower-case hex digest of the published file, or None when no
    checksum was published (then installing is refused). ``size`` is in bytes (None: unknown).
    ``filename`` is the name the file gets in the models folder.
    """

    url: str
    sha256: str | None
    size: int | None
    filename: str

    @property
    def files(self) -> tuple[str, ...]:
        """The file names, as ``PackageWeights.files`` lists them (one file here)."""
        return (self.filename,)

    def path(self) -> Path:
        """Where the installed file is (or will be)."""
        return models_dir() / self.filename

    def paths(self) -> list[Path]:
        """The installed file, as ``PackageWeights.paths`` does (ModelMissing when absent)."""
        path = self.path()
        if not path.is_file():
            raise ModelMissing(
                f"The model file {self.filename} is not installed; install it from the Models "
                "dialog or with: photofix models install"
            )
        return [path]

    @property
    def size_text(self) -> str:
        return "size unknown" if self.size is None else f"{self.size / 1e6:.1f} MB"


def models_dir() -> Path:
    """Folder of downloaded model files (not created here)."""
    override = os.environ.get("PHOTOFIX_MODELS_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("PhotoFix", appauthor=False)) / "models"


def _weights(spec: ModelSpec) -> DownloadWeights:
    weights = spec.weights
    if not isinstance(weights, DownloadWeights):
        raise TypeError(f"model {spec.id!r} is not a downloadable model")
    return weights


def installed_path(spec: ModelSpec) -> Path:
    """The installed weights file of ``spec``; ModelMissing, saying how to install, if absent.

    Only the size is checked here (cheap); :func:`verify` hashes the file.
    """
    w = _weights(spec)
    path = w.path()
    if not path.is_file():
        raise ModelMissing(
            f"{spec.title} is not installed ({w.size_text} download). Install it from the "
            f"Models dialog or with: photofix models install {spec.id}",
            model_id=spec.id,
        )
    if w.size is not None and path.stat().st_size != w.size:
        raise ModelMissing(
            f"The installed file of {spec.title} has the wrong size (damaged?); reinstall it "
            f"with: photofix models install {spec.id}",
            model_id=spec.id,
        )
    return path


_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def _remember(path: Path, digest: str) -> None:
    st = path.stat()
    with _verified_lock:
        _verified[(str(path), st.st_size, st.st_mtime_ns)] = digest


def verified_path(spec: ModelSpec, progress: Progress | None = None) -> Path:
    """The installed weights of ``spec``, their SHA-256 checked once per process (again when
    the file changes): what a model's ``build`` calls before loading. ModelMissing when absent,
    ChecksumMismatch when the file is damaged."""
    w = _weights(spec)
    path = installed_path(spec)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _verified_lock:
        digest = _verified.get(key)
    if digest is None:
        digest = file_sha256(path, progress)
        _remember(path, digest)
    if digest != w.sha256:
        raise ChecksumMismatch(
            f"The installed weights of {spec.title} are damaged (SHA-256 mismatch); reinstall "
            f"them with: photofix models install {spec.id}"
        )
    return path


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    """Lower-case hex SHA-256 of a file (cancellable through ``progress``)."""
    digest = hashlib.sha256()
    total = max(1, path.stat().st_size)
    done = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            if progress is not None:
                progress.check()
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress.update(done / total, f"Checking {path.name}")
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelStatus:
    """``state`` is "installed", "missing", "damaged" (wrong size/hash) or "partial" (an
    interrupted download waits to be resumed)."""

    spec_id: str
    state: str
    path: Path
    detail: str = ""


def status(spec: ModelSpec, *, check_hash: bool = False) -> ModelStatus:
    """What is on disk for ``spec``; with ``check_hash`` the file is hashed (slow)."""
    w = _weights(spec)
    path = w.path()
    if not path.is_file():
        part = _part_path(path)
        if part.is_file():
            done = part.stat().st_size
            return ModelStatus(spec.id, "partial", path, f"{done / 1e6:.1f} MB downloaded")
        return ModelStatus(spec.id, "missing", path)
    size = path.stat().st_size
    if w.size is not None and size != w.size:
        return ModelStatus(spec.id, "damaged", path, f"{size} bytes, expected {w.size}")
    if check_hash and w.sha256 is not None:
        digest = file_sha256(path)
        if digest != w.sha256:
            return ModelStatus(spec.id, "damaged", path, f"SHA-256 {digest}, expected {w.sha256}")
    return ModelStatus(spec.id, "installed", path)


def verify(spec: ModelSpec, progress: Progress | None = None) -> Path:
    """Hash the installed file; ChecksumMismatch (file kept, for inspection) if it is wrong."""
    w = _weights(spec)
    path = installed_path(spec)
    if w.sha256 is None:
        raise ChecksumMismatch(f"{spec.title} has no published SHA-256 to verify against")
    digest = file_sha256(path, progress)
    if digest != w.sha256:
        raise ChecksumMismatch(
            f"{path.name} is damaged (SHA-256 {digest[:12]}…, expected {w.sha256[:12]}…); "
            f"reinstall it with: photofix models install {spec.id}"
        )
    return path


def _part_path(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def install(
    spec: ModelSpec,
    progress: Progress | None = None,
    *,
    timeout: float = 30.0,
    force: bool = False,
) -> Path:
    """Download, verify and install the weights of ``spec``; returns the installed path.

    An installed file of the right size is kept unless ``force``. A partial download is resumed
    (HTTP Range). ``progress`` reports bytes and is checked for cancel between chunks; a
    cancelled transfer raises Cancelled and keeps its part file for a later resume. Raises
    DownloadFailed (offline, HTTP error, broken transfer) or ChecksumMismatch (the file is then
    deleted, part included).
    """
    progress = progress if progress is not None else Progress()
    w = _weights(spec)
    if w.sha256 is None:
        raise DownloadFailed(
            f"{spec.title} cannot be installed: no SHA-256 of its weights has been published, "
            "and PhotoFix does not install unverified files."
        )
    target = w.path()
    if target.is_file() and not force and (w.size is None or target.stat().st_size == w.size):
        progress.update(1.0, f"{spec.title} is already installed")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(target)
    digest = _download(spec, w, part, progress, timeout)
    if digest != w.sha256:
        part.unlink(missing_ok=True)
        raise ChecksumMismatch(
            f"The download of {spec.title} does not match its published SHA-256 (got "
            f"{digest[:12]}…, expected {w.sha256[:12]}…); the file was deleted. Try again later."
        )
    _fsync(part)
    os.replace(part, target)
    _fsync_dir(target.parent)
    _remember(target, digest)
    progress.update(1.0, f"{spec.title} installed")
    return target


def _download(
    spec: ModelSpec, w: DownloadWeights, part: Path, progress: Progress, timeout: float
) -> str:
    """Fetch ``w.url`` into ``part`` (resuming what is there); returns the whole file's SHA-256."""
    progress.check()
    digest = hashlib.sha256()
    have = part.stat().st_size if part.is_file() else 0
    if w.size is not None and have > w.size:
        part.unlink()
        have = 0
    if have and w.size is not None and have == w.size:
        # complete but not yet checked (e.g. interrupted during the move)
        return file_sha256(part)
    request = urllib.request.Request(w.url, headers={"User-Agent": USER_AGENT})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            # the server says our part already covers the file: check what we have
            return file_sha256(part)
        raise DownloadFailed(
            f"The server refused the download of {spec.title} (HTTP {exc.code} {exc.reason}). "
            f"Try again later, or import a copy with: photofix models import {spec.id} FILE"
        ) from None
    except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
        raise _offline(spec, w, exc) from None
    with response:
        resumed = have > 0 and response.status == 206 and _range_start(response) == have
        if resumed:
            with open(part, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            mode = "ab"
            done = have
            progress.notice(f"Resuming the download of {spec.title} at {have / 1e6:.1f} MB.")
        else:
            mode, done = "wb", 0
        total = w.size or _content_length(response, done)
        try:
            with open(part, mode) as fh:
                while True:
                    progress.check()
                    block = response.read(CHUNK)
                    if not block:
                        break
                    if w.size is not None and done + len(block) > w.size:
                        part.unlink(missing_ok=True)
                        raise ChecksumMismatch(
                            f"The server sent more data than the {w.size_text} of {spec.title};"
                            " the download was deleted."
                        )
                    fh.write(block)
                    digest.update(block)
                    done += len(block)
                    if total:
                        progress.update(
                            done / total,
                            f"Downloading {spec.title}: {done / 1e6:.1f} of {total / 1e6:.1f} MB",
                        )
        except (OSError, http.client.HTTPException) as exc:  # connection dropped mid-transfer
            raise DownloadFailed(
                f"The download of {spec.title} was interrupted ({_reason(exc)}) at "
                f"{done / 1e6:.1f} MB; run the install again to resume."
            ) from None
    if w.size is not None and done != w.size:
        raise DownloadFailed(
            f"The download of {spec.title} stopped at {done / 1e6:.1f} of {w.size / 1e6:.1f} MB;"
            " run the install again to resume."
        )
    return digest.hexdigest()


def _range_start(response: object) -> int | None:
    value = getattr(response, "headers", {}).get("Content-Range", "")
    # "bytes START-END/TOTAL"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _content_length(response: object, offset: int) -> int | None:
    try:
        return offset + int(getattr(response, "headers", {}).get("Content-Length"))
    except (TypeError, ValueError):
        return None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason if reason is not None else exc) or type(exc).__name__


def _offline(spec: ModelSpec, w: DownloadWeights, exc: BaseException) -> DownloadFailed:
    cause = getattr(exc, "reason", exc)
    if isinstance(cause, (socket.gaierror, TimeoutError, socket.timeout)):
        head = "No network"  # no name resolution or no answer at all
    elif isinstance(cause, ConnectionRefusedError):
        head = "The download server is not answering"
    else:
        head = "Could not connect"
    return DownloadFailed(
        f"{head}: {_host(w.url)} cannot be reached ({_reason(exc)}). Install {spec.title} later "
        f"with 'photofix models install {spec.id}', or download {w.url} on another computer "
        f"and import the file with 'photofix models import {spec.id} FILE'."
    )


def import_file(spec: ModelSpec, source: Path, progress: Progress | None = None) -> Path:
    """Install a weights file the user obtained some other way, after checking its SHA-256.

    The source is copied (never moved); a file that does not match is refused with
    ChecksumMismatch and nothing is installed.
    """
    w = _weights(spec)
    source = Path(source)
    if not source.is_file():
        raise DownloadFailed(f"{source} is not a file")
    if w.sha256 is None:
        raise DownloadFailed(f"{spec.title} has no published SHA-256; PhotoFix cannot check it")
    digest = file_sha256(source, progress)
    if digest != w.sha256:
        raise ChecksumMismatch(
            f"{source.name} is not the published {spec.title} file (SHA-256 {digest[:12]}…, "
            f"expected {w.sha256[:12]}…); nothing was installed."
        )
    target = w.path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _part_path(target).with_suffix(".import")
    try:
        shutil.copyfile(source, tmp)
        _fsync(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _remember(target, digest)
    return target


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
