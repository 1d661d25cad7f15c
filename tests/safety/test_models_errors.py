"""Audit class "tracebacks": a models folder that cannot be written, and a checkpoint the safe
loader refuses, are one line each (and the line never suggests turning safety off)."""

from __future__ import annotations

import pickle

import pytest

from photofix.ops import fade
from tests.safety.conftest import write_png


def test_models_folder_that_cannot_be_created_is_one_line(run, tmp_path, monkeypatch) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("PHOTOFIX_MODELS_DIR", str(tmp_path / "file" / "models"))
    r = run("models", "install", "fbcnn-color")
    assert r.code == 1
    r.one_error_line("models folder", "PHOTOFIX_MODELS_DIR")


class _NotWeights:
    """Anything but tensors: the safe unpickler refuses it."""


def test_checkpoint_refused_by_the_safe_loader_is_one_line(run, tmp_path, monkeypatch) -> None:
    torch = pytest.importorskip("torch")
    bad = tmp_path / "model.pth"
    bad.write_bytes(pickle.dumps({"weight": _NotWeights()}))

    def load_like_a_model(*args, **kwargs):
        torch.load(bad, map_location="cpu", weights_only=True)

    monkeypatch.setattr(fade, "correct_fade", load_like_a_model)
    write_png(tmp_path / "a.png")
    r = run("process", tmp_path / "a.png", "-o", tmp_path / "o.png", "--op", "fade", "-q")
    assert r.code == 1
    line = r.one_error_line("safe loader", "will not run code")
    assert "weights_only=False" not in line
    assert not (tmp_path / "o.png").exists()
