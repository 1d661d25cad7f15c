"""Audit class "replacing a file changes its permissions": atomic replace keeps mode and owner;
a read-only target is refused unless --replace-read-only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from photofix.core import imageio
from photofix.core.errors import WriteError
from tests.safety.conftest import digest, snapshot, write_png


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("bits", [0o600, 0o640, 0o664])
def test_replaced_output_keeps_its_mode(run, tmp_path: Path, bits: int) -> None:
    write_png(tmp_path / "scan.png")
    out = write_png(tmp_path / "out.png", seed=5)
    os.chmod(out, bits)
    old = digest(out)
    r = run("process", tmp_path / "scan.png", "-o", out, "--op", "fade", "-q")
    assert r.code == 0, r.err
    assert digest(out) != old and mode(out) == bits


def test_read_only_output_is_refused_and_left_alone(run, tmp_path: Path) -> None:
    write_png(tmp_path / "scan.png")
    out = write_png(tmp_path / "out.png", seed=5)
    os.chmod(out, 0o444)
    before = snapshot(tmp_path)
    r = run("process", tmp_path / "scan.png", "-o", out, "--op", "fade", "-q")
    assert r.code == 1
    r.one_error_line("out.png", "read-only", "--replace-read-only")
    assert snapshot(tmp_path) == before and mode(out) == 0o444


def test_read_only_output_is_replaced_when_asked_and_stays_read_only(run, tmp_path) -> None:
    write_png(tmp_path / "scan.png")
    out = write_png(tmp_path / "out.png", seed=5)
    os.chmod(out, 0o444)
    old = digest(out)
    r = run("process", tmp_path / "scan.png", "-o", out, "--op", "fade", "--replace-read-only",
            "-q")  # fmt: skip
    assert r.code == 0, r.err
    assert digest(out) != old and mode(out) == 0o444


def test_save_image_refuses_read_only_in_the_core_too(tmp_path: Path) -> None:
    """The GUI's Export goes through the same save_image."""
    target = tmp_path / "x.png"
    imageio.save_image(target, np.zeros((4, 4, 3), np.float32))
    os.chmod(target, 0o444)
    with pytest.raises(WriteError, match="read-only"):
        imageio.save_image(target, np.ones((4, 4, 3), np.float32))
    imageio.save_image(target, np.ones((4, 4, 3), np.float32), replace_read_only=True)
    assert mode(target) == 0o444


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_replaced_output_keeps_its_owner(run, tmp_path: Path) -> None:
    write_png(tmp_path / "scan.png")
    out = write_png(tmp_path / "out.png", seed=5)
    os.chown(out, 4321, 4321)
    r = run("process", tmp_path / "scan.png", "-o", out, "--op", "fade", "-q")
    assert r.code == 0, r.err
    assert (out.stat().st_uid, out.stat().st_gid) == (4321, 4321)
