"""Reading and writing image files as background jobs (the service thread does the I/O).

The jobs hold copies of what they write, so the user may go on editing while a save runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from photofix.core import imageio
from photofix.core.document import Document
from photofix.inference.service import Job, JobContext
from photofix.ui.display import DisplayPyramid


def open_job(path: Path) -> Job:
    """Read ``path`` into a Document and build its display pyramid (a 48-megapixel TIFF
    takes seconds). The job's result is ``(document, pyramid)``."""

    def run(ctx: JobContext) -> tuple[Document, DisplayPyramid]:
        ctx.progress.update(0.0, f"Reading {path.name}")
        document = Document.from_loaded(imageio.load_image(path))
        ctx.progress.check()
        ctx.progress.update(0.7, "Preparing the display")
        return document, DisplayPyramid(document.image)

    return Job(f"Opening {path.name}", run, kind="open")


def save_job(
    doc: Document,
    path: Path,
    *,
    format: str | None,
    bit_depth: int | None,
    quality: int,
    protect: Sequence[Path],
    as_copy: bool,
) -> Job:
    """Write a copy of ``doc``'s image (and alpha) to ``path`` atomically, refusing the
    ``protect``-ed files. The job's result is the path written."""
    image = doc.image.copy()
    alpha = None if doc.alpha is None else doc.alpha.copy()
    meta = doc.meta

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
            protect=list(protect),
        )

    return Job(f"{'Exporting' if as_copy else 'Saving'} {path.name}", run, kind="save")
