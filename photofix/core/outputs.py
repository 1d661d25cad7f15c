"""Planning what a command will write, checked before any work starts.

A run reads some files (the inputs, a mask, colour hints) and writes others (one output per
input, a saved mask per input). :func:`plan_outputs` names every file that will be written and
refuses the run, before a single pixel is decoded, when

* an output would replace a file the command reads (an input, ``--mask``, ``--hints``) —
  except an input's own output when the caller allows overwriting sources;
* two outputs would land on the same file (``-o`` and ``--save-mask`` alike, one input's mask
  over another input's output, two inputs of the same stem);
* an output cannot be written at all: a file where a folder must be, a read-only folder, a
  folder where the file must go, an unsupported extension, a read-only file (unless the caller
  allows replacing those).

Pure Python over :mod:`pathlib` and ``os.stat``: no pixels, no Qt, no torch.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from photofix.core.errors import PhotoFixError, SourceOverwrite, WriteError

MASK_SUFFIX = ".png"


class OutputConflict(PhotoFixError):
    """The planned outputs collide with each other or with a file the command reads."""


@dataclass(frozen=True)
class Job:
    """One input and the files written for it."""

    source: Path
    target: Path
    mask_target: Path | None = None


def plan_outputs(
    inputs: Sequence[Path],
    output: Path,
    *,
    write_suffix: Mapping[str, str],
    suffix_format: Mapping[str, str],
    fmt: str | None = None,
    save_mask: Path | None = None,
    reads: Iterable[Path | None] = (),
    overwrite_source: bool = False,
    replace_read_only: bool = False,
) -> list[Job]:
    """Every job of a run, after every check that needs no pixels.

    ``write_suffix`` maps a format name to the suffix it is written with (``"png" → ".png"``),
    ``suffix_format`` an output suffix to its format; an output name whose suffix is not in it is
    refused. ``reads`` are the other files the run reads (``--mask``, ``--hints``).
    """
    inputs = [Path(p) for p in inputs]
    output = Path(output)
    many = len(inputs) > 1
    as_dir = many or output.is_dir() or str(output).endswith(("/", "\\")) or not output.suffix
    if as_dir and output.exists() and not output.is_dir():
        raise OutputConflict(f"{output} is a file, but several inputs need an output folder")
    if not as_dir:
        known = suffix_format.get(output.suffix.lower())
        if known is None:
            names = ", ".join(sorted(suffix_format))
            raise OutputConflict(
                f"cannot write {output.name}: the extension {output.suffix!r} is not supported"
                f" (use {names})"
            )
        if fmt and known != fmt:
            raise OutputConflict(f"--format {fmt} does not match the output name {output.name}")
    mask_dir = many and save_mask is not None
    if mask_dir and save_mask.exists() and not save_mask.is_dir():
        raise OutputConflict("with several inputs, --save-mask must be a folder")
    if save_mask is not None and not mask_dir and save_mask.suffix.lower() != MASK_SUFFIX:
        raise OutputConflict(
            f"--save-mask writes a PNG file: name it with .png, not {save_mask.name!r}"
        )

    jobs = []
    for src in inputs:
        if as_dir:
            kind = fmt or suffix_format.get(src.suffix.lower(), "png")
            target = output / (src.stem + write_suffix[kind])
        else:
            target = output
        mask_target = save_mask / f"{src.stem}_mask.png" if mask_dir else save_mask
        jobs.append(Job(src, target, mask_target))

    check_collisions(jobs, [p for p in reads if p is not None], overwrite_source)
    for job in jobs:
        for path in (job.target, job.mask_target):
            if path is not None:
                check_writable(path, replace_read_only=replace_read_only)
    return jobs


def check_collisions(jobs: Sequence[Job], reads: Sequence[Path], overwrite_source: bool) -> None:
    """OutputConflict / SourceOverwrite when a written file is a read one, or two written files
    are one. Only a job's own main output may replace its own source, and only when
    ``overwrite_source``."""
    read_files = [(job.source, job) for job in jobs] + [(Path(p), None) for p in reads]
    written: list[tuple[Path, str]] = []
    for job in jobs:
        outs = [(job.target, "the output"), (job.mask_target, "the saved mask")]
        for path, role in outs:
            if path is None:
                continue
            for read, owner in read_files:
                if not same_file(path, read):
                    continue
                if overwrite_source and owner is job and role == "the output":
                    continue
                hint = (
                    " (or pass --overwrite-source)" if owner is job and role == "the output" else ""
                )
                raise SourceOverwrite(
                    f"refusing to overwrite {read.name}: {role} of {job.source.name} would"
                    f" replace a file this command reads; choose another name{hint}"
                )
            for other, other_role in written:
                if same_file(path, other):
                    raise OutputConflict(
                        f"{role} of {job.source.name} and {other_role} would both be written"
                        f" to the same file {path}; choose different names"
                    )
            written.append((path, f"{role} of {job.source.name}"))


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same resolved path (case folded where the file
    system ignores case), or two links to one existing file."""
    a, b = Path(a), Path(b)
    ra, rb = a.resolve(), b.resolve()
    if ra == rb:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        pass
    # neither exists yet, or only one does: compare names the way the folder would
    if ra.name.lower() == rb.name.lower() and ra.parent == rb.parent:
        return _case_insensitive(ra.parent)
    return False


def _case_insensitive(folder: Path) -> bool:
    probe = folder.name.swapcase()
    if not folder.is_dir() or probe == folder.name:
        return False
    try:
        return os.path.samefile(folder, folder.with_name(probe))
    except OSError:
        return False


def check_writable(path: Path, *, replace_read_only: bool = False) -> None:
    """WriteError unless ``path`` can be created or replaced: its nearest existing folder must
    be a folder and writable, the path itself must not be a folder, and an existing read-only
    file is refused unless ``replace_read_only``."""
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"cannot write {path}: a folder of that name is in the way")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise WriteError(f"cannot write {path}: it is not a regular file")
        if is_read_only(path) and not replace_read_only:
            raise WriteError(
                f"{path.name} is read-only; PhotoFix does not replace it"
                " (pass --replace-read-only to do so)"
            )
    folder = path.parent
    while not folder.exists():
        if folder.is_symlink():  # a dangling link where a folder should be
            raise WriteError(f"cannot write {path}: {folder} is a broken link")
        if folder.parent == folder:
            break
        folder = folder.parent
    if not folder.is_dir():
        raise WriteError(f"cannot write {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteError(f"cannot write {path}: the folder {folder} is read-only")


def is_read_only(path: Path) -> bool:
    """Whether the file says it must not be changed: no write permission for its owner (what
    ``chmod a-w`` and Windows' read-only attribute set), or none for us."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not mode & stat.S_IWUSR or not os.access(path, os.W_OK)


def make_parent(path: Path) -> None:
    """Create the folders above ``path``; one readable WriteError when that fails."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise WriteError(f"cannot write {path}: a file is in the way of its folder") from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise WriteError(f"cannot create the folder for {path}: {reason}") from None
