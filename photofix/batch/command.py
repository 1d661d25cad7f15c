"""``photofix batch RECIPE.json INPUT... -o OUTDIR``: the batch subcommand of the CLI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="run a recipe over folders of scans: resumable, with a report",
        description="Run RECIPE on every image of the INPUT folders, files and globs; folders "
        "are mirrored into OUTDIR. Every output gets its record. Run the same command again to "
        "resume: finished outputs are checked by hash and skipped. Exit 0 only if nothing "
        "failed.",
    )
    p.add_argument("recipe", type=Path, metavar="RECIPE.json")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR")
    p.add_argument("--recursive", "-r", action="store_true", help="include sub-folders")
    p.add_argument(
        "--workers", type=int, default=0, help="worker processes (default: sized to the machine)"
    )
    p.add_argument("--engine", choices=("local", "ray"), default="local")
    p.add_argument("--address", help="Ray cluster address (with --engine ray; default: local)")
    p.add_argument("--format", choices=("png", "tiff", "jpeg"), help="output format")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), help="default: as the source")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality 1-100 (default 95)")
    p.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto")
    p.add_argument("--exact", action="store_true", help="float32 everywhere (reproducible)")
    p.add_argument("--operator", help="who ran the batch, for the records")
    p.add_argument("--max-megapixels", type=float, default=250.0)
    p.add_argument("--no-record", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from photofix.batch.engine import BatchJob, run_batch
    from photofix.batch.worker import BatchOptions
    from photofix.core.errors import PhotoFixError

    if args.no_record:
        raise PhotoFixError("a batch needs its records to resume; --no-record is not allowed")
    if not 1 <= args.quality <= 100:
        raise PhotoFixError("--quality must be between 1 and 100")
    if args.workers < 0:
        raise PhotoFixError("--workers must be 0 (automatic) or more")
    options = BatchOptions(
        format=args.format,
        bit_depth=args.bit_depth,
        quality=args.quality,
        device=args.device,
        exact=args.exact,
        max_megapixels=args.max_megapixels,
        operator=args.operator,
    )
    job = BatchJob(
        recipe=args.recipe,
        inputs=list(args.inputs),
        output_dir=args.output,
        recursive=args.recursive,
        workers=args.workers,
        engine=args.engine,
        address=args.address,
        options=options,
    )
    return run_batch(job, out=sys.stderr).exit_code
