"""Audit class "temp files left after SIGTERM/SIGHUP": a stop signal while the output is being
written removes the temporary file, as Ctrl-C does; temporary files of a killed run are swept
from the output folder by the next save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from photofix.core import imageio
from tests.safety.conftest import write_png

# The child signals itself from inside the PNG writer, after the temporary file has bytes in
# it: the moment a real `kill` would most likely land during a long save.
_STOPPED_MID_WRITE = """
import os, signal, sys
# Ctrl-C's handler, as in a terminal (a shell's background job starts with SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
from photofix.core import imageio
from photofix.cli import main
real = imageio._write_png
def write_then_stop(target, frame):
    real(target, frame)
    assert target.stat().st_size > 0
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    real(target, frame)
imageio._write_png = write_then_stop
sys.exit(main(["process", "a.png", "-o", "out.png", "--op", "fade", "-q"]))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_stop_signal_mid_write_leaves_nothing(tmp_path: Path, name: str) -> None:
    import photofix

    write_png(tmp_path / "a.png")
    root = str(Path(photofix.__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", _STOPPED_MID_WRITE, name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": root})  # fmt: skip
    signum = getattr(signal, name)
    assert done.returncode in (128 + signum, 130), (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("photofix: error: "), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temp_files_are_swept_from_the_output_folder(run, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    stale = tmp_path / f".out.png{imageio.TEMP_MARK}{_dead_pid()}-0123456789ab"
    stale.write_bytes(b"half a picture")
    mine = tmp_path / f".out.png{imageio.TEMP_MARK}{os.getpid()}-ba9876543210"
    mine.write_bytes(b"being written")  # a live process's temp file is left alone
    unrelated = tmp_path / ".notes.photofix-tmp-draft"
    unrelated.write_bytes(b"not ours")
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "out.png", "--op", "fade", "-q")
    assert r.code == 0, r.err
    assert not stale.exists() and mine.exists() and unrelated.exists()


def test_old_temp_files_without_a_pid_are_swept(tmp_path: Path) -> None:
    old = tmp_path / f".x.png{imageio.TEMP_MARK}0123456789ab"
    old.write_bytes(b"x")
    os.utime(old, (0, 0))
    young = tmp_path / f".y.png{imageio.TEMP_MARK}0123456789ab"
    young.write_bytes(b"y")
    imageio.save_image(tmp_path / "z.png", np.zeros((2, 2, 3), np.float32))
    assert not old.exists() and young.exists()
