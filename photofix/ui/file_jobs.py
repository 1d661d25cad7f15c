"""Reading and writing image files as background jobs (the service thread does the I/O).

Opening reads the file's PhotoFix record too (the sidecar beside it, else its XMP), so the
history can list the steps that made it. Saving writes the record of the output with it: the
XMP history inside the file and ``<output>.photofix.json`` (with the masks as PNGs) beside it,
through :mod:`photofix.core.provenance`, as ``photofix process`` does. The jobs hold copies of
what they write, so the user may go on editing while a save runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from photofix.core import imageio, provenance
from photofix.core.document import Document
from photofix.core.errors import PhotoFixError
from photofix.core.recipe import StepRecord
from photofix.inference.service import Job, JobContext
from photofix.ui.display import DisplayPyramid


@dataclass
class Opened:
    """A file read for the window: the document, its display, what its record says."""

    document: Document
    source_sha256: str | None
    recorded: list[StepRecord] = field(default_factory=list)
    note: str = ""  # why the file's record was not used, or ""
    pyramid: DisplayPyramid | None = None


def recorded_steps(path: Path) -> tuple[list[StepRecord], str]:
    """The steps the record of ``path`` lists (none for a file PhotoFix did not write), and a
    note when a record is there but cannot be used (the image opens all the same)."""
    try:
        record = provenance.read_record(path)
        if record is None:
            return [], ""
        return [StepRecord.from_dict(s) for s in record.get("steps", [])], ""
    except (PhotoFixError, KeyError, TypeError, ValueError) as exc:
        return [], f"The PhotoFix record of {path.name} is unreadable ({exc}); opened without it."


def read_for_window(path: Path, ctx: JobContext | None = None) -> Opened:
    """Load ``path``, hash it (the input of every record made from it) and read its record;
    with ``ctx`` (on the service thread) build the display pyramid as well."""
    if ctx is not None:
        ctx.progress.update(0.0, f"Reading {path.name}")
    document = Document.from_loaded(imageio.load_image(path))
    sha = provenance.file_sha256(path)
    recorded, note = recorded_steps(path)
    opened = Opened(document, sha, recorded, note)
    if ctx is not None:
        ctx.progress.check()
        ctx.progress.update(0.7, "Preparing the display")
        opened.pyramid = DisplayPyramid(document.image)
    return opened


def open_job(path: Path) -> Job:
    """:func:`read_for_window` on the service thread (a 48-megapixel TIFF takes seconds)."""
    return Job(f"Opening {path.name}", lambda ctx: read_for_window(path, ctx), kind="open")


@dataclass(frozen=True)
class RecordInfo:
    """What a saved file's record says beyond the document's steps."""

    source: Path | None  # the file the document was opened from
    source_sha256: str | None  # its SHA-256 when it was opened
    operator: str | None = None
    exact: bool = False  # float32 everywhere (Edit → Compute Device → Exact)


def save_job(
    doc: Document,
    path: Path,
    *,
    format: str | None,
    bit_depth: int | None,
    quality: int,
    protect: Sequence[Path],
    as_copy: bool,
    record: RecordInfo | None = None,
) -> Job:
    """Write a copy of ``doc``'s image (and alpha) to ``path`` atomically, refusing the
    ``protect``-ed files; with ``record``, the XMP history inside it and the sidecar record
    of its steps beside it. The job's result is the path written."""
    image = doc.image.copy()
    alpha = None if doc.alpha is None else doc.alpha.copy()
    meta = doc.meta
    steps = list(doc.journal)
    h, w = doc.original.shape[:2]

    def run(ctx: JobContext) -> Path:
        ctx.progress.update(0.0, f"Saving {path.name}")
        out_meta, started = meta, steps[0].started if steps else None
        entry = None
        if record is not None:
            source = record.source if record.source and record.source.is_file() else None
            devices = sorted({m.device for r in steps for m in r.models})
            entry = provenance.new_record(
                source,
                steps,
                operator=record.operator or None,
                started=started,
                runtime=provenance.runtime_info(", ".join(devices) or "cpu", record.exact),
                source_sha256=record.source_sha256,
                source_format=None if meta is None else meta.format,
                source_size_px=(w, h),
            )
            if meta is not None:
                fmt = (format or path.suffix.lstrip(".")).lower()
                limit = provenance.JPEG_XMP_LIMIT if fmt in ("jpeg", "jpg") else None
                xmp = provenance.xmp_packet(entry, meta.xmp, limit=limit)
                out_meta = dataclasses.replace(meta, xmp=xmp)
        saved = imageio.save_image(
            path,
            image,
            alpha=alpha,
            meta=out_meta,
            format=format,
            bit_depth=bit_depth,
            quality=quality,
            protect=list(protect),
        )
        if entry is not None:
            ctx.progress.update(0.9, f"Recording the steps beside {path.name}")
            provenance.write_output_record(entry, steps, saved, quality)
        return saved

    return Job(f"{'Exporting' if as_copy else 'Saving'} {path.name}", run, kind="save")
