"""The Linux installer build, end to end (marker ``build``: minutes of both cores and ~3 GB of
disk, so never run by default; ``pytest -m build tests/packaging``).

Runs ``packaging/build_linux.sh`` (bundle, smoke test, tarball; an AppImage too when
appimagetool is on PATH) and checks the issue's limits: the unpacked bundle at most 900 MB and
the tarball at most 350 MB with every bundled model; then the smoke test once more against the
finished bundle; and that the Inno Setup script compiles (under wine, when installed).
``PHOTOFIX_REUSE_BUILD=1`` checks an existing ``dist/`` instead of building.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import bundle_contents  # noqa: E402

pytestmark = [
    pytest.mark.build,
    pytest.mark.skipif(sys.platform != "linux", reason="the Linux build (others build in CI)"),
]
MB = 1_000_000


@pytest.fixture(scope="module")
def built() -> Path:
    dist = ROOT / "dist"
    if not os.environ.get("PHOTOFIX_REUSE_BUILD"):
        if shutil.which("nice"):
            cmd = ["nice", "-n", "10", "bash", "packaging/build_linux.sh"]
        else:
            cmd = ["bash", "packaging/build_linux.sh"]
        subprocess.run(cmd, cwd=ROOT, check=True, timeout=3600)
    assert (dist / "PhotoFix").is_dir(), "no bundle in dist/PhotoFix"
    return dist


def test_bundle_and_tarball_fit_their_size_limits(built: Path) -> None:
    size = bundle_contents.bundle_size(built / "PhotoFix")
    tarballs = sorted(built.glob("PhotoFix-*-linux-*.tar.xz"))
    assert tarballs, "no tarball"
    packed = tarballs[-1].stat().st_size
    print(f"bundle {size / MB:.0f} MB unpacked, tarball {packed / MB:.0f} MB")
    assert size <= 900 * MB
    assert packed <= 350 * MB
    # every bundled model's weights are inside
    for src, dest in bundle_contents.package_weights():
        assert (built / "PhotoFix" / "_internal" / dest / Path(src).name).is_file(), dest


def test_smoke_test_passes_against_the_bundle(built: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "smoke_test.py"), str(built / "PhotoFix")],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    print(done.stdout, done.stderr)
    assert done.returncode == 0
    assert "smoke: passed" in done.stdout


def _iscc() -> Path | None:
    for base in (ROOT, Path.home()):
        path = base / "node_modules" / "innosetup" / "bin" / "ISCC.exe"
        if path.is_file():
            return path
    return None


@pytest.mark.skipif(shutil.which("wine") is None, reason="needs Debian's wine (+ wine32:i386)")
def test_inno_setup_script_compiles() -> None:
    iscc = _iscc()
    if iscc is None:
        pytest.skip("npm install innosetup (Inno Setup's compiler) first")
    done = subprocess.run(
        ["bash", str(ROOT / "packaging" / "windows" / "check_iss.sh"), str(iscc)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "photofix.iss compiles" in done.stdout
