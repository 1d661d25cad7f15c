"""Kept for imports written before the progress token moved to :mod:`photofix.core.progress`
(below ``models/``, so the download code uses the same class instead of a Protocol copy)."""

from photofix.core.progress import Progress, ProgressInfo

__all__ = ["Progress", "ProgressInfo"]
