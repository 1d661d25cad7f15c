"""The headless ``photofix`` command line (no Qt here; the GUI is started by ``__main__``).

    photofix info IMAGE...
    photofix ops
    photofix process INPUT... -o OUT --op NAME[:key=value,...] [--op ...] [--recipe R.json]
    photofix reproduce RECORD.json [-o OUT] [--exact]
    photofix recipe export RECORD.json -o R.json
    photofix models list | install ID | verify [ID...] | import ID FILE

Failures print one line, ``photofix: error: <reason>``, and exit with status 1 (2 for a
mistake in the command itself). Outputs are written atomically: a failed run leaves no file.
Every output gets a provenance record beside it (``<output>.photofix.json``) and the same story
as XMP inside it, unless ``--no-record`` (see photofix.core.provenance).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import pickle
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from photofix import __version__
from photofix.core import imageio, outputs, provenance
from photofix.core.errors import PhotoFixError, SourceOverwrite
from photofix.core.progress import Progress, ProgressInfo
from photofix.core.recipe import Recipe, RecipeError, StepRecord, load_recipe
from photofix.inference.device import DevicePolicy
from photofix.ops import REGISTRY, Layers, OpContext, parse_op_spec
from photofix.ops.steps import HINT_PAINT, MASK_PAINT, StepRequest, check_steps, replay

COMMANDS = ("info", "ops", "process", "batch", "reproduce", "recipe", "models")
WRITE_SUFFIX = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg"}
SUFFIX_FORMAT = {".png": "png", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg"}


class CliError(PhotoFixError):
    """A problem with how the command was called (bad paths, conflicting options)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photofix",
        description="Restore scanned photographs. Without a command, opens the PhotoFix window"
        " (photofix [FILE...]).",
    )
    parser.add_argument("--version", action="version", version=f"PhotoFix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = sub.add_parser("info", help="describe image files (size, mode, bit depth, metadata)")
    info.add_argument("images", nargs="+", type=Path, metavar="IMAGE")

    sub.add_parser("ops", help="list the operations and their parameters")

    proc = sub.add_parser(
        "process",
        help="run a chain of operations on images, headless",
        description="Run operations in the order given on each INPUT and save the result.",
    )
    proc.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    proc.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUT",
        help="output file (one input) or directory",
    )
    proc.add_argument(
        "--op",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="operation to run; repeat for a chain (see 'photofix ops')",
    )
    proc.add_argument("--mask", type=Path, help="mask layer PNG (nonzero or opaque = set)")
    proc.add_argument("--hints", type=Path, help="colour-hint layer PNG (opaque = hint)")
    proc.add_argument(
        "--save-mask",
        type=Path,
        metavar="FILE",
        help="write the mask layer after the chain (a directory for several inputs)",
    )
    proc.add_argument("--format", choices=sorted(WRITE_SUFFIX), help="output format")
    proc.add_argument(
        "--bit-depth",
        type=int,
        choices=(8, 16),
        help="output bits per channel (default: as the source)",
    )
    proc.add_argument("--quality", type=int, default=95, help="JPEG quality 1-100 (default 95)")
    proc.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto")
    proc.add_argument(
        "--exact",
        action="store_true",
        help="float32 everywhere (reproducible across machines; slower than the"
        " default fp16 on CUDA / bf16 on CPUs that have it)",
    )
    proc.add_argument(
        "--max-megapixels",
        type=float,
        default=imageio.DEFAULT_MAX_PIXELS / 1e6,
        help="refuse larger images (default %(default)g)",
    )
    proc.add_argument(
        "--overwrite-source",
        action="store_true",
        help="allow an output to replace its own input file",
    )
    proc.add_argument(
        "--replace-read-only",
        action="store_true",
        help="allow replacing a read-only output file (it stays read-only)",
    )
    proc.add_argument(
        "--accept-damaged",
        action="store_true",
        help="process a damaged input (corrupt or truncated data) with what is readable,"
        " with a warning; by default a damaged input is an error",
    )
    proc.add_argument(
        "--recipe",
        type=Path,
        metavar="R.json",
        help="run the steps of a recipe (see 'photofix recipe export') before any --op",
    )
    _add_record_options(proc)
    proc.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    from photofix.batch import command as batch_command

    batch_command.add_parser(sub)
    _add_reproduce_parser(sub)
    _add_recipe_parser(sub)
    _add_models_parser(sub)
    return parser


def command_names(parser: argparse.ArgumentParser | None = None) -> list[str]:
    """The subcommands the parser knows (``info``, ``process``, ...), in their order."""
    parser = parser or build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with _one_line_warnings(), _signals_stop_cleanly():
        try:
            return _dispatch(parser, args)
        except PhotoFixError as exc:
            _error(str(exc))
            return 1
        except KeyboardInterrupt:
            _error("interrupted; no partial file was left")
            return 130
        except Terminated as exc:
            _error(f"stopped by {exc.name}; no partial file was left")
            return 128 + exc.signum
        except MemoryError:
            _error(
                "out of memory: the image is too large for this computer (try a smaller"
                " image, or lower --max-megapixels so such files are refused up front)"
            )
            return 1
        except pickle.UnpicklingError as exc:
            _error(
                "a model file holds more than plain weights and PhotoFix's safe loader refused"
                f" it{_refusal_detail(exc)}; it will not run code from a model file. Replace it"
                " with the published file ('photofix models install ID --force')"
            )
            return 1
        except OSError as exc:
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            _error(f"{(exc.strerror or str(exc)).lower()}{where}")
            return 1
        except Exception as exc:
            _error(f"unexpected failure ({type(exc).__name__}: {_first_line(exc)}); please report")
            return 1


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "info":
        return _cmd_info(args)
    if args.command == "ops":
        return _cmd_ops()
    if args.command == "process":
        return _cmd_process(args)
    if args.command == "batch":
        from photofix.batch import command as batch_command

        return batch_command.run(args)
    if args.command == "models":
        return _cmd_models(args)
    if args.command == "reproduce":
        return _cmd_reproduce(args)
    if args.command == "recipe":
        return _cmd_recipe(args)
    parser.print_help()
    return 0


def _error(message: str) -> None:
    print(f"photofix: error: {message}", file=sys.stderr)


def _refusal_detail(exc: BaseException) -> str:
    """What the unpickler met (torch's "Unsupported global: GLOBAL x.y"), without its advice
    to retry with the safety off."""
    for line in str(exc).splitlines():
        if "Unsupported global" in line or "Unsupported operand" in line:
            return f" ({line.split(':', 1)[-1].strip().rstrip('.')})"
    return ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C so atomic writes remove their temp files."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


@contextlib.contextmanager
def _signals_stop_cleanly() -> Iterator[None]:
    """SIGTERM/SIGHUP raise Terminated in the main thread for the duration of the command."""
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Terminated(signum)

    saved = {s: signal.signal(s, stop) for s in wanted}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Python warnings (ours and libraries') as ``photofix: warning: ...`` lines, once each;
    library log chatter (tifffile) is kept off stderr."""
    import logging

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if not issubclass(category, imageio.ImageWarning):
            return  # a library's advice to programmers is not for the person at the terminal
        text = str(message).strip().splitlines()
        print(f"photofix: warning: {text[0] if text else category.__name__}", file=sys.stderr)

    tiff_log = logging.getLogger("tifffile")
    saved_level = tiff_log.level
    tiff_log.setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        try:
            yield
        finally:
            tiff_log.setLevel(saved_level)


# ---- info ----------------------------------------------------------------------------------
def _cmd_info(args: argparse.Namespace) -> int:
    status = 0
    for path in args.images:
        try:
            meta = imageio.read_info(path, max_pixels=None)
        except PhotoFixError as exc:
            _error(str(exc))
            status = 1
            continue
        print(f"{path}:")
        for key, value in describe(meta).items():
            print(f"  {key + ':':<12} {value}")
        try:
            record = provenance.read_record(path)
        except PhotoFixError:
            record = None
        if record is not None:
            ops = ", ".join(s["op"] for s in record.get("steps", [])) or "no steps"
            print(f"  {'PhotoFix:':<12} {ops} (recorded in the {record['recorded_in']})")
    return status


def describe(meta: imageio.ImageMeta) -> dict[str, str]:
    """Human-readable facts about an image, as `photofix info` prints them."""
    mp = meta.width * meta.height / 1e6
    facts = {
        "format": meta.format,
        "size": f"{meta.width} x {meta.height} px ({mp:.1f} MP)",
        "mode": meta.source_mode + (" (grayscale)" if meta.grayscale else ""),
        "bit depth": f"{meta.bit_depth} bits per channel",
        "alpha": "yes" if meta.has_alpha else "no",
        "ICC profile": f"yes ({len(meta.icc_profile)} bytes)" if meta.icc_profile else "no",
        "EXIF": f"yes ({len(meta.exif)} bytes)" if meta.exif else "no",
        "XMP": "yes" if meta.xmp else "no",
        "DPI": f"{meta.dpi[0]:g} x {meta.dpi[1]:g}" if meta.dpi else "not set",
        "orientation": str(meta.orientation),
    }
    if meta.n_pages > 1:
        facts["pages"] = f"{meta.n_pages} (PhotoFix reads the first)"
    return facts


# ---- ops -----------------------------------------------------------------------------------
def _cmd_ops() -> int:
    from photofix.ops.steps import ENGINE_OPERATIONS, proposal_operation

    extra = [*ENGINE_OPERATIONS.values(), *(proposal_operation(o) for o in REGISTRY if o.review)]
    for op in [*REGISTRY, *extra]:
        print(f"{op.name}: {op.summary}")
        for p in op.params:
            default = "" if p.default is None else f" (default {_fmt(p.default)})"
            print(f"    {p.name}={p._expected()}{default}  {p.help}")
    return 0


def _fmt(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# ---- process -------------------------------------------------------------------------------
_Job = outputs.Job


def _cmd_process(args: argparse.Namespace) -> int:
    if not args.op and args.recipe is None:
        raise CliError("nothing to do: give at least one --op or --recipe (see 'photofix ops')")
    if not 1 <= args.quality <= 100:
        raise CliError("--quality must be between 1 and 100")
    # every step is checked (operation, parameters, blend) before any image is read
    chain = [] if args.recipe is None else check_steps(load_recipe(args.recipe))
    chain += check_steps([StepRequest(name, raw) for name, raw in map(parse_op_spec, args.op)])
    if any(step.operation().name == "split-scan" for step in chain[:-1]):
        raise CliError("split-scan makes one image per print: give it as the last --op")
    jobs = _plan_jobs(args)
    _preflight(jobs, chain, args)
    policy = DevicePolicy(preference=args.device, half_precision=not args.exact)
    failures = 0
    with (
        imageio.accepting_damaged(args.accept_damaged),
        imageio.replacing_read_only(args.replace_read_only),
    ):
        for job in jobs:
            try:
                # a folder, a FIFO, a missing or unreadable file: its own line, before anything
                # opens it (hashing a FIFO for the record would wait forever)
                imageio.read_info(job.source, max_pixels=None)
                _process_one(job, chain, args, policy)
            except PhotoFixError as exc:
                failures += 1
                _error(str(exc) if len(jobs) == 1 else f"{job.source.name}: {exc}")
    if failures and len(jobs) > 1:
        _error(f"{failures} of {len(jobs)} images failed")
    return 1 if failures else 0


def _plan_jobs(args: argparse.Namespace) -> list[outputs.Job]:
    """Every output named and checked (collisions, protected reads, writability) before any
    pixel is decoded."""
    return outputs.plan_outputs(
        args.inputs,
        args.output,
        write_suffix=WRITE_SUFFIX,
        suffix_format={**SUFFIX_FORMAT, **imageio.writable_suffixes()},
        fmt=args.format,
        save_mask=args.save_mask,
        reads=(args.mask, args.hints),
        overwrite_source=args.overwrite_source,
        replace_read_only=getattr(args, "replace_read_only", False),
    )


def _max_pixels(args: argparse.Namespace) -> int | None:
    limit = args.max_megapixels
    if math.isnan(limit):
        raise CliError("--max-megapixels must be a number (0 for no limit)")
    if limit <= 0 or math.isinf(limit):
        return None
    return max(1, round(limit * 1e6))


def _preflight(jobs: list[outputs.Job], chain: list, args: argparse.Namespace) -> None:
    """Checks that need no pixels, done before the first image is decoded: the mask to save
    will exist, and each input's header size and final size fit the megapixel limit."""
    max_pixels = _max_pixels(args)
    args.max_megapixels = 0 if max_pixels is None else max_pixels / 1e6
    steps = [(step.operation(), step.params) for step in chain]
    makes_mask = any("mask" in op.writes and "hints" not in op.writes for op, _ in steps)
    if args.save_mask is not None and args.mask is None and not makes_mask:
        raise CliError(
            "--save-mask: no operation in the chain makes a mask and no --mask was given"
        )
    for job in jobs:
        try:
            meta = imageio.read_info(job.source, max_pixels=max_pixels)
        except PhotoFixError:
            continue  # reported per image when it is processed
        width, height = meta.width, meta.height
        for op, given in steps:
            width, height = _size_after(op, op.resolve(given), width, height)
        if max_pixels is not None and width * height > max_pixels:
            raise CliError(
                f"{job.source.name}: the result would be {width} × {height} ="
                f" {width * height / 1e6:,.1f} megapixels, more than the limit of"
                f" {max_pixels / 1e6:g} (--max-megapixels); nothing was done"
            )


def _size_after(op: object, params: dict, width: int, height: int) -> tuple[int, int]:
    """The image size after ``op`` (only resizing operations change it)."""
    from photofix.ops import resize, upscale

    name = getattr(op, "name", "")
    if name == "resize":
        return resize.target_size(width, height, params)
    if name == "upscale":
        return upscale._target(height, width, params)
    return width, height


def _process_one(
    job: _Job, chain: list[StepRequest], args: argparse.Namespace, policy: DevicePolicy
) -> list[StepRecord]:
    """Load, run the chain through the step engine, save with its record; returns the steps'
    records."""
    max_pixels = round(args.max_megapixels * 1e6) if args.max_megapixels > 0 else None
    started = provenance.now()
    source_sha = None if args.no_record else provenance.file_sha256(job.source)
    loaded = imageio.load_image(job.source, max_pixels=max_pixels)
    h, w = loaded.rgb.shape[:2]
    steps: list[StepRequest] = list(chain)
    per_image: dict[str, Any] = {}
    if args.mask is not None:  # a mask file is per-image data: recorded as a painted mask
        per_image["mask"] = imageio.load_mask(args.mask, (h, w))
        if not any(s.operation() is MASK_PAINT for s in steps):
            label = f"Mask from {args.mask.name}"
            steps.insert(0, StepRequest(MASK_PAINT, label=label, mask=per_image["mask"]))
    if args.hints is not None:
        per_image["hints"] = imageio.load_hints(args.hints, (h, w))
        if not any(s.operation() is HINT_PAINT for s in steps):
            label = f"Hints from {args.hints.name}"
            steps.insert(0, StepRequest(HINT_PAINT, label=label, hints=per_image["hints"]))
    # The step engine gets the only reference to the loaded pixels, so each step's input is
    # let go once the step is done and the save holds the result alone: peak memory is the
    # input and output of one step, not the source, every intermediate and the result.
    start = [Layers(loaded.rgb, loaded.alpha, meta=loaded.meta, source=job.source)]
    source_meta = loaded.meta
    del loaded
    protect = [] if args.overwrite_source else [job.source]
    _check_writable(job.target, protect)

    def supply(index: int, step: StepRequest) -> Any:
        kind = "hints" if step.operation() is HINT_PAINT else "mask"
        if kind in per_image:
            return per_image[kind]
        raise CliError(
            f"step {index + 1} ({step.operation().name}) was painted on another image;"
            f" give this image's own with --{kind} FILE"
        )

    with _ProgressBar(job.source.name, enabled=not args.quiet) as bar:
        progress = Progress(bar.update, notice_callback=bar.notice)
        context = OpContext(progress=progress, device=policy)
        done = replay(steps, start.pop(), context, per_image=supply)
    layers = done.layers

    for target, result in _outputs(job.target, layers):
        provenance.save_recorded(
            target,
            result.image,
            done.records,
            source=job.source,
            alpha=result.alpha,
            meta=result.meta,
            source_sha256=source_sha,
            source_meta=source_meta,
            operator=args.operator,
            started=started,
            runtime=provenance.runtime_info(_devices(done.records), exact=args.exact),
            record=not args.no_record,
            format=args.format or SUFFIX_FORMAT.get(job.target.suffix.lower()),
            bit_depth=args.bit_depth,
            quality=args.quality,
            protect=protect,
        )
    if job.mask_target is not None:
        if layers.mask is None:
            raise CliError("--save-mask: no operation produced a mask and none was given")
        outputs.make_parent(job.mask_target)
        imageio.save_mask(job.mask_target, layers.mask)
    return done.records


def _outputs(target: Path, layers: Layers) -> list[tuple[Path, Layers]]:
    """Where each result goes: ``target`` itself, or for an operation that makes several
    images (split-scan) ``<stem>-1``, ``<stem>-2``, ... beside it (OUT is then a folder)."""
    parts = getattr(layers, "parts", None)
    if parts is None:
        return [(target, layers)]
    return [(target.with_name(f"{target.stem}-{i}{target.suffix}"), part)
            for i, part in enumerate(parts, 1)]  # fmt: skip


def _check_writable(target: Path, protect: list[Path]) -> None:
    """Fail before the (possibly long) work when the output cannot be written."""
    try:
        imageio.refuse_protected(target, protect)
    except SourceOverwrite as exc:
        raise SourceOverwrite(f"{exc} (or pass --overwrite-source)") from None
    outputs.check_writable(target, replace_read_only=imageio.replacing_read_only_now())
    outputs.make_parent(target)


class _ProgressBar:
    """A tqdm bar on stderr (only on a terminal), fed from Progress callbacks."""

    def __init__(self, label: str, enabled: bool) -> None:
        self._label = label
        self._enabled = enabled and sys.stderr.isatty()
        self._bar = None

    def __enter__(self) -> _ProgressBar:
        if self._enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=1000,
                desc=self._label,
                file=sys.stderr,
                leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def update(self, info: ProgressInfo) -> None:
        if self._bar is None:
            return
        self._bar.n = round(info.fraction * 1000)
        eta = "" if info.eta_seconds is None else f" ETA {info.eta_seconds:.0f}s"
        self._bar.set_postfix_str(f"{info.message}{eta}", refresh=True)

    def notice(self, message: str) -> None:
        print(f"photofix: note: {message}", file=sys.stderr)


# ---- models: downloadable weights (list, install, verify, import) --------------------------
def _add_models_parser(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="list, install and verify downloadable models")
    verbs = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    verbs.add_parser("list", help="every model, its licence and whether it is installed")
    install = verbs.add_parser("install", help="download and verify a model's weights")
    install.add_argument("model_id", metavar="ID")
    install.add_argument("--force", action="store_true", help="download again even if present")
    verify = verbs.add_parser("verify", help="check installed weights against their SHA-256")
    verify.add_argument("model_ids", nargs="*", metavar="ID", help="default: every installed")
    imp = verbs.add_parser("import", help="install a weights file downloaded elsewhere")
    imp.add_argument("model_id", metavar="ID")
    imp.add_argument("file", type=Path, metavar="FILE")


def _cmd_models(args: argparse.Namespace) -> int:
    from photofix.models import MODELS, get_model
    from photofix.models import download as dl
    from photofix.models.spec import ModelSpec

    def downloadable(model_id: str) -> ModelSpec:
        spec = get_model(model_id)
        if not isinstance(spec.weights, dl.DownloadWeights):
            raise CliError(f"{model_id} comes with a Python package; nothing to download")
        return spec

    if args.models_command == "list":
        for spec in MODELS.values():
            if isinstance(spec.weights, dl.DownloadWeights):
                st = dl.status(spec)
                state = st.state + (f" ({st.detail})" if st.detail else "")
                where = f"download, {spec.weights.size_text}: {state}"
            else:
                where = f"from the package {spec.weights.distribution}"
            print(f"{spec.id:<24} {spec.task:<9} {where}\n{'':<24} {spec.licence}")
        return 0
    if args.models_command == "install":
        spec = downloadable(args.model_id)
        with _ProgressBar(spec.id, enabled=True) as bar:
            path = dl.install(spec, Progress(bar.update, notice_callback=bar.notice),
                              force=args.force)  # fmt: skip
        print(f"{spec.id}: installed and verified ({path})")
        return 0
    if args.models_command == "import":
        spec = downloadable(args.model_id)
        print(f"{spec.id}: verified and installed ({dl.import_file(spec, args.file)})")
        return 0
    specs = [downloadable(m) for m in args.model_ids] or [
        s for s in MODELS.values()
        if isinstance(s.weights, dl.DownloadWeights) and s.weights.path().is_file()
    ]  # fmt: skip
    failures = 0
    for spec in specs:
        try:
            dl.verify(spec)
            print(f"{spec.id}: OK")
        except PhotoFixError as exc:
            failures += 1
            _error(f"{spec.id}: {exc}")
    if not specs:
        print("no downloadable model is installed")
    return 1 if failures else 0


# ---- provenance records --------------------------------------------------------------------
def _add_record_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="write no provenance (no OUT.photofix.json beside the output, no XMP history)",
    )
    parser.add_argument(
        "--operator", metavar="NAME", help="who ran the treatment, for the provenance record"
    )


def _devices(records: list[StepRecord]) -> str:
    used = sorted({m.device for r in records for m in r.models})
    return ", ".join(used) or "cpu"


# ---- reproduce -----------------------------------------------------------------------------
def _add_reproduce_parser(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser(
        "reproduce",
        help="run a recorded treatment again and check the result is bit-identical",
        description="Check that the recorded input is unchanged (SHA-256), run its steps again"
        " and compare the pixels with the recorded output.",
    )
    rep.add_argument("record", type=Path, metavar="RECORD", help="OUT.photofix.json (or OUT)")
    rep.add_argument("-o", "--output", type=Path, metavar="OUT", help="where to write the result")
    rep.add_argument("--input", type=Path, help="the input, if it moved since the record")
    rep.add_argument("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto")
    rep.add_argument(
        "--exact", action="store_true", help="float32 everywhere (bit-identical on every CPU)"
    )
    _add_record_options(rep)
    rep.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _cmd_reproduce(args: argparse.Namespace) -> int:
    record = provenance.read_record(args.record)
    if record is None:
        raise CliError(f"{args.record.name} carries no PhotoFix record")
    if record.get("recorded_in") == "xmp" or not record.get("output"):
        raise CliError(
            f"{args.record.name}: reproduce needs the record written beside the output"
            f" ({provenance.SIDECAR_SUFFIX}), which holds the masks and the output's hash"
        )
    base = args.record.parent
    source = args.input or Path(record["input"]["path"])
    if not source.is_file():
        raise CliError(f"the recorded input {source} is not there; give it with --input PATH")
    recorded = record["input"]["sha256"]
    actual = provenance.file_sha256(source)
    if actual != recorded:
        raise CliError(
            f"{source.name} is not the recorded input: its SHA-256 is {actual[:16]}…, the record"
            f" says {recorded[:16]}… (the file was edited or replaced), so nothing was run"
        )
    steps = provenance.load_step_data(record, base)
    out = record["output"]
    target = args.output or base / _reproduced_name(out["name"])
    exact = args.exact or record["runtime"].get("exact", False)
    fmt = SUFFIX_FORMAT.get(target.suffix.lower()) or out["format"].lower()
    ns = argparse.Namespace(
        max_megapixels=0,
        mask=None,
        hints=None,
        overwrite_source=False,
        quiet=args.quiet,
        format=fmt,
        bit_depth=out.get("bit_depth"),
        quality=out.get("quality", 95),
        no_record=args.no_record,
        operator=args.operator,
        exact=exact,
    )
    requests = _requests_of(steps)
    policy = DevicePolicy(preference=args.device, half_precision=not exact)
    _process_one(_Job(source, target, None), requests, ns, policy)
    same = provenance.pixels_sha256(target) == out.get("pixels_sha256")
    if not same:
        _error(
            f"{target.name} differs from the recorded output {out['name']}"
            f" (recorded on {record['runtime'].get('device')}, {record['runtime'].get('os')})"
        )
        return 1
    print(f"{target}: bit-identical to the recorded {out['name']}")
    return 0


def _reproduced_name(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.reproduced.{suffix}" if dot else f"{name}.reproduced"


def _requests_of(steps: list[StepRecord]) -> list[StepRequest]:
    """The recorded steps as requests, each with the painted data it recorded."""
    out = check_steps(steps)
    for i, step in enumerate(steps):
        if step.mask is not None and step.mask.role == "painted":
            out[i] = dataclasses.replace(out[i], mask=step.mask.array())
        if step.hints is not None and step.hints.hints is not None:
            out[i] = dataclasses.replace(out[i], hints=(step.hints.hints, step.hints.hint_mask))
    return out


# ---- recipes -------------------------------------------------------------------------------
def _add_recipe_parser(sub: argparse._SubParsersAction) -> None:
    recipe = sub.add_parser("recipe", help="export a recorded treatment as a reusable recipe")
    verbs = recipe.add_subparsers(dest="recipe_command", metavar="ACTION", required=True)
    export = verbs.add_parser(
        "export",
        help="write the steps of a record as a recipe (no per-image data)",
        description="Write RECORD's steps as a versioned recipe for 'photofix process --recipe'."
        " Detection steps stay detection; painted masks are marked per-image (give --mask).",
    )
    export.add_argument("record", type=Path, metavar="RECORD")
    export.add_argument("-o", "--output", type=Path, required=True, metavar="R.json")
    check = verbs.add_parser("check", help="validate a recipe without reading any image")
    check.add_argument("recipe", type=Path, metavar="R.json")


def _cmd_recipe(args: argparse.Namespace) -> int:
    if args.recipe_command == "check":
        recipe = load_recipe(args.recipe)
        check_steps(recipe)
        for i, step in enumerate(recipe.steps, 1):
            extra = f" (per image: {step.per_image})" if step.per_image else ""
            print(f"{i}. {step.op}{extra}")
        return 0
    record = provenance.read_record(args.record)
    if record is None:
        raise CliError(f"{args.record.name} carries no PhotoFix record")
    steps = [StepRecord.from_dict(s) for s in record.get("steps", [])]
    recipe = Recipe.from_records(steps, record.get("app", {}).get("version"))
    try:
        check_steps(recipe)
    except RecipeError as exc:
        raise CliError(f"{args.record.name}: {exc}") from None
    text = recipe.dumps()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    imageio.atomic_write(args.output, lambda temp: temp.write_text(text, encoding="utf-8"))
    per_image = [s.op for s in recipe.steps if s.per_image]
    note = f"; per-image: {', '.join(per_image)}" if per_image else ""
    print(f"{args.output}: {len(recipe.steps)} steps{note}")
    return 0
