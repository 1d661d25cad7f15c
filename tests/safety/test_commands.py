"""Audit class "unknown words open the window": a first argument that is not a file and looks
like a command is "unknown command" with the list of commands (from the CLI's own parser), exit
status 2 — never a window that, offscreen, would not return."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from photofix import __main__ as entry
from photofix import cli
from tests.safety.conftest import run_child


def test_unknown_command_lists_the_commands_and_exits_2(tmp_path: Path) -> None:
    r = run_child("frobnicate", "r.json", "-o", "x.json", cwd=tmp_path, timeout=30)
    assert r.code == 2
    line = r.one_error_line("unknown command", "frobnicate")
    for name in cli.command_names():
        assert name in line
    assert list(tmp_path.iterdir()) == []


def test_recipe_words_never_open_the_window(tmp_path: Path) -> None:
    """``recipe`` is a command once branch ``steps`` lands; until then it is unknown. Either
    way the command returns instead of starting the window."""
    r = run_child("recipe", "export", "r.json", "-o", "x.json", cwd=tmp_path, timeout=30)
    if "recipe" in cli.command_names():
        assert "unknown command" not in r.err
    else:
        assert r.code == 2
        r.one_error_line("unknown command", "recipe")


def test_commands_come_from_the_parser(monkeypatch) -> None:
    real = cli.build_parser

    def with_extra() -> argparse.ArgumentParser:
        parser = real()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                action.add_parser("frobnicate")
        return parser

    monkeypatch.setattr(cli, "build_parser", with_extra)
    assert "frobnicate" in cli.command_names()
    routed: list[list[str]] = []
    monkeypatch.setattr(cli, "main", lambda args: routed.append(list(args)) or 0)
    assert entry.main(["frobnicate", "x"]) == 0
    assert routed == [["frobnicate", "x"]]


@pytest.mark.parametrize("word", ["scan", "photo.tif", "./frobnicate"])
def test_files_still_open_in_the_window(monkeypatch, tmp_path: Path, word: str) -> None:
    """A word that names an existing file, or has a suffix or a path, goes to the window."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scan").write_bytes(b"")
    opened: list[list[str]] = []
    import photofix.ui.app as app

    monkeypatch.setattr(app, "run_gui", lambda args: opened.append(args) or 0)
    assert entry.main([word]) == 0
    assert opened == [[word]]
