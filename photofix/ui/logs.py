"""The application log: one rotating file in the user's log folder, and "Show Logs".

:func:`setup_logging` (called once when the window starts) sends the ``photofix`` loggers, Qt's
own warnings, uncaught exceptions and native crashes (faulthandler) to ``photofix.log`` in
platformdirs' ``user_log_dir("PhotoFix")`` (``~/.local/state/PhotoFix/log`` on Linux,
``%LOCALAPPDATA%\\PhotoFix\\Logs`` on Windows, ``~/Library/Logs/PhotoFix`` on macOS), or
``$PHOTOFIX_LOG_DIR`` when set. The file rotates at 1 MB, three generations kept. A folder that
cannot be written never stops the program: logging then goes to stderr only.

A windowed Windows or macOS bundle has no console (``sys.stdout`` and ``sys.stderr`` are None);
they are pointed at the log so a stray ``print`` or a library's warning cannot raise.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import os
import platform
import sys
from pathlib import Path
from typing import IO

from photofix import __version__

LOG_FILE = "photofix.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

log = logging.getLogger("photofix")
_state: dict[str, object] = {}


def log_dir() -> Path:
    """The folder the log goes to (not created here)."""
    override = os.environ.get("PHOTOFIX_LOG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_log_dir

    return Path(user_log_dir("PhotoFix", appauthor=False))


def log_file() -> Path:
    return log_dir() / LOG_FILE


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Start logging to the log file; returns its path (None when it cannot be written).

    Idempotent: a second call returns the same path and adds no handler.
    """
    if "path" in _state:
        return _state["path"]  # type: ignore[return-value]
    path: Path | None = log_file()
    handler: logging.Handler
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        handler = logging.StreamHandler(sys.stderr or _devnull())
        print(f"photofix: cannot write the log in {path.parent}: {exc}", file=sys.stderr)
        path = None
    handler.setFormatter(logging.Formatter(FORMAT))
    log.addHandler(handler)
    log.setLevel(level)
    _state["path"] = path
    _state["handler"] = handler

    stream = getattr(handler, "stream", None)
    if sys.stdout is None:
        sys.stdout = stream or _devnull()
    if sys.stderr is None:
        sys.stderr = stream or _devnull()
    if stream is not None and not faulthandler.is_enabled():
        faulthandler.enable(file=stream)  # native crashes leave a traceback in the log
        _state["faulthandler"] = True

    previous_hook = sys.excepthook

    def excepthook(kind, value, tb) -> None:
        log.critical("uncaught exception", exc_info=(kind, value, tb))
        previous_hook(kind, value, tb)

    _state["excepthook"] = previous_hook
    sys.excepthook = excepthook
    _install_qt_handler()
    log.info(
        "PhotoFix %s starting (Python %s, %s, %s)",
        __version__,
        platform.python_version(),
        platform.platform(),
        "bundle" if getattr(sys, "frozen", False) else "source",
    )
    return path


def stop_logging() -> None:
    """Undo :func:`setup_logging` (tests; a later call starts again)."""
    from PySide6.QtCore import qInstallMessageHandler

    handler = _state.pop("handler", None)
    if isinstance(handler, logging.Handler):
        log.removeHandler(handler)
        handler.close()
    hook = _state.pop("excepthook", None)
    if hook is not None:
        sys.excepthook = hook  # type: ignore[assignment]
    if _state.get("faulthandler"):
        faulthandler.disable()
    qInstallMessageHandler(None)
    _state.clear()


def _devnull() -> IO[str]:
    return open(os.devnull, "w", encoding="utf-8")


def _install_qt_handler() -> None:
    """Qt's warnings (missing plugins, fonts, OpenGL) go to the log as well as stderr."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("photofix.qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind, _context, message) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)
        if kind != QtMsgType.QtDebugMsg and sys.stderr is not None:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def show_logs(parent=None) -> bool:
    """Open the log folder in the file manager; if none opens, say where it is."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QMessageBox

    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return True
    QMessageBox.information(
        parent, "PhotoFix logs", f"The log file is {folder / LOG_FILE}\n(no file manager opened)."
    )
    return False
