"""``photofix models ...`` and ``photofix process --op colorize`` as a user runs them."""

from __future__ import annotations

import hashlib
import socket

import cv2
import numpy as np
import pytest

from photofix import models
from photofix.__main__ import main
from photofix.core.chroma import luma
from photofix.models.download import DownloadWeights
from photofix.models.spec import ModelSpec


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _test_spec(url: str, body: bytes) -> ModelSpec:
    weights = DownloadWeights(url, hashlib.sha256(body).hexdigest(), len(body), "cli-test.pth")
    return ModelSpec("cli-test", "CLI test model", "colorize", 1, "MIT", weights, lambda s: None)  # type: ignore[arg-type, return-value]


def test_models_list_shows_downloadable_models_and_their_licences(capsys, models_dir):
    code, out, _ = run(capsys, "models", "list")
    assert code == 0
    assert "zhang-siggraph17" in out and "zhang-eccv16" in out
    assert "BSD-2-Clause" in out
    assert "136.8 MB: missing" in out


def test_models_install_verify_and_import(capsys, monkeypatch, file_server, models_dir, tmp_path):
    body = np.random.default_rng(3).bytes(300_000)
    file_server.files["/m.pth"] = body
    monkeypatch.setitem(models.MODELS, "cli-test", _test_spec(file_server.url("/m.pth"), body))
    code, out, _ = run(capsys, "models", "install", "cli-test")
    assert code == 0 and "installed and verified" in out
    assert (models_dir / "cli-test.pth").read_bytes() == body
    code, out, _ = run(capsys, "models", "verify", "cli-test")
    assert code == 0 and "cli-test: OK" in out
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not the model")
    code, _, err = run(capsys, "models", "import", "cli-test", bad)
    assert code == 1 and "nothing was installed" in err


def test_models_install_offline_says_what_to_do(capsys, monkeypatch, models_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = _test_spec(f"http://127.0.0.1:{port}/m.pth", b"x")
    monkeypatch.setitem(models.MODELS, "cli-test", spec)
    code, _, err = run(capsys, "models", "install", "cli-test")
    assert code == 1
    assert err.startswith("photofix: error: ")
    assert "photofix models install cli-test" in err and "import" in err


def test_models_install_unknown_id(capsys, models_dir):
    code, _, err = run(capsys, "models", "install", "no-such-model")
    assert code == 1 and "unknown model" in err


@pytest.mark.parametrize("bits", [8])
def test_process_colorize_with_a_hints_png_keeps_the_tones(capsys, tmp_path, photos, bits):
    photo = cv2.resize(photos["coffee"], (160, 106), interpolation=cv2.INTER_AREA)
    y = luma(photo)
    gray8 = (y * 255 + 0.5).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "gray.png"), gray8)
    hints = np.zeros((106, 160, 4), np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(20):
        r, c = rng.integers(0, 103), rng.integers(0, 157)
        hints[r : r + 3, c : c + 3, :3] = (photo[r : r + 3, c : c + 3, ::-1] * 255).astype(np.uint8)
        hints[r : r + 3, c : c + 3, 3] = 255
    cv2.imwrite(str(tmp_path / "hints.png"), hints)
    code, _, err = run(
        capsys, "process", tmp_path / "gray.png", "--hints", tmp_path / "hints.png",
        "--op", "colorize:mode=hints,saturation=1", "-o", tmp_path / "out.png", "-q",
    )  # fmt: skip
    assert code == 0, err
    out = cv2.cvtColor(cv2.imread(str(tmp_path / "out.png")), cv2.COLOR_BGR2RGB)
    out = out.astype(np.float32) / 255.0
    assert np.abs(out[..., 0] - out[..., 2]).max() > 0.05  # coloured
    assert np.abs(luma(out) - gray8 / 255.0).max() < 1 / 255
