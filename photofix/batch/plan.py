"""Which files a batch reads and where each result goes, decided before any work starts.

Inputs are folders (their tree is mirrored under the output folder), files and glob patterns.
A folder contributes the images directly inside it, or its whole tree with ``recursive``.
Output names keep the input's relative path and stem and take the suffix of the output
format. Two inputs that would be written to one name, an output that would replace an input,
and an output folder inside an input folder that is being walked recursively are refused
here, before any image is read.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from photofix.core.errors import PhotoFixError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp", ".bmp"})
WRITE_SUFFIX = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg"}
SUFFIX_FORMAT = {".png": "png", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg"}
#: files PhotoFix itself writes beside outputs; never taken as inputs
OWN_SUFFIXES = (".photofix.json", ".mask.png", ".part")
REPORT_DIR = "batch-report"


class BatchPlanError(PhotoFixError):
    """The batch cannot start: bad inputs, colliding outputs, an output replacing an input."""


@dataclass(frozen=True)
class BatchItem:
    """One image of a batch: where it is read from, its name relative to its input root (used
    in messages and in the mirrored output tree) and where its result is written."""

    source: Path
    relative: str
    target: Path

    @property
    def sidecar(self) -> Path:
        return self.target.with_name(self.target.name + ".photofix.json")

    @property
    def proposal(self) -> Path:
        """Where a review step's proposed mask is written."""
        return self.target.with_name(self.target.stem + ".mask.png")


def plan_batch(
    inputs: Sequence[str | Path],
    output_dir: Path,
    *,
    recursive: bool = False,
    output_format: str | None = None,
) -> list[BatchItem]:
    """Every image to process, in a stable order (the order given, each folder sorted)."""
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise BatchPlanError(f"{output_dir} is a file; a batch writes into a folder")
    if output_format is not None and output_format not in WRITE_SUFFIX:
        raise BatchPlanError(
            f"unknown output format {output_format!r}; choose {', '.join(WRITE_SUFFIX)}"
        )
    out_resolved = output_dir.resolve()
    found: list[tuple[Path, str]] = []
    for given in inputs:
        found.extend(_expand(str(given), out_resolved, recursive))
    if not found:
        raise BatchPlanError("no images found in the inputs given")

    items: list[BatchItem] = []
    seen_sources: set[Path] = set()
    targets: dict[Path, Path] = {}
    for source, relative in found:
        real = source.resolve()
        if real in seen_sources:  # the same file named twice (a folder and a glob inside it)
            continue
        seen_sources.add(real)
        fmt = output_format or SUFFIX_FORMAT.get(source.suffix.lower(), "png")
        rel = Path(relative)
        target = output_dir / rel.parent / (rel.stem + WRITE_SUFFIX[fmt])
        key = target.resolve()
        if key in targets:
            raise BatchPlanError(
                f"{targets[key]} and {source} would both be written to {target}; "
                "rename one or choose another --format"
            )
        targets[key] = source
        items.append(BatchItem(source, relative, target))
    for item in items:
        if item.target.resolve() in seen_sources:
            raise BatchPlanError(
                f"the output {item.target} would replace the input of the same name; "
                "choose an output folder outside the inputs"
            )
    return items


def _expand(given: str, out_dir: Path, recursive: bool) -> Iterable[tuple[Path, str]]:
    path = Path(given)
    if path.is_dir():
        yield from _walk(path, out_dir, recursive)
        return
    if path.is_file():
        yield path, path.name
        return
    if glob.has_magic(given):
        matches = sorted(glob.glob(given, recursive=recursive))
        if not matches:
            raise BatchPlanError(f"no file matches {given}")
        for match in matches:
            m = Path(match)
            if m.is_file() and _is_image(m):
                yield m, m.name
            elif m.is_dir():
                yield from _walk(m, out_dir, recursive)
        return
    raise BatchPlanError(f"{given}: no such file or folder")


def _walk(root: Path, out_dir: Path, recursive: bool) -> Iterable[tuple[Path, str]]:
    if not recursive:
        for entry in sorted(root.iterdir()):
            if entry.is_file() and _is_image(entry):
                yield entry, entry.name
        return
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        # skip hidden folders, the report, and the output folder when it lies inside the tree
        # (its results would be read back as inputs by the next run)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and (here / d).resolve() != out_dir and d != REPORT_DIR
        )
        for name in sorted(filenames):
            entry = here / name
            if _is_image(entry):
                yield entry, entry.relative_to(root).as_posix()


def _is_image(path: Path) -> bool:
    name = path.name
    if name.startswith(".") or any(name.endswith(s) for s in OWN_SUFFIXES):
        return False
    return path.suffix.lower() in IMAGE_SUFFIXES
