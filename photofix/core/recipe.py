"""Step records and recipes: what one step did, and a portable list of steps to run again.

Pure data (numpy only; no torch, no Qt), shared by the step engine (:mod:`photofix.ops.steps`),
the Document's journal, provenance sidecars (:mod:`photofix.core.provenance`) and recipes.

:class:`StepRecord`
    One step as it ran: operation name and version, the parameters as given, complete (what a
    replay uses) and as the operation resolved them (``resolved``: the σ it measured, the JPEG
    level read, the concrete model ids), the blend, every model run (weight SHA-256, licence,
    device, dtype, the tile size after any out-of-memory retry), seeds, and the mask the step
    read (SHA-256 and the packed pixels, written as a PNG beside a record on disk).
:class:`StepFacts`
    What an operation reports while it runs (``ctx.facts`` in an :class:`OpContext`). The model
    runner and the tiler report to the facts of the step running on their thread
    (:func:`current_facts`), so an operation that runs a model records it without any code.
:class:`Recipe`
    A versioned list of :class:`RecipeStep` without per-image data. ``migrate`` brings an older
    recipe to :data:`RECIPE_VERSION` through the declarative :data:`MIGRATIONS` table.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from photofix.core.errors import PhotoFixError

RECORD_FORMAT = "photofix-record"
RECORD_VERSION = 1
RECIPE_FORMAT = "photofix-recipe"
RECIPE_VERSION = 2

MASK_ROLES = ("read", "limit", "painted", "proposed")
"""How a step used its mask: ``read`` (the operation fills it, e.g. inpaint), ``limit`` (the
blend kept the change inside it), ``painted`` (a brush or mask file set it: per-image data),
``proposed`` (a detector found it; a replay detects again)."""

SYNTHESIS_TASKS = ("upscale", "colorize", "inpaint")
"""Model tasks whose networks synthesise new pixels (not only enhance existing ones)."""


class RecipeError(PhotoFixError):
    """A recipe or record that cannot be used: unknown operation, bad parameter, bad file."""


# ---- masks ---------------------------------------------------------------------------------
def mask_sha256(mask: np.ndarray) -> str:
    """SHA-256 of a bool HxW mask as 8-bit samples (set = 255, clear = 0), row by row: the
    digest of the pixels a mask PNG written by PhotoFix decodes to."""
    samples = np.where(np.asarray(mask, bool), np.uint8(255), np.uint8(0))
    return hashlib.sha256(np.ascontiguousarray(samples).tobytes()).hexdigest()


@dataclass
class MaskRef:
    """A mask a step used: its role, size and digest; ``bits`` holds the pixels packed 8 to a
    byte (in memory only; on disk the mask is a PNG named ``file`` beside the record)."""

    role: str
    sha256: str
    width: int
    height: int
    set_pixels: int
    file: str | None = None
    bits: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, mask: np.ndarray, role: str) -> MaskRef:
        if role not in MASK_ROLES:
            raise ValueError(f"mask role must be one of {MASK_ROLES}, got {role!r}")
        mask = np.asarray(mask, bool)
        h, w = mask.shape
        return cls(role, mask_sha256(mask), w, h, int(mask.sum()), bits=np.packbits(mask))

    def array(self) -> np.ndarray | None:
        """The mask as bool HxW, or None when only the digest is known."""
        if self.bits is None:
            return None
        n = self.width * self.height
        return np.unpackbits(self.bits, count=n).reshape(self.height, self.width).astype(bool)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "bits"}
        if out["file"] is None:
            del out["file"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MaskRef:
        return cls(
            data["role"],
            data["sha256"],
            int(data["width"]),
            int(data["height"]),
            int(data["set_pixels"]),
            data.get("file"),
        )


@dataclass
class HintsRef:
    """Colour hints a step set (per-image data): digest, count, and in memory the arrays; on
    disk a float32 RGBA TIFF (colour + presence) named ``file`` beside the record."""

    sha256: str
    width: int
    height: int
    set_pixels: int
    file: str | None = None
    hints: np.ndarray | None = field(default=None, repr=False, compare=False)
    hint_mask: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, hints: np.ndarray, hint_mask: np.ndarray) -> HintsRef:
        hints = np.ascontiguousarray(hints, np.float32)
        hint_mask = np.ascontiguousarray(hint_mask, bool)
        digest = hashlib.sha256(hints.tobytes() + hint_mask.tobytes()).hexdigest()
        h, w = hint_mask.shape
        return cls(digest, w, h, int(hint_mask.sum()), None, hints.copy(), hint_mask.copy())

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("sha256", "width", "height", "set_pixels")}
        if self.file:
            out["file"] = self.file
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HintsRef:
        return cls(
            data["sha256"],
            int(data["width"]),
            int(data["height"]),
            int(data["set_pixels"]),
            data.get("file"),
        )


# ---- what a step records -------------------------------------------------------------------
@dataclass(frozen=True)
class Blend:
    """How a step's result is mixed with its input: ``strength`` in [0, 1]; with
    ``limit_to_mask`` only inside the mask, softened over ``feather`` px."""

    strength: float = 1.0
    limit_to_mask: bool = False
    feather: float = 0.0

    @property
    def is_plain(self) -> bool:
        """The result replaces the input everywhere (no blending at all)."""
        return self.strength == 1.0 and not self.limit_to_mask

    def to_dict(self) -> dict[str, Any]:
        return {
            "strength": float(self.strength),
            "limit_to_mask": bool(self.limit_to_mask),
            "feather": float(self.feather),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Blend:
        data = data or {}
        return cls(
            float(data.get("strength", 1.0)),
            bool(data.get("limit_to_mask", False)),
            float(data.get("feather", 0.0)),
        )


@dataclass
class ModelUse:
    """One model run inside a step: id, task, weight SHA-256, licence, where and how it ran."""

    id: str
    task: str
    sha256: str | None
    licence: str
    device: str
    dtype: str
    tile: int | None = None
    runs: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelUse:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class StepFacts:
    """What an operation chose while it ran (``ctx.facts``): collected into its StepRecord.

    ``resolve(name, value)``: a parameter the operation decided (σ for ``sigma=auto``, the
    JPEG level read from the file, the concrete model id); ``seed(name, value)``: a random
    seed; ``model(...)``: a network run (the runner calls it); ``tiling(tile, device)``: the
    tile size the tiler finally used (smaller after an out-of-memory retry).
    ``attach(name, value)``: data handed back to the caller with the step's result and never
    recorded (the regions a detection found, for a GUI to list).
    """

    def __init__(self) -> None:
        self.resolved: dict[str, Any] = {}
        self.seeds: dict[str, int] = {}
        self.models: list[ModelUse] = []
        self.attachments: dict[str, Any] = {}
        self._tiling: tuple[int, str | None] | None = None

    def resolve(self, name: str, value: Any) -> None:
        self.resolved[name] = _jsonable(value)

    def attach(self, name: str, value: Any) -> None:
        """Hand ``value`` back with the step's result (``StepResult.attachments``): in memory
        only, never part of the record, so it may be any object (arrays, regions)."""
        self.attachments[name] = value

    def seed(self, name: str, value: int) -> None:
        self.seeds[name] = int(value)

    def tiling(self, tile: int, device: str | None = None) -> None:
        """The tiler's last pass: its tile size, and "cpu" when it fell back to the CPU."""
        self._tiling = (int(tile), device)

    def take_tiling(self) -> tuple[int, str | None] | None:
        out, self._tiling = self._tiling, None
        return out

    def model(self, use: ModelUse) -> None:
        for known in self.models:
            same = (known.id, known.device, known.dtype, known.tile)
            if same == (use.id, use.device, use.dtype, use.tile):
                known.runs += use.runs
                return
        self.models.append(use)


_CURRENT: contextvars.ContextVar[StepFacts | None] = contextvars.ContextVar(
    "photofix_step_facts", default=None
)


def current_facts() -> StepFacts | None:
    """The facts of the step running on this thread (None outside the step engine)."""
    return _CURRENT.get()


@contextlib.contextmanager
def collecting(facts: StepFacts) -> Iterator[StepFacts]:
    """Make ``facts`` the current facts while the block runs (the step engine does this)."""
    token = _CURRENT.set(facts)
    try:
        yield facts
    finally:
        _CURRENT.reset(token)


@dataclass
class StepRecord:
    """One step as it ran (see the module docstring). ``params`` is complete (defaults filled)
    and is what a replay passes; ``given`` is what the user set; ``resolved`` what the
    operation decided itself. ``synthesised``: a network made new pixels (upscale, colorize,
    learned fill)."""

    op: str
    version: int
    label: str
    params: dict[str, Any]
    given: dict[str, Any] = field(default_factory=dict)
    resolved: dict[str, Any] = field(default_factory=dict)
    blend: Blend = field(default_factory=Blend)
    models: list[ModelUse] = field(default_factory=list)
    device: str = "cpu"
    dtype: str = "float32"
    tile: int | None = None
    seeds: dict[str, int] = field(default_factory=dict)
    mask: MaskRef | None = None
    hints: HintsRef | None = None
    synthesised: bool = False
    notices: list[str] = field(default_factory=list)
    started: str | None = None
    seconds: float | None = None
    size_before: tuple[int, int] | None = None
    size_after: tuple[int, int] | None = None

    @property
    def per_image(self) -> bool:
        """The step carries data of one image (a painted mask): a recipe cannot replay it on
        another image without that image's own mask."""
        return self.hints is not None or (self.mask is not None and self.mask.role == "painted")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "op": self.op,
            "version": self.version,
            "label": self.label,
            "params": _jsonable(self.params),
            "given": _jsonable(self.given),
            "resolved": _jsonable(self.resolved),
            "blend": self.blend.to_dict(),
            "models": [m.to_dict() for m in self.models],
            "device": self.device,
            "dtype": self.dtype,
            "tile": self.tile,
            "seeds": dict(self.seeds),
            "mask": None if self.mask is None else self.mask.to_dict(),
            "hints": None if self.hints is None else self.hints.to_dict(),
            "synthesised": self.synthesised,
            "notices": list(self.notices),
            "started": self.started,
            "seconds": self.seconds,
            "size_before": None if self.size_before is None else list(self.size_before),
            "size_after": None if self.size_after is None else list(self.size_after),
        }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepRecord:
        size = lambda v: None if v is None else (int(v[0]), int(v[1]))  # noqa: E731
        return cls(
            op=data["op"],
            version=int(data.get("version", 1)),
            label=data.get("label", data["op"]),
            params=dict(data.get("params", {})),
            given=dict(data.get("given", {})),
            resolved=dict(data.get("resolved", {})),
            blend=Blend.from_dict(data.get("blend")),
            models=[ModelUse.from_dict(m) for m in data.get("models", [])],
            device=data.get("device", "cpu"),
            dtype=data.get("dtype", "float32"),
            tile=data.get("tile"),
            seeds={k: int(v) for k, v in data.get("seeds", {}).items()},
            mask=None if data.get("mask") is None else MaskRef.from_dict(data["mask"]),
            hints=None if data.get("hints") is None else HintsRef.from_dict(data["hints"]),
            synthesised=bool(data.get("synthesised", False)),
            notices=list(data.get("notices", [])),
            started=data.get("started"),
            seconds=data.get("seconds"),
            size_before=size(data.get("size_before")),
            size_after=size(data.get("size_after")),
        )


def _jsonable(value: Any) -> Any:
    """Plain JSON values (numpy scalars to Python, tuples to lists, paths to text)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


# ---- recipes -------------------------------------------------------------------------------
@dataclass
class RecipeStep:
    """One step of a recipe: an operation, its parameters and blend. ``per_image`` names data
    each image must bring (``"mask"``: a painted mask, given with ``--mask``). ``review``: a
    batch stops each image at this step and lists it for a person to check its proposal
    (``photofix batch``)."""

    op: str
    params: dict[str, Any] = field(default_factory=dict)
    blend: Blend = field(default_factory=Blend)
    version: int = 1
    per_image: str | None = None
    label: str | None = None
    review: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "version": self.version, "params": self.params}
        if not self.blend.is_plain or self.blend.feather:
            out["blend"] = self.blend.to_dict()
        if self.per_image:
            out["per_image"] = self.per_image
        if self.label:
            out["label"] = self.label
        if self.review:
            out["review"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecipeStep:
        return cls(
            op=str(data["op"]),
            params=dict(data.get("params", {})),
            blend=Blend.from_dict(data.get("blend")),
            version=int(data.get("version", 1)),
            per_image=data.get("per_image"),
            label=data.get("label"),
            review=bool(data.get("review", False)),
        )

    @classmethod
    def from_record(cls, record: StepRecord) -> RecipeStep:
        """The record without its per-image data: a proposal replays as detection, a painted
        mask is marked per-image, the parameters as given with defaults (not the values an
        ``auto`` resolved to on that one image)."""
        return cls(
            op=record.op,
            params=dict(record.params),
            blend=record.blend,
            version=record.version,
            per_image=_per_image(record),
            label=record.label,
        )


def _per_image(record: StepRecord) -> str | None:
    if not record.per_image:
        return None
    return "hints" if record.hints is not None else "mask"


@dataclass
class Recipe:
    """A versioned list of steps to run on any image (see :func:`load_recipe`)."""

    steps: list[RecipeStep]
    app_version: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": RECIPE_FORMAT,
            "version": RECIPE_VERSION,
            "steps": [s.to_dict() for s in self.steps],
        }
        if self.app_version:
            out["app_version"] = self.app_version
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_records(cls, records: list[StepRecord], app_version: str | None = None) -> Recipe:
        return cls([RecipeStep.from_record(r) for r in records], app_version)

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


# Declarative migrations, as chaiNNer's: each entry takes a recipe of version ``from`` to
# ``to`` by a list of rules, applied in order to every step.
#   ("blend_from_params", {param: blend_key, ...}) move mixed-in blend keys into "blend"
#   ("value_map", param, {old: new})               rename a parameter value
#   ("rename_op", old, new)                        an operation that changed its name
#   ("rename_param", op, old, new)                 a parameter that changed its name
#   ("drop_param", op, name)                       a parameter that no longer exists
MIGRATIONS: list[dict[str, Any]] = [
    {
        # version 1 is the step list the history stored before blends were recorded apart:
        # {"op": ..., "params": {..., "strength": s, "mask": "limit", "feather": f}}
        "from": 1,
        "to": 2,
        "rules": [
            ("value_map", "mask", {"limit": True}),
            (
                "blend_from_params",
                {"strength": "strength", "mask": "limit_to_mask", "feather": "feather"},
            ),
            ("rename_op", "paint", "mask-paint"),
        ],
    },
]


def migrate(data: Mapping[str, Any]) -> dict[str, Any]:
    """A recipe dict brought to :data:`RECIPE_VERSION` by :data:`MIGRATIONS` (RecipeError for
    a newer or unknown version)."""
    data = copy.deepcopy(dict(data))
    version = int(data.get("version", 1))
    if version > RECIPE_VERSION:
        raise RecipeError(
            f"the recipe is version {version}, newer than this PhotoFix reads"
            f" ({RECIPE_VERSION}); update PhotoFix"
        )
    while version < RECIPE_VERSION:
        step = next((m for m in MIGRATIONS if m["from"] == version), None)
        if step is None:
            raise RecipeError(f"no migration from recipe version {version}")
        data["steps"] = [_apply_rules(dict(s), step["rules"]) for s in data.get("steps", [])]
        version = step["to"]
    data["version"] = version
    data["format"] = RECIPE_FORMAT
    return data


def _apply_rules(step: dict[str, Any], rules: list[tuple]) -> dict[str, Any]:
    params = dict(step.get("params", {}))
    for rule in rules:
        kind = rule[0]
        if kind == "value_map":
            _, name, mapping = rule
            if name in params and params[name] in mapping:
                params[name] = mapping[params[name]]
        elif kind == "blend_from_params":
            blend = dict(step.get("blend", {}))
            for name, key in rule[1].items():
                if name in params:
                    blend[key] = params.pop(name)
            if blend:
                step["blend"] = blend
        elif kind == "rename_op":
            if step.get("op") == rule[1]:
                step["op"] = rule[2]
        elif kind == "rename_param":
            if step.get("op") == rule[1] and rule[2] in params:
                params[rule[3]] = params.pop(rule[2])
        elif kind == "drop_param":
            if step.get("op") == rule[1]:
                params.pop(rule[2], None)
        else:
            raise ValueError(f"unknown migration rule {kind!r}")
    step["params"] = params
    return step


def load_recipe(source: str | Path | Mapping[str, Any]) -> Recipe:
    """A recipe from a file, JSON text or dict, migrated to the current version. A record
    (``photofix-record``) is accepted too: its steps become the recipe."""
    if isinstance(source, Mapping):
        data = dict(source)
        name = "the recipe"
    else:
        path = Path(source)
        name = path.name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RecipeError(f"cannot read {name}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecipeError(f"{name} is not a JSON recipe ({exc})") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{name} is not a PhotoFix recipe")
    if data.get("format") == RECORD_FORMAT:
        records = [StepRecord.from_dict(s) for s in data.get("steps", [])]
        return Recipe.from_records(records, data.get("app", {}).get("version"))
    if data.get("format", RECIPE_FORMAT) != RECIPE_FORMAT or not isinstance(
        data.get("steps"), list
    ):
        raise RecipeError(f"{name} is not a PhotoFix recipe (no 'steps' list)")
    data = migrate(data)
    try:
        steps = [RecipeStep.from_dict(s) for s in data["steps"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise RecipeError(f"{name}: a step is malformed ({exc})") from None
    return Recipe(steps, data.get("app_version"), data.get("note"))
