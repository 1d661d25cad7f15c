"""Audit class "inputs overwritten": every file the command reads is protected and every pair
of outputs is checked, before any work starts (photofix.core.outputs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.safety.conftest import snapshot, write_mask, write_png


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_png(tmp_path / "scan.png")
    write_mask(tmp_path / "mask.png")
    write_png(tmp_path / "hints.png", seed=3)
    return tmp_path


def refused_and_unchanged(result, folder: Path, before: dict, *words: str) -> None:
    assert result.code == 1
    result.one_error_line(*words)
    assert snapshot(folder) == before, "a file was written or changed"


def test_save_mask_naming_the_input_is_refused(run, folder: Path) -> None:
    before = snapshot(folder)
    r = run("process", folder / "scan.png", "-o", folder / "out.png", "--op", "fade",
            "--mask", folder / "mask.png", "--save-mask", folder / "scan.png", "-q")  # fmt: skip
    refused_and_unchanged(r, folder, before, "scan.png", "refusing")


def test_save_mask_naming_the_input_is_refused_even_with_overwrite_source(run, folder) -> None:
    before = snapshot(folder)
    r = run("process", folder / "scan.png", "-o", folder / "scan.png", "--op", "fade",
            "--mask", folder / "mask.png", "--save-mask", folder / "scan.png",
            "--overwrite-source", "-q")  # fmt: skip
    refused_and_unchanged(r, folder, before, "scan.png")


def test_batch_mask_of_one_input_may_not_replace_another_input(run, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    write_png(tmp_path / "a_mask.png", seed=1)  # the name a.png's saved mask would get
    write_mask(tmp_path / "m.png")
    before = snapshot(tmp_path)
    r = run("process", tmp_path / "a.png", tmp_path / "a_mask.png", "-o", tmp_path / "out",
            "--op", "fade", "--mask", tmp_path / "m.png",
            "--save-mask", tmp_path, "-q")  # fmt: skip
    refused_and_unchanged(r, tmp_path, before, "a_mask.png")


@pytest.mark.parametrize("read", ["mask.png", "hints.png"])
def test_output_naming_the_mask_or_hints_file_is_refused(run, folder: Path, read: str) -> None:
    before = snapshot(folder)
    r = run("process", folder / "scan.png", "-o", folder / read, "--op", "fade",
            "--mask", folder / "mask.png", "--hints", folder / "hints.png", "-q")  # fmt: skip
    refused_and_unchanged(r, folder, before, read)


def test_output_and_saved_mask_on_one_file_are_refused(run, folder: Path) -> None:
    before = snapshot(folder)
    r = run("process", folder / "scan.png", "-o", folder / "out.png", "--op", "fade",
            "--mask", folder / "mask.png", "--save-mask", folder / "out.png", "-q")  # fmt: skip
    refused_and_unchanged(r, folder, before, "out.png", "both")


def test_output_naming_the_input_needs_overwrite_source(run, folder: Path) -> None:
    before = snapshot(folder)
    r = run("process", folder / "scan.png", "-o", folder / "scan.png", "--op", "fade", "-q")
    refused_and_unchanged(r, folder, before, "scan.png", "--overwrite-source")
    r = run("process", folder / "scan.png", "-o", folder / "scan.png", "--op", "fade",
            "--overwrite-source", "-q")  # fmt: skip
    assert r.code == 0 and snapshot(folder)["scan.png"] != before["scan.png"]


def test_output_hard_linked_to_the_input_is_refused(run, folder: Path) -> None:
    os.link(folder / "scan.png", folder / "link.png")
    before = snapshot(folder)
    r = run("process", folder / "scan.png", "-o", folder / "link.png", "--op", "fade", "-q")
    refused_and_unchanged(r, folder, before, "refusing")


def test_two_inputs_of_one_stem_would_share_an_output(run, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    write_png(tmp_path / "x" / "scan.png")
    write_png(tmp_path / "y" / "scan.png", seed=2)
    before = snapshot(tmp_path)
    r = run("process", tmp_path / "x" / "scan.png", tmp_path / "y" / "scan.png",
            "-o", tmp_path / "out", "--op", "fade", "-q")  # fmt: skip
    refused_and_unchanged(r, tmp_path, before, "same")


def test_batch_masks_and_outputs_in_one_folder_do_not_collide(run, tmp_path: Path) -> None:
    """The positive case: distinct names in a shared folder are fine."""
    write_png(tmp_path / "a.png")
    write_png(tmp_path / "b.png", seed=1)
    write_mask(tmp_path / "m.png")
    r = run("process", tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "out",
            "--op", "fade", "--mask", tmp_path / "m.png", "--save-mask", tmp_path / "out",
            "-q")  # fmt: skip
    assert r.code == 0, r.err
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"a.png", "a_mask.png", "b.png", "b_mask.png"} <= names  # beside the records
