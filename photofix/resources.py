"""Where bundled resources (sample scans, icons, bundled model files) are.

One code path everywhere: resources live in ``photofix/_resources`` beside the package when
PhotoFix is installed from a wheel or frozen by PyInstaller (the wheel build and
``packaging/photofix.spec`` both put them there; in a bundle the package folder is inside
``sys._MEIPASS``), and in the checkout's top-level ``resources/`` during development. Nothing
here asks whether the program is frozen, so the bundle runs exactly the lookups the tests run.
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """The resources folder: ``photofix/_resources`` when installed or frozen, else the
    checkout's top-level ``resources/``."""
    installed = _PACKAGE / "_resources"
    return installed if installed.is_dir() else _PACKAGE.parent / "resources"


def resource(*parts: str) -> Path:
    """A file under the resources folder (FileNotFoundError naming it when it is absent)."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"PhotoFix resource missing: {'/'.join(parts)} (looked in {path})")
    return path


def sample_scan() -> Path:
    """The bundled degraded sample scan a newcomer sees first."""
    return resources_dir() / "samples" / "sample_scan.jpg"


def icon_path(name: str = "photofix", size: int | None = None) -> Path:
    """An application icon file: ``<name>-<size>.png`` or, with ``size`` None, ``<name>.svg``."""
    file = f"{name}.svg" if size is None else f"{name}-{size}.png"
    return resource("icons", file)


def bundled_models_dir() -> Path:
    """Where an installer built with ``--with-downloaded-models`` carries the weight files that
    are otherwise downloaded on demand (absent in a checkout and in a plain build)."""
    return resources_dir() / "models"


def bundled_model(filename: str) -> Path | None:
    """The bundled copy of a downloadable model's weight file, or None."""
    path = bundled_models_dir() / filename
    return path if path.is_file() else None


def is_frozen() -> bool:
    """True inside a PyInstaller bundle (for messages only: lookups never branch on it)."""
    return bool(getattr(sys, "frozen", False))
