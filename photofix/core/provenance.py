"""Provenance of every output: a JSON record beside it and the same story as XMP inside it.

:func:`new_record` starts the record of one output (app, input file and its SHA-256, steps,
operator, runtime); :func:`xmp_packet` turns it into an XMP packet for the image file itself
(``xmpMM:History`` events with action, when, parameters and softwareAgent, ``xmpMM:DerivedFrom``
with the source's hash, ``Iptc4xmpExt:DigitalSourceType``), keeping the source's own XMP;
:func:`finish_record` adds the output's hash once it is written; :func:`write_sidecar` writes
``<output>.photofix.json`` (validated against ``photofix/schemas/record.schema.json``) and
the masks the steps used as PNGs beside it. :func:`read_record` reads either back.

The fields map onto PREMIS events; see docs/provenance.md.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from photofix.core.errors import PhotoFixError
from photofix.core.recipe import RECORD_FORMAT, RECORD_VERSION, StepRecord

SIDECAR_SUFFIX = ".photofix.json"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "record.schema.json"
APP_NAME = "PhotoFix"

DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"
ENHANCED = DST + "algorithmicallyEnhanced"
COMPOSITE = DST + "compositeWithTrainedAlgorithmicMedia"

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "stRef": "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "photofix": "https://github.com/photofix/photofix/ns/record/1.0/",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

_REPLACED = {
    f"{{{NS['xmpMM']}}}DerivedFrom",
    f"{{{NS['xmpMM']}}}InstanceID",
    f"{{{NS['xmpMM']}}}History",
    f"{{{NS['Iptc4xmpExt']}}}DigitalSourceType",
    f"{{{NS['xmp']}}}CreatorTool",
    f"{{{NS['xmp']}}}ModifyDate",
    f"{{{NS['xmp']}}}MetadataDate",
}
JPEG_XMP_LIMIT = 65_000
"""An XMP packet must fit in one JPEG APP1 segment (65 502 bytes with its header)."""


class RecordError(PhotoFixError):
    """A provenance record that is missing, unreadable or does not match the schema."""


def now() -> str:
    """The current UTC time as ISO 8601 with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pixels_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of an image file's decoded pixels (float32 RGB, then alpha if any): the same
    for two files whose metadata differ (a record's timestamps) but whose pixels do not.
    Hashed strip by strip (:func:`photofix.core.imageio.pixels_sha256`), so recording a
    24-MP output does not decode a second float32 copy of it."""
    from photofix.core import imageio

    return imageio.pixels_sha256(path)


def sidecar_path(output: str | os.PathLike[str]) -> Path:
    """``<output>.photofix.json`` beside ``output``."""
    output = Path(output)
    return output.with_name(output.name + SIDECAR_SUFFIX)


def app_agent() -> str:
    from photofix import __version__

    return f"{APP_NAME} {__version__}"


def _version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def runtime_info(device: str = "cpu", exact: bool = False) -> dict[str, Any]:
    """Where this ran: OS, Python, numpy and torch versions (torch is not imported), the
    device chosen, and whether float32 was forced everywhere (``--exact``)."""
    return {
        "os": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": _version_of("torch"),
        "device": device,
        "exact": bool(exact),
    }


def digital_source_type(steps: Iterable[StepRecord | Mapping[str, Any]]) -> str:
    """IPTC digital source type of an output made by ``steps``: composite once a network
    synthesised pixels (upscale, colorize, learned fill), else algorithmically enhanced."""
    for step in steps:
        synthesised = step.get("synthesised") if isinstance(step, Mapping) else step.synthesised
        if synthesised:
            return COMPOSITE
    return ENHANCED


def new_record(
    source: Path | None,
    steps: list[StepRecord],
    *,
    operator: str | None = None,
    started: str | None = None,
    runtime: Mapping[str, Any] | None = None,
    source_sha256: str | None = None,
    source_format: str | None = None,
    source_size_px: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The record of one output before it is written (see :func:`finish_record`)."""
    from photofix import __version__

    source_info: dict[str, Any] = {"path": None, "name": None, "sha256": source_sha256}
    if source is not None:
        source = Path(source)
        source_info.update(
            path=str(source.resolve()),
            name=source.name,
            sha256=source_sha256 or file_sha256(source),
            size=source.stat().st_size,
        )
    if source_format:
        source_info["format"] = source_format
    if source_size_px:
        source_info["width"], source_info["height"] = source_size_px
    return {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "app": {"name": APP_NAME, "version": __version__},
        "record_id": f"urn:uuid:{uuid.uuid4()}",
        "input": source_info,
        "output": None,
        "operator": operator,
        "started": started or now(),
        "finished": None,
        "runtime": dict(runtime or runtime_info()),
        "digital_source_type": digital_source_type(steps),
        "steps": [s.to_dict() for s in steps],
    }


def finish_record(
    record: dict[str, Any], output: Path, *, width: int, height: int, file_format: str
) -> dict[str, Any]:
    """The record with the written output's path, SHA-256, size and the time it finished."""
    output = Path(output)
    record = copy.deepcopy(record)
    record["output"] = {
        "path": str(output.resolve()),
        "name": output.name,
        "sha256": file_sha256(output),
        "size": output.stat().st_size,
        "format": file_format,
        "width": width,
        "height": height,
    }
    record["finished"] = now()
    return record


def save_recorded(
    target: str | os.PathLike[str],
    rgb: np.ndarray,
    steps: list[StepRecord],
    *,
    source: Path | None,
    alpha: np.ndarray | None = None,
    meta: Any = None,
    source_sha256: str | None = None,
    source_meta: Any = None,
    operator: str | None = None,
    started: str | None = None,
    runtime: Mapping[str, Any] | None = None,
    record: bool = True,
    batch: Mapping[str, Any] | None = None,
    format: str | None = None,
    bit_depth: int | None = None,
    quality: int = 95,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> tuple[Path, Path | None]:
    """Save an image made by ``steps`` from ``source`` with its provenance: the XMP story
    merged into ``meta``'s XMP, then the sidecar record (and its masks) beside it. Returns
    (image path, sidecar path or None with ``record=False``, which saves the image alone).

    ``meta`` is the ImageMeta to write (DPI already updated by the steps); ``source_meta`` the
    source's as loaded (format, size; defaults to ``meta``). ``source_sha256`` should be taken
    when the source was opened (it is computed now otherwise). The window and the CLI both
    save through here, and so does ``photofix batch``, which adds ``batch`` (the recipe's
    SHA-256) to the record."""
    import dataclasses

    from photofix.core.imageio import save_image

    target = Path(target)
    if not record:
        save_image(target, rgb, alpha=alpha, meta=meta, format=format, bit_depth=bit_depth,
                   quality=quality, protect=protect)  # fmt: skip
        return target, None
    src = source_meta if source_meta is not None else meta
    rec = new_record(
        source,
        steps,
        operator=operator,
        started=started,
        runtime=runtime,
        source_sha256=source_sha256,
        source_format=getattr(src, "format", None),
        source_size_px=(src.width, src.height) if src is not None else None,
    )
    if batch is not None:
        rec["batch"] = dict(batch)
    fmt = (format or target.suffix.lstrip(".")).lower()
    limit = JPEG_XMP_LIMIT if fmt in ("jpeg", "jpg") else None
    base = getattr(source_meta if source_meta is not None else meta, "xmp", None)
    packet = xmp_packet(rec, base, limit=limit)
    if meta is not None:
        meta = dataclasses.replace(meta, xmp=packet)
    else:
        h, w = rgb.shape[:2]
        from photofix.core.imageio import ImageMeta

        meta = ImageMeta("PNG", w, h, "RGB", 8, False, alpha is not None, xmp=packet)
    save_image(target, rgb, alpha=alpha, meta=meta, format=format, bit_depth=bit_depth,
               quality=quality, protect=protect)  # fmt: skip
    return target, write_output_record(rec, steps, target, quality)


def write_output_record(
    record: dict[str, Any], steps: list[StepRecord], target: Path, quality: int = 95
) -> Path:
    """Finish ``record`` for the written ``target`` (its file and pixel SHA-256, size, format,
    bit depth, JPEG quality) and write the sidecar with the steps' masks; returns the sidecar."""
    from photofix.core.imageio import read_info

    target = Path(target)
    info = read_info(target, max_pixels=None)
    rec = finish_record(
        record, target, width=info.width, height=info.height, file_format=info.format
    )
    rec["output"].update(bit_depth=info.bit_depth, pixels_sha256=pixels_sha256(target))
    if info.format == "JPEG":
        rec["output"]["quality"] = quality
    sidecar, _ = write_sidecar(rec, steps, target)
    return sidecar


# ---- the JSON Schema -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(record: Mapping[str, Any]) -> None:
    """RecordError naming the first place where ``record`` breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise RecordError(f"the record does not match its schema at {where}: {err.message}")


# ---- the sidecar ---------------------------------------------------------------------------
def write_sidecar(
    record: dict[str, Any], steps: list[StepRecord], output: Path
) -> tuple[Path, list[Path]]:
    """Write the masks (PNG) and hints (float32 TIFF) the steps used beside ``output``, then
    ``<output>.photofix.json``, validated; returns the sidecar and the data files."""
    from photofix.core.imageio import atomic_write, save_mask

    output = Path(output)
    record = copy.deepcopy(record)
    files: dict[str, Path] = {}
    for step, data in zip(steps, record["steps"], strict=True):
        if step.mask is not None and (mask := step.mask.array()) is not None:
            name = f"{output.name}.mask-{step.mask.sha256[:16]}.png"
            if name not in files:
                files[name] = save_mask(output.with_name(name), mask)
            data["mask"]["file"] = name
        if step.hints is not None and step.hints.hints is not None:
            name = f"{output.name}.hints-{step.hints.sha256[:16]}.tif"
            if name not in files:
                files[name] = _save_hints(output.with_name(name), step.hints)
            data["hints"]["file"] = name
    validate(record)
    target = sidecar_path(output)
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    atomic_write(target, lambda temp: temp.write_text(text, encoding="utf-8"))
    return target, list(files.values())


def _save_hints(path: Path, hints: Any) -> Path:
    import tifffile

    from photofix.core.imageio import atomic_write

    rgba = np.concatenate([hints.hints, hints.hint_mask[..., None].astype(np.float32)], axis=2)
    return atomic_write(path, lambda temp: tifffile.imwrite(temp, rgba, photometric="rgb"))


def load_step_data(record: Mapping[str, Any], base: Path) -> list[StepRecord]:
    """The record's steps with their masks and hints read from the files beside it
    (RecordError when one is missing or its digest differs)."""
    from photofix.core.imageio import load_mask
    from photofix.core.recipe import HintsRef, MaskRef, mask_sha256

    steps = []
    for i, data in enumerate(record.get("steps", []), 1):
        step = StepRecord.from_dict(data)
        if step.mask is not None and step.mask.file:
            path = base / step.mask.file
            if not path.is_file():
                raise RecordError(f"step {i} ({step.op}): its mask {path.name} is missing")
            mask = load_mask(path, (step.mask.height, step.mask.width))
            if mask_sha256(mask) != step.mask.sha256:
                raise RecordError(f"step {i} ({step.op}): {path.name} was changed")
            step.mask = MaskRef.of(mask, step.mask.role)
        if step.hints is not None and step.hints.file:
            import tifffile

            path = base / step.hints.file
            if not path.is_file():
                raise RecordError(f"step {i} ({step.op}): its hints {path.name} are missing")
            rgba = tifffile.imread(path)
            ref = HintsRef.of(rgba[..., :3], rgba[..., 3] > 0.5)
            if ref.sha256 != step.hints.sha256:
                raise RecordError(f"step {i} ({step.op}): {path.name} was changed")
            step.hints = ref
        steps.append(step)
    return steps


# ---- XMP -----------------------------------------------------------------------------------
def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


_ACTIONS = {"resize": "resized", "upscale": "resized", "crop": "cropped"}


def _event_action(step: Mapping[str, Any]) -> str:
    if step["op"] in _ACTIONS:
        return _ACTIONS[step["op"]]
    if step["op"].startswith(("mask-", "hint-")) or step["op"].endswith(".propose"):
        return "edited"
    return "filtered"


def describe_step(step: Mapping[str, Any]) -> str:
    """A step as one line of text: ``denoise: sigma=auto (12.3), model=ffdnet-color``."""
    resolved = step.get("resolved", {})
    parts = []
    for key, value in step.get("params", {}).items():
        if value is None:
            continue
        text = f"{key}={_text(value)}"
        if key in resolved and resolved[key] != value:
            text += f" ({_text(resolved[key])})"
        parts.append(text)
    for key, value in resolved.items():
        if key not in step.get("params", {}):
            parts.append(f"{key}={_text(value)}")
    blend = step.get("blend", {})
    if blend.get("strength", 1.0) != 1.0:
        parts.append(f"strength {blend['strength']:g}")
    if blend.get("limit_to_mask"):
        parts.append(f"inside the mask, feather {blend.get('feather', 0):g} px")
    if step.get("mask"):
        parts.append(f"mask sha256:{step['mask']['sha256'][:16]}")
    for model in step.get("models", []):
        digest = (model.get("sha256") or "unknown")[:16]
        parts.append(f"model {model['id']} sha256:{digest} on {model['device']} {model['dtype']}")
    return f"{step['op']}: " + ", ".join(parts) if parts else step["op"]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "+".join(_text(v) for v in value)
    return str(value)


def _li_resource(seq: ET.Element) -> ET.Element:
    li = ET.SubElement(seq, _q("rdf", "li"))
    li.set(_q("rdf", "parseType"), "Resource")
    return li


def _field(parent: ET.Element, prefix: str, name: str, text: str) -> None:
    ET.SubElement(parent, _q(prefix, name)).text = text


def xmp_packet(
    record: Mapping[str, Any], base: bytes | None = None, *, limit: int | None = None
) -> bytes:
    """An XMP packet telling how the output of ``record`` was made, merged into ``base`` (the
    source's XMP, whose other properties and earlier history events are kept). ``limit``
    (bytes) drops the embedded full record first, then the event parameters, to fit (JPEG)."""
    for embed, params in ((True, True), (False, True), (False, False)):
        packet = _packet(record, base, embed=embed, params=params)
        if limit is None or len(packet) <= limit:
            return packet
    return packet


def _packet(record: Mapping[str, Any], base: bytes | None, *, embed: bool, params: bool) -> bytes:
    root, rdf, earlier, composite = _base_tree(base)
    desc = ET.SubElement(rdf, _q("rdf", "Description"))
    desc.set(_q("rdf", "about"), "")
    agent = f"{record['app']['name']} {record['app']['version']}"
    when = record.get("finished") or record.get("started") or now()
    _field(desc, "xmp", "CreatorTool", agent)
    _field(desc, "xmp", "ModifyDate", when)
    _field(desc, "xmp", "MetadataDate", when)
    _field(desc, "xmpMM", "InstanceID", record.get("record_id") or f"urn:uuid:{uuid.uuid4()}")
    source = record.get("input") or {}
    if source.get("sha256"):
        derived = ET.SubElement(desc, _q("xmpMM", "DerivedFrom"))
        derived.set(_q("rdf", "parseType"), "Resource")
        _field(derived, "stRef", "documentID", f"urn:sha256:{source['sha256']}")
        _field(derived, "stRef", "instanceID", f"urn:sha256:{source['sha256']}")
        if source.get("name"):
            _field(derived, "stRef", "filePath", source["name"])
    history = ET.SubElement(desc, _q("xmpMM", "History"))
    seq = ET.SubElement(history, _q("rdf", "Seq"))
    for li in earlier:
        seq.append(li)
    first = _li_resource(seq)
    _field(first, "stEvt", "action", "derived")
    _field(first, "stEvt", "when", record.get("started") or when)
    _field(first, "stEvt", "softwareAgent", agent)
    if params and source.get("name"):
        text = f"from {source['name']} sha256:{source.get('sha256') or 'unknown'}"
        _field(first, "stEvt", "parameters", text)
    for step in record.get("steps", []):
        li = _li_resource(seq)
        _field(li, "stEvt", "action", _event_action(step))
        _field(li, "stEvt", "when", step.get("started") or when)
        _field(li, "stEvt", "softwareAgent", agent)
        _field(li, "stEvt", "changed", "/metadata" if _event_action(step) == "edited" else "/")
        if params:
            _field(li, "stEvt", "parameters", describe_step(step))
    last = _li_resource(seq)
    _field(last, "stEvt", "action", "saved")
    _field(last, "stEvt", "when", record.get("finished") or now())
    _field(last, "stEvt", "softwareAgent", agent)
    dst = COMPOSITE if composite else record.get("digital_source_type") or ENHANCED
    _field(desc, "Iptc4xmpExt", "DigitalSourceType", dst)
    if embed:
        slim = {k: v for k, v in record.items() if k != "output"}
        _field(desc, "photofix", "Record", json.dumps(slim, separators=(",", ":")))
    body = ET.tostring(root, encoding="unicode")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        + body
        + '\n<?xpacket end="w"?>'
    ).encode("utf-8")


def _base_tree(base: bytes | None) -> tuple[ET.Element, ET.Element, list[ET.Element], bool]:
    """(x:xmpmeta root, its rdf:RDF, earlier history events, whether the source already was
    a composite) from the source's packet, with the properties this module writes removed."""
    earlier: list[ET.Element] = []
    composite = False
    root = None
    if base:
        text = base.decode("utf-8", "replace")
        text = re.sub(r"<\?xpacket[^>]*\?>", "", text).strip().lstrip("\ufeff")
        try:
            parsed = ET.fromstring(text)
        except ET.ParseError:
            parsed = None  # an unreadable packet is replaced, not copied
        if parsed is not None:
            root = parsed if parsed.tag == _q("x", "xmpmeta") else None
            if root is None and parsed.tag == _q("rdf", "RDF"):
                root = ET.Element(_q("x", "xmpmeta"))
                root.append(parsed)
    if root is None:
        root = ET.Element(_q("x", "xmpmeta"))
    rdf = root.find(_q("rdf", "RDF"))
    if rdf is None:
        rdf = ET.SubElement(root, _q("rdf", "RDF"))
    for desc in list(rdf.findall(_q("rdf", "Description"))):
        for key in list(desc.attrib):
            if key in _REPLACED or key.startswith(f"{{{NS['photofix']}}}"):
                if key == _q("Iptc4xmpExt", "DigitalSourceType"):
                    composite |= desc.attrib[key] == COMPOSITE
                del desc.attrib[key]
        for child in list(desc):
            if child.tag == _q("xmpMM", "History"):
                earlier.extend(child.iter(_q("rdf", "li")))
            if child.tag == _q("Iptc4xmpExt", "DigitalSourceType"):
                composite |= (child.text or "").strip() == COMPOSITE
            if child.tag in _REPLACED or child.tag.startswith(f"{{{NS['photofix']}}}"):
                desc.remove(child)
        if not len(desc) and set(desc.attrib) <= {_q("rdf", "about")}:
            rdf.remove(desc)
    return root, rdf, earlier, composite


def parse_xmp(packet: bytes) -> dict[str, Any]:
    """What a PhotoFix XMP packet says: ``history`` (list of event dicts), ``derived_from``,
    ``digital_source_type`` and ``record`` (the embedded record, or None)."""
    text = re.sub(r"<\?xpacket[^>]*\?>", "", packet.decode("utf-8", "replace")).strip()
    root = ET.fromstring(text.lstrip("\ufeff"))
    out: dict[str, Any] = {
        "history": [],
        "derived_from": None,
        "digital_source_type": None,
        "record": None,
    }
    for li in root.iter(_q("rdf", "li")):
        event = {child.tag.rsplit("}", 1)[-1]: child.text for child in li}
        if "action" in event:
            out["history"].append(event)
    derived = root.find(f".//{_q('xmpMM', 'DerivedFrom')}")
    if derived is not None:
        out["derived_from"] = {c.tag.rsplit("}", 1)[-1]: c.text for c in derived}
    dst = root.find(f".//{_q('Iptc4xmpExt', 'DigitalSourceType')}")
    if dst is not None:
        out["digital_source_type"] = dst.text
    embedded = root.find(f".//{_q('photofix', 'Record')}")
    if embedded is not None and embedded.text:
        out["record"] = json.loads(embedded.text)
    return out


# ---- reading back --------------------------------------------------------------------------
def read_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The record of a PhotoFix output: ``path`` itself when it is a ``.photofix.json``
    sidecar, else the sidecar beside the image, else the record embedded in the image's XMP
    (then without the output's hash, which the file cannot hold). None when the image carries
    no PhotoFix record. Adds ``"recorded_in"``: "sidecar" or "xmp"."""
    path = Path(path)
    if path.name.endswith(SIDECAR_SUFFIX) or path.suffix.lower() == ".json":
        return _read_json(path)
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        return _read_json(sidecar)
    from photofix.core.imageio import read_info

    meta = read_info(path, max_pixels=None)
    if not meta.xmp:
        return None
    try:
        found = parse_xmp(meta.xmp)
    except (ET.ParseError, json.JSONDecodeError):
        return None
    record = found["record"]
    if record is None or record.get("format") != RECORD_FORMAT:
        return None
    record["recorded_in"] = "xmp"
    record["output"] = None  # a file cannot hold its own hash
    return record


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecordError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path.name} is not a PhotoFix record ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise RecordError(f"{path.name} is not a PhotoFix record")
    data["recorded_in"] = "sidecar"
    return data
