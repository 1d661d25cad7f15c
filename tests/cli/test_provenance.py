"""Provenance with every output: the sidecar record (schema), the XMP story inside PNG / TIFF /
JPEG read back by other readers, reproduce, and recipes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from photofix.__main__ import main
from photofix.core import provenance
from photofix.core.provenance import COMPOSITE, ENHANCED, parse_xmp, read_record, validate


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def scan(tmp_path, photos) -> Path:
    path = tmp_path / "scan.png"
    pixels = (np.clip(0.15 + 0.6 * photos["astronaut"][100:164, 180:244], 0, 1) * 255).round()
    Image.fromarray(pixels.astype(np.uint8)).save(path, dpi=(300, 300))
    return path


@pytest.fixture
def mask_file(tmp_path) -> Path:
    m = np.zeros((64, 64), np.uint8)
    m[20:26, 8:50] = 255
    path = tmp_path / "mask.png"
    Image.fromarray(m).save(path)
    return path


def _xmp_of(path: Path) -> bytes:
    if path.suffix == ".tif":
        with tifffile.TiffFile(path) as tif:
            value = tif.pages[0].tags[700].value
        return value if isinstance(value, bytes) else value.encode()
    with Image.open(path) as im:
        value = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    return value if isinstance(value, bytes) else value.encode()


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg"])
def test_every_output_carries_a_valid_sidecar_and_its_xmp_story(
    tmp_path, capsys, scan, mask_file, suffix
):
    out = tmp_path / f"out{suffix}"
    code, _, err = run(
        capsys, "process", scan, "-o", out, "--op", "fade", "--mask", mask_file,
        "--op", "inpaint:engine=fast", "--operator", "A. Archivist", "-q",
    )  # fmt: skip
    assert code == 0, err
    record = json.loads(provenance.sidecar_path(out).read_text())
    validate(record)
    assert record["operator"] == "A. Archivist"
    assert record["input"]["sha256"] == provenance.file_sha256(scan)
    assert record["input"]["size"] == scan.stat().st_size
    assert record["output"]["sha256"] == provenance.file_sha256(out)
    assert [s["op"] for s in record["steps"]] == ["mask-paint", "fade", "inpaint"]
    assert record["runtime"]["python"] and record["runtime"]["torch"]
    mask = record["steps"][2]["mask"]
    assert mask["role"] == "read" and (tmp_path / mask["file"]).is_file()
    # the same story inside the file, as Pillow / tifffile read it
    xmp = parse_xmp(_xmp_of(out))
    actions = [e["action"] for e in xmp["history"]]
    assert actions == ["derived", "edited", "filtered", "filtered", "saved"]
    assert all(e["softwareAgent"].startswith("PhotoFix ") and e["when"] for e in xmp["history"])
    assert "inpaint: engine=fast" in xmp["history"][3]["parameters"]
    assert xmp["derived_from"]["documentID"] == f"urn:sha256:{record['input']['sha256']}"
    assert xmp["digital_source_type"] == ENHANCED  # no network synthesised pixels
    assert read_record(out)["steps"] == record["steps"]


def test_exiftool_reads_the_history(tmp_path, capsys, scan):
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.skip("exiftool is not installed")
    for suffix in (".png", ".tif", ".jpg"):
        out = tmp_path / f"up{suffix}"
        code, _, err = run(
            capsys, "process", scan, "-o", out, "--op", "upscale:scale=2,model=waifu2x-photo", "-q"
        )
        assert code == 0, err
        found = json.loads(subprocess.run(
            [exiftool, "-j", "-XMP:all", str(out)], capture_output=True, text=True, check=True
        ).stdout)[0]  # fmt: skip
        assert found["HistoryAction"] == ["derived", "resized", "saved"]
        assert found["DigitalSourceType"] == COMPOSITE
        assert found["DerivedFromDocumentID"].endswith(provenance.file_sha256(scan))


def test_no_record_writes_neither_sidecar_nor_history(tmp_path, capsys, scan):
    out = tmp_path / "plain.png"
    assert run(capsys, "process", scan, "-o", out, "--op", "fade", "--no-record", "-q")[0] == 0
    assert not provenance.sidecar_path(out).exists()
    with Image.open(out) as im:
        assert not im.info.get("xmp")


def test_source_xmp_is_kept_and_earlier_history_continues(tmp_path, capsys, scan):
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    assert run(capsys, "process", scan, "-o", first, "--op", "fade", "-q")[0] == 0
    code, _, err = run(capsys, "process", first, "-o", second, "--op", "resize:scale=0.5", "-q")
    assert code == 0, err
    actions = [e["action"] for e in parse_xmp(_xmp_of(second))["history"]]
    assert actions == ["derived", "filtered", "saved", "derived", "resized", "saved"]
    with Image.open(second) as im:  # resize kept the print size: half the pixels, half the DPI
        assert im.size == (32, 32) and round(im.info["dpi"][0]) == 150


def test_reproduce_refuses_an_edited_input(tmp_path, capsys, scan):
    out = tmp_path / "out.png"
    assert run(capsys, "process", scan, "-o", out, "--op", "fade", "-q")[0] == 0
    with Image.open(scan) as im:
        pixels = np.asarray(im).copy()
    pixels[0, 0] = 255 - pixels[0, 0]
    Image.fromarray(pixels).save(scan)
    code, _, err = run(capsys, "reproduce", provenance.sidecar_path(out), "-q")
    assert code == 1
    assert "scan.png is not the recorded input" in err and "edited or replaced" in err
    assert not (tmp_path / "out.reproduced.png").exists()


def test_recipe_export_and_run_on_other_images(tmp_path, capsys, scan, mask_file, photos):
    out = tmp_path / "out.png"
    code, _, err = run(
        capsys, "process", scan, "-o", out, "--mask", mask_file, "--op", "inpaint:engine=fast",
        "--op", "denoise:sigma=auto", "--op", "remove-defects.propose:sensitivity=0.6", "-q",
    )  # fmt: skip
    assert code == 0, err
    recipe_path = tmp_path / "r.json"
    code, text, _ = run(capsys, "recipe", "export", provenance.sidecar_path(out), "-o", recipe_path)
    assert code == 0 and "per-image: mask-paint" in text
    recipe = json.loads(recipe_path.read_text())
    assert recipe["format"] == "photofix-recipe" and recipe["version"] == 2
    steps = recipe["steps"]
    assert steps[0] == {"op": "mask-paint", "version": 1, "params": {}, "per_image": "mask",
                        "label": "Mask from mask.png"}  # fmt: skip
    assert steps[2]["params"]["sigma"] == "auto"  # measured again on every image
    assert steps[3]["op"] == "remove-defects.propose"  # detection replays as detection
    # the painted mask belongs to one image: another image must bring its own
    other = tmp_path / "other.png"
    Image.fromarray((photos["coffee"][:48, :40] * 255).astype(np.uint8)).save(other)
    code, _, err = run(capsys, "process", other, "--recipe", recipe_path, "-o", tmp_path / "x.png")
    assert code == 1 and "give this image's own with --mask FILE" in err
    # the same image and mask: the recipe gives the same pixels as the original run
    again = tmp_path / "again.png"
    code, _, err = run(capsys, "process", scan, "--recipe", recipe_path, "--mask", mask_file,
                       "-o", again, "-q")  # fmt: skip
    assert code == 0, err
    assert provenance.pixels_sha256(again) == provenance.pixels_sha256(out)


def test_bad_recipe_steps_are_rejected_before_any_image_is_read(tmp_path, capsys):
    recipe = tmp_path / "bad.json"
    missing = tmp_path / "does-not-exist.png"
    for steps, reason in (
        ([{"op": "fade"}, {"op": "sharpen-everything"}], "step 2 (sharpen-everything): unknown"),
        ([{"op": "denoise", "params": {"sigma": 200}}], "step 1 (denoise): parameter 'sigma'"),
        ([{"op": "resize", "params": {"scale": 2}, "blend": {"strength": 0.5}}], "blended"),
    ):
        recipe.write_text(json.dumps({"format": "photofix-recipe", "version": 2, "steps": steps}))
        code, _, err = run(capsys, "process", missing, "--recipe", recipe, "-o", tmp_path / "o")
        assert code == 1 and reason in err, err
        assert "does-not-exist" not in err  # no image was looked at


def test_version_1_recipes_migrate(tmp_path, capsys, scan):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"version": 1, "steps": [
        {"op": "fade", "params": {"clip": 1.0, "strength": 0.5}},
        {"op": "paint", "params": {}},
    ]}))  # fmt: skip
    from photofix.core.recipe import load_recipe

    recipe = load_recipe(old)
    assert recipe.steps[0].params == {"clip": 1.0} and recipe.steps[0].blend.strength == 0.5
    assert recipe.steps[1].op == "mask-paint"
    code, text, _ = run(capsys, "recipe", "check", old)
    assert code == 0 and "2. mask-paint" in text


def test_info_names_the_recorded_steps_even_without_the_sidecar(tmp_path, capsys, scan):
    out = tmp_path / "out.jpg"
    assert (
        run(capsys, "process", scan, "-o", out, "--op", "fade", "--op", "denoise:sigma=5")[0] == 0
    )
    _, text, _ = run(capsys, "info", out)
    assert "fade, denoise (recorded in the sidecar)" in text
    provenance.sidecar_path(out).unlink()
    _, text, _ = run(capsys, "info", out)
    assert "fade, denoise (recorded in the xmp)" in text
    record = read_record(out)
    assert record["steps"][1]["params"]["sigma"] == 5.0 and record["output"] is None
