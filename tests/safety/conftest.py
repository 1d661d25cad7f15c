"""Helpers for the hostile-input suite: run the command (in this process, or as a child when
signals, hangs or the entry point are under test) and check what the user would see.

Every input is generated in the test's own folder, small: the whole suite runs in well under
two minutes on two cores.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photofix.cli import main as cli_main

ERROR = "photofix: error: "


@dataclass
class Result:
    code: int
    out: str
    err: str

    def one_error_line(self, *words: str) -> str:
        """The single stderr line, checked: an error line, no traceback or library chatter, and
        each of ``words`` in it (case-insensitive). Returns it."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert "Traceback" not in self.err, self.err
        assert len(lines) == 1, f"expected one line on stderr, got:\n{self.err}"
        assert lines[0].startswith(ERROR), lines[0]
        for word in words:
            assert word.lower() in lines[0].lower(), (word, lines[0])
        return lines[0]


@pytest.fixture
def run(capfd: pytest.CaptureFixture[str]):
    """``run(*args)``: photofix's CLI in this process; an exception escaping it fails the test
    (that would be a traceback for the user)."""

    def go(*args: object) -> Result:
        capfd.readouterr()
        code = cli_main([str(a) for a in args])
        captured = capfd.readouterr()
        return Result(code, captured.out, captured.err)

    return go


def run_child(*args: object, cwd: Path, timeout: float = 60, env: dict | None = None) -> Result:
    """``python -m photofix ARGS`` as a separate process (offscreen Qt, no display)."""
    import photofix

    code_root = str(Path(photofix.__file__).resolve().parent.parent)  # the code under test
    path = os.pathsep.join(filter(None, [code_root, os.environ.get("PYTHONPATH")]))
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": path, **(env or {})}
    full_env.pop("DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "photofix", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) and its SHA-256."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def photo(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A small uint8 RGB picture with smooth structure and some grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / w, y / h, 0.5 + 0.3 * np.sin(x / 5.0)], axis=-1) * 200 + 20
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def write_png(path: Path, h: int = 48, w: int = 64, seed: int = 0) -> Path:
    Image.fromarray(photo(h, w, seed)).save(path)
    return path


def write_mask(path: Path, h: int = 48, w: int = 64) -> Path:
    mask = np.zeros((h, w), np.uint8)
    mask[10:20, 10:30] = 255
    Image.fromarray(mask).save(path)
    return path
