"""Audit classes "bad parameters", "late checks" and "tracebacks instead of one line": every
mistake in a command is one line, and the checks that need no pixels run before any work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from photofix.ops import fade
from tests.safety.conftest import snapshot, write_png


@pytest.fixture
def spy(monkeypatch) -> list[int]:
    """Counts runs of the fade operation's work."""
    calls: list[int] = []
    real = fade.correct_fade

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fade, "correct_fade", counted)
    return calls


BAD = {
    "unknown-op": (["--op", "sharpenize"], "unknown operation"),
    "bad-value": (["--op", "fade:strength=lots"], "strength"),
    "out-of-range": (["--op", "fade:strength=7"], "strength"),
    "unknown-param": (["--op", "fade:colour=1"], "colour"),
    "no-key": (["--op", "fade:0.5"], "key=value"),
    "empty-name": (["--op", ":strength=1"], "empty"),
    "quality-0": (["--op", "fade", "--quality", "0"], "quality"),
    "quality-101": (["--op", "fade", "--quality", "101"], "quality"),
    "no-op": ([], "--op"),
    "format-mismatch": (["--op", "fade", "--format", "tiff"], "--format"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_parameters_are_one_line(run, tmp_path: Path, case: str, spy) -> None:
    extra, word = BAD[case]
    write_png(tmp_path / "a.png")
    before = snapshot(tmp_path)
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png", *extra, "-q")
    assert r.code == 1
    r.one_error_line(word)
    assert snapshot(tmp_path) == before and not spy


@pytest.mark.parametrize("name", ["out.xyz", "out.gif", "out.pdf"])
def test_unsupported_output_extension_is_refused_before_any_work(run, tmp_path, name, spy):
    write_png(tmp_path / "a.png")
    before = snapshot(tmp_path)
    r = run("process", tmp_path / "a.png", "-o", tmp_path / name, "--op", "fade", "-q")
    assert r.code == 1
    r.one_error_line("not supported")
    assert snapshot(tmp_path) == before and not spy


def test_save_mask_without_a_mask_is_refused_before_any_work(run, tmp_path, spy) -> None:
    write_png(tmp_path / "a.png")
    before = snapshot(tmp_path)
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png", "--op", "fade",
            "--save-mask", tmp_path / "m.png", "-q")  # fmt: skip
    assert r.code == 1
    r.one_error_line("--save-mask")
    assert snapshot(tmp_path) == before and not spy


def test_output_whose_parent_is_a_file_is_one_line(run, tmp_path, spy) -> None:
    write_png(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("x")
    before = snapshot(tmp_path)
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "notes.txt" / "o.png",
            "--op", "fade", "-q")  # fmt: skip
    assert r.code == 1
    r.one_error_line("notes.txt")
    assert snapshot(tmp_path) == before and not spy


def test_saved_mask_whose_parent_is_a_file_is_one_line(run, tmp_path, spy) -> None:
    write_png(tmp_path / "a.png")
    write_png(tmp_path / "m.png")
    (tmp_path / "notes.txt").write_text("x")
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png", "--op", "fade",
            "--mask", tmp_path / "m.png", "--save-mask", tmp_path / "notes.txt" / "k.png",
            "-q")  # fmt: skip
    assert r.code == 1
    r.one_error_line("notes.txt")
    assert not (tmp_path / "o.png").exists() and not spy


def test_output_folder_named_like_a_file_gets_the_result_inside(run, tmp_path, spy) -> None:
    write_png(tmp_path / "a.png")
    (tmp_path / "o.png").mkdir()
    (tmp_path / "o.png" / "keep").write_text("x")
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png" / "", "--op", "fade",
            "--format", "png", "-q")  # fmt: skip
    assert r.code == 0  # a folder output: the result goes inside it
    assert (tmp_path / "o.png" / "a.png").is_file() and (tmp_path / "o.png" / "keep").is_file()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_new_folder_under_a_read_only_parent_is_one_line(run, tmp_path, spy) -> None:
    write_png(tmp_path / "a.png")
    (tmp_path / "locked").mkdir()
    os.chmod(tmp_path / "locked", 0o555)
    try:
        r = run("process", tmp_path / "a.png", "-o", tmp_path / "locked" / "new" / "o.png",
                "--op", "fade", "-q")  # fmt: skip
    finally:
        os.chmod(tmp_path / "locked", 0o755)
    assert r.code == 1
    r.one_error_line("read-only")
    assert not spy


def test_folder_creation_failing_late_is_one_line(run, tmp_path, monkeypatch) -> None:
    """What a read-only parent gives where the permission is only found when writing (as
    root, or on a network share): the failure of mkdir itself."""
    write_png(tmp_path / "a.png")
    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self.name == "new":
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "new" / "o.png", "--op", "fade", "-q")
    assert r.code == 1
    r.one_error_line("permission denied")
