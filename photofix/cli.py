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
import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photofix import __version__
from photofix.core import imageio, provenance
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
    except PhotoFixError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _error(message: str) -> None:
    print(f"photofix: error: {message}", file=sys.stderr)


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
@dataclass
class _Job:
    source: Path
    target: Path
    mask_target: Path | None


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
    policy = DevicePolicy(preference=args.device, half_precision=not args.exact)
    failures = 0
    for job in jobs:
        try:
            _process_one(job, chain, args, policy)
        except PhotoFixError as exc:
            failures += 1
            _error(str(exc) if len(jobs) == 1 else f"{job.source.name}: {exc}")
    if failures and len(jobs) > 1:
        _error(f"{failures} of {len(jobs)} images failed")
    return 1 if failures else 0


def _plan_jobs(args: argparse.Namespace) -> list[_Job]:
    inputs: list[Path] = args.inputs
    out: Path = args.output
    many = len(inputs) > 1
    as_dir = many or out.is_dir() or str(out).endswith(("/", "\\")) or not out.suffix
    if as_dir and out.exists() and not out.is_dir():
        raise CliError(f"{out} is a file, but several inputs need an output directory")
    if not as_dir and args.format and SUFFIX_FORMAT.get(out.suffix.lower()) != args.format:
        raise CliError(f"--format {args.format} does not match the output name {out.name}")
    mask_dir = many and args.save_mask is not None
    if mask_dir and args.save_mask.exists() and not args.save_mask.is_dir():
        raise CliError("with several inputs, --save-mask must be a directory")
    jobs = []
    for src in inputs:
        if as_dir:
            fmt = args.format or SUFFIX_FORMAT.get(src.suffix.lower(), "png")
            target = out / (src.stem + WRITE_SUFFIX[fmt])
        else:
            target = out
        mask_target = args.save_mask / f"{src.stem}_mask.png" if mask_dir else args.save_mask
        jobs.append(_Job(src, target, mask_target))
    targets = [j.target.resolve() for j in jobs]
    if len(set(targets)) != len(targets):
        raise CliError("two inputs would be written to the same output name")
    return jobs


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
    layers = Layers(loaded.rgb, loaded.alpha, meta=loaded.meta, source=job.source)
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
        done = replay(steps, layers, context, per_image=supply)
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
            source_meta=loaded.meta,
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
        job.mask_target.parent.mkdir(parents=True, exist_ok=True)
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
    target.parent.mkdir(parents=True, exist_ok=True)


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
