"""Picking a model that is not installed: the window offers the download, verifies it, and
applies the operation; offline, it says so and changes nothing. Served from 127.0.0.1 only."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from photofix.inference.runner import unload_models
from photofix.models import MODELS, zhang_colorization
from photofix.ops import REGISTRY
from photofix.ops import colorize as colorize_op
from photofix.ui.controller import PreviewRequest
from tests.models.conftest import file_server, models_dir  # noqa: F401  (fixtures)
from tests.models.test_zhang_colorization import (  # noqa: F401  (fixture)
    _served_spec,
    siggraph17_checkpoint,
)
from tests.ui.conftest import wait_idle
from tests.ui.test_workspace import opened

MODEL = "zhang-siggraph17"
YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


@pytest.fixture
def served(monkeypatch, file_server, models_dir, siggraph17_checkpoint):  # noqa: F811
    file_server.files["/siggraph17.pth"] = siggraph17_checkpoint
    spec = _served_spec(
        zhang_colorization.SIGGRAPH17, siggraph17_checkpoint, file_server.url("/siggraph17.pth")
    )
    monkeypatch.setitem(MODELS, MODEL, spec)
    monkeypatch.setitem(colorize_op.MODEL_SPECS, MODEL, spec)
    colorize_op.LAST_SOLUTION.clear()
    yield spec
    unload_models()


def _colorize_auto(window) -> None:
    window.controller.apply_operation(
        PreviewRequest(REGISTRY.get("colorize"), {"mode": "auto", "model": MODEL})
    )
    wait_idle(window, 120)
    QApplication.processEvents()
    wait_idle(window, 120)


def test_missing_model_is_offered_downloaded_verified_and_applied(
    window,
    answers,
    served,
    models_dir,  # noqa: F811
) -> None:
    opened(window)
    doc = window.controller.document
    before = doc.image.copy()
    answers.replies.append(YES)
    _colorize_auto(window)
    assert any("not installed" in q and "Download it now" in q for q in answers.asked)
    assert (models_dir / served.weights.filename).is_file()
    assert not np.array_equal(doc.image, before)  # colorized, as one step
    assert doc.history.steps[-1].op == "colorize" and not answers.warnings


def test_offline_download_explains_and_changes_nothing(
    window,
    answers,
    served,
    models_dir,  # noqa: F811
) -> None:
    opened(window)
    doc = window.controller.document
    before, steps = doc.image.copy(), len(doc.history.steps)
    bad = _served_spec(zhang_colorization.SIGGRAPH17, b"x", "http://127.0.0.1:9/none.pth")
    MODELS[MODEL] = colorize_op.MODEL_SPECS[MODEL] = bad  # port 9: nothing listens
    answers.replies.append(YES)
    _colorize_auto(window)
    (warning,) = answers.warnings  # says what happened and what to do instead
    assert "not answering" in warning and "photofix models import zhang-siggraph17" in warning
    assert np.array_equal(doc.image, before) and len(doc.history.steps) == steps
    assert not any(models_dir.glob("*.pth"))


def test_declining_the_download_leaves_everything_as_it_was(window, answers, served) -> None:
    opened(window)
    doc = window.controller.document
    before = doc.image.copy()
    answers.replies.append(NO)
    _colorize_auto(window)
    assert np.array_equal(doc.image, before) and not answers.warnings
