"""The headless ``photofix`` command line (no Qt here; the GUI is started by ``__main__``).

    photofix info IMAGE...
    photofix ops
    photofix process INPUT... -o OUT --op NAME[:key=value,...] [--op ...]
    photofix models list | install ID | verify [ID...] | import ID FILE

Failures print one line, ``photofix: error: <reason>``, and exit with status 1 (2 for a
mistake in the command itself). Outputs are written atomically: a failed run leaves no file.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import pickle
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from photofix import __version__
from photofix.core import imageio, outputs
from photofix.core.errors import PhotoFixError, SourceOverwrite
from photofix.inference.device import DevicePolicy
from photofix.inference.progress import Progress, ProgressInfo
from photofix.ops import REGISTRY, Layers, OpContext, parse_op_spec, run_operation

COMMANDS = ("info", "ops", "process", "models")
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
    proc.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
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
    if args.command == "models":
        return _cmd_models(args)
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
    for op in REGISTRY:
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
    if not args.op:
        raise CliError("nothing to do: give at least one --op (see 'photofix ops')")
    if not 1 <= args.quality <= 100:
        raise CliError("--quality must be between 1 and 100")
    chain = []
    for spec in args.op:
        name, raw = parse_op_spec(spec)
        op = REGISTRY.get(name)
        chain.append((op, op.resolve(raw)))
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
    makes_mask = any("mask" in op.writes and "hints" not in op.writes for op, _ in chain)
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
        for op, params in chain:
            width, height = _size_after(op, params, width, height)
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


def _process_one(job: _Job, chain: list, args: argparse.Namespace, policy: DevicePolicy) -> None:
    max_pixels = round(args.max_megapixels * 1e6) if args.max_megapixels > 0 else None
    loaded = imageio.load_image(job.source, max_pixels=max_pixels)
    h, w = loaded.rgb.shape[:2]
    mask = None if args.mask is None else imageio.load_mask(args.mask, (h, w))
    hints = hint_mask = None
    if args.hints is not None:
        hints, hint_mask = imageio.load_hints(args.hints, (h, w))
    layers = Layers(
        loaded.rgb, loaded.alpha, mask, hints, hint_mask, meta=loaded.meta, source=job.source
    )
    protect = [] if args.overwrite_source else [job.source]
    _check_writable(job.target, protect)

    with _ProgressBar(job.source.name, enabled=not args.quiet) as bar:
        progress = Progress(bar.update, notice_callback=bar.notice)
        for i, (op, params) in enumerate(chain):
            ctx = OpContext(
                progress=progress.sub(i / len(chain), (i + 1) / len(chain)), device=policy
            )
            layers = run_operation(op, layers, params, ctx)

    fmt = args.format or SUFFIX_FORMAT.get(job.target.suffix.lower())
    imageio.save_image(
        job.target,
        layers.image,
        alpha=layers.alpha,
        meta=loaded.meta,
        format=fmt,
        bit_depth=args.bit_depth,
        quality=args.quality,
        protect=protect,
    )
    if job.mask_target is not None:
        if layers.mask is None:
            raise CliError("--save-mask: no operation produced a mask and none was given")
        outputs.make_parent(job.mask_target)
        imageio.save_mask(job.mask_target, layers.mask)


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
