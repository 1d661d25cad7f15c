"""Start-up: the window appears fast, without torch, and opens the file it is given."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from photofix.resources import sample_scan


def test_window_appears_quickly_without_importing_torch() -> None:
    code = (
        "import sys, time; t0 = time.perf_counter();"
        "from photofix.__main__ import main; main([sys.argv[1]]);"
        "print('total', time.perf_counter() - t0)"
    )
    env = {**os.environ, "PHOTOFIX_EXIT_AFTER_START": "1", "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    shown_at = None
    lines = []
    with subprocess.Popen(
        [sys.executable, "-c", code, str(sample_scan())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("photofix: window shown"):
                shown_at = time.perf_counter() - started
        proc.wait(timeout=60)
    assert proc.returncode == 0, lines
    assert shown_at is not None, lines
    assert "torch loaded: False" in "".join(lines)
    print(f"window shown {shown_at:.2f} s after process start")
    # the target is 1.5 s on this machine; the bound is generous for a loaded 2-core CI box
    assert shown_at < 6.0
