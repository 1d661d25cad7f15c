"""Typed errors that reach the user as one readable sentence.

Every error PhotoFix raises on purpose derives from :class:`PhotoFixError`; its ``str()`` is a
message a person understands and, where it helps, says what to do next.
"""

from __future__ import annotations


class PhotoFixError(Exception):
    """Base class of every error PhotoFix raises deliberately."""


class ImageError(PhotoFixError):
    """A problem with an image file (reading or writing)."""


class UnsupportedImage(ImageError):
    """The file is not an image format PhotoFix can read or write."""


class CorruptImage(ImageError):
    """The file claims to be an image but cannot be decoded (damaged or truncated)."""


class EmptyImage(ImageError):
    """The file is empty, or the image has zero width or height."""


class ImageTooLarge(ImageError):
    """The image has more pixels than the configured limit."""


class WriteError(ImageError):
    """An output file could not be written; nothing was left behind."""


class SourceOverwrite(WriteError):
    """Refused to overwrite an original without an explicit request."""


class OperationError(PhotoFixError):
    """An operation was asked for with unknown name or invalid parameters."""


class ModelMissing(PhotoFixError):
    """A model's weights are not installed. ``model_id`` names it when it can be downloaded
    (the GUI then offers the download)."""

    def __init__(self, message: str, *, model_id: str | None = None) -> None:
        super().__init__(message)
        self.model_id = model_id


class ChecksumMismatch(PhotoFixError):
    """A downloaded or cached file does not have the expected SHA-256."""


class Cancelled(PhotoFixError):
    """The user cancelled the running job."""

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)


class DeviceUnavailable(PhotoFixError):
    """The compute device the user asked for explicitly is not available."""


class DownloadFailed(PhotoFixError):
    """A file could not be downloaded (no network, server error, interrupted transfer)."""
