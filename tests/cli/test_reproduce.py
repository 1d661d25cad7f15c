"""``photofix reproduce`` is bit-identical for every registered operation, and each sidecar
validates; a session made with the step engine (as the window does) exported as a recipe and
run by the CLI gives the same pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofix.__main__ import main
from photofix.core import imageio, provenance
from photofix.core.document import Document
from photofix.core.recipe import Blend, Recipe
from photofix.ops import REGISTRY, Operation
from photofix.ops.steps import StepRequest, commit, layers_of, run_step

PARAMS: dict[str, str] = {
    "jpeg-clean": "level=1",  # level=auto needs a JPEG file as input
    "upscale": "scale=2,model=waifu2x-photo",  # the fastest network on a 2-core box
    "resize": "scale=0.5",
    "remove-defects": "sensitivity=0.7",
    "clone": "dx=6,dy=-4",  # a source elsewhere (the default 0, 0 is refused)
    "white-balance": "x=18,y=16",  # the pixel to make neutral
}
"""Parameters for operations whose defaults cannot run on a small PNG (others: defaults)."""


def _spec(op: Operation) -> str:
    if op.name in PARAMS:
        return f"{op.name}:{PARAMS[op.name]}"
    # an operation added later with a required number: the middle of its declared range
    for p in op.params:
        if p.default is None and p.kind in ("int", "float") and p.minimum is not None:
            top = p.maximum if p.maximum is not None else p.minimum * 2 + 1
            mid = (p.minimum + top) / 2
            return f"{op.name}:{p.name}={round(mid) if p.kind == 'int' else mid:g}"
    return op.name


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    from skimage import data

    folder = tmp_path_factory.mktemp("inputs")
    photo = data.astronaut()[120:152, 200:236].copy()
    photo[14:16, 3:33] = 250  # a scratch for the detectors
    gray = photo.mean(axis=2).astype(np.uint8)
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[12:18, 2:34] = 255
    hints = np.zeros((*photo.shape[:2], 4), np.uint8)
    hints[4:8, 4:8] = (200, 120, 60, 255)
    hints[24:28, 26:30] = (60, 120, 200, 255)
    paths = {}
    for name, pixels in (("colour", photo), ("gray", gray), ("mask", mask), ("hints", hints)):
        paths[name] = folder / f"{name}.png"
        Image.fromarray(pixels).save(paths[name], dpi=(300, 300))
    return paths


@pytest.mark.parametrize("op", list(REGISTRY), ids=lambda op: op.name)
def test_reproduce_is_bit_identical(op, inputs, tmp_path, capsys):
    if op.name == "split-scan":
        pytest.skip("one file per print (<stem>-N), tested in tests/cli/test_tools_cli.py")
    source = inputs["gray"] if op.name == "colorize" else inputs["colour"]
    out = tmp_path / "out.png"
    code = main([
        "process", str(source), "-o", str(out), "--op", _spec(op), "--mask", str(inputs["mask"]),
        "--hints", str(inputs["hints"]), "--exact", "-q",
    ])  # fmt: skip
    err = capsys.readouterr().err
    if code != 0 and "install" in err and "not installed" in err:
        pytest.skip(f"{op.name}: its model is not installed ({err.strip()})")
    assert code == 0, err
    sidecar = provenance.sidecar_path(out)
    record = json.loads(sidecar.read_text())
    provenance.validate(record)
    assert record["steps"][-1]["op"] == op.name
    assert record["steps"][-1]["version"] == op.version

    again = tmp_path / "again.png"
    code = main(["reproduce", str(sidecar), "-o", str(again), "--exact", "-q"])
    text = capsys.readouterr()
    assert code == 0, text.err
    assert "bit-identical" in text.out
    assert provenance.pixels_sha256(again) == record["output"]["pixels_sha256"]
    provenance.validate(json.loads(provenance.sidecar_path(again).read_text()))


def test_a_window_session_as_a_recipe_gives_the_same_pixels(inputs, tmp_path, capsys):
    """fade, denoise auto, a brush mask, inpaint, upscale ×2 on a Document, as the window
    runs them, exported as a recipe and run by the CLI on the same input (CPU, --exact)."""
    from photofix.inference.device import DevicePolicy
    from photofix.ops.registry import OpContext

    loaded = imageio.load_image(inputs["colour"])
    doc = Document.from_loaded(loaded)
    ctx = OpContext(device=DevicePolicy("cpu", half_precision=False))

    def apply(request: StepRequest) -> None:
        assert commit(doc, run_step(request, layers_of(doc), ctx)) is not None

    apply(StepRequest("fade", {"clip": 1.0}, Blend(strength=0.8)))
    apply(StepRequest("denoise", {"sigma": "auto"}))
    doc.begin_stroke("mask")
    doc.stroke_to([(3.0, 15.0), (33.0, 15.0)], 2.0)
    doc.end_stroke()
    apply(StepRequest("inpaint", {"engine": "patch"}))
    apply(StepRequest("upscale", {"scale": 2, "model": "waifu2x-photo"}))
    assert [r.op for r in doc.journal] == ["fade", "denoise", "mask-paint", "inpaint", "upscale"]

    session = tmp_path / "session.png"
    imageio.save_image(session, doc.image, meta=doc.meta)
    recipe = tmp_path / "session.recipe.json"
    recipe.write_text(Recipe.from_records(doc.journal).dumps())
    painted = tmp_path / "painted.png"  # the per-image step brings its own mask
    imageio.save_mask(painted, doc.journal[2].mask.array())
    out = tmp_path / "cli.png"
    code = main([
        "process", str(inputs["colour"]), "--recipe", str(recipe), "--mask", str(painted),
        "-o", str(out), "--exact", "--device", "cpu", "-q",
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert provenance.pixels_sha256(out) == provenance.pixels_sha256(session)
    record = json.loads(provenance.sidecar_path(out).read_text())
    assert [s["op"] for s in record["steps"]] == [r.op for r in doc.journal]
    assert record["digital_source_type"] == provenance.COMPOSITE  # the upscale synthesised
