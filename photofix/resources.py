"""Where bundled resources (sample scans, icons) are, in a checkout, a wheel or a bundle."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """The resources folder: ``photofix/_resources`` when installed or frozen (the wheel and
    the PyInstaller spec put it there), else the checkout's top-level ``resources/``."""
    installed = _PACKAGE / "_resources"
    return installed if installed.is_dir() else _PACKAGE.parent / "resources"


def sample_scan() -> Path:
    """The bundled degraded sample scan a newcomer sees first."""
    return resources_dir() / "samples" / "sample_scan.jpg"
