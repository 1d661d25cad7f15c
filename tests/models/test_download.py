"""The model download path, end to end against a local HTTP server (never the internet)."""

from __future__ import annotations

import hashlib
import socket
from dataclasses import replace

import numpy as np
import pytest

from photofix.core.errors import Cancelled, ChecksumMismatch, DownloadFailed, ModelMissing
from photofix.inference.progress import Progress
from photofix.models import download as dl
from photofix.models.spec import ModelSpec


def _spec(url: str, body: bytes, **weights) -> ModelSpec:
    w = dl.DownloadWeights(
        url=url, sha256=hashlib.sha256(body).hexdigest(), size=len(body), filename="test.pth"
    )
    return ModelSpec(
        id="test-model",
        title="Test model",
        task="colorize",
        scale=1,
        licence="MIT",
        weights=replace(w, **weights),
        build=lambda spec: None,  # type: ignore[arg-type, return-value]
    )


@pytest.fixture
def payload() -> bytes:
    return np.random.default_rng(7).bytes(600_000)


def test_install_downloads_verifies_and_moves_into_place(file_server, models_dir, payload):
    file_server.files["/w.pth"] = payload
    spec = _spec(file_server.url("/w.pth"), payload)
    seen = []
    path = dl.install(spec, Progress(lambda info: seen.append(info.fraction)))
    assert path == models_dir / "test.pth"
    assert path.read_bytes() == payload
    assert not (models_dir / "test.pth.part").exists()
    assert seen[-1] == 1.0 and len(seen) > 3
    assert dl.status(spec, check_hash=True).state == "installed"
    assert dl.verify(spec) == path
    # a second install finds it and does not download again
    dl.install(spec)
    assert len(file_server.requests) == 1


def test_wrong_hash_is_rejected_and_removed(file_server, models_dir, payload):
    file_server.files["/w.pth"] = payload
    spec = _spec(file_server.url("/w.pth"), payload, sha256="0" * 64)
    with pytest.raises(ChecksumMismatch, match="deleted"):
        dl.install(spec)
    assert list(models_dir.iterdir()) == []  # neither the file nor a part is left
    with pytest.raises(ModelMissing, match="photofix models install test-model"):
        dl.installed_path(spec)


def test_interrupted_transfer_is_resumed_with_a_range_request(file_server, models_dir, payload):
    file_server.files["/w.pth"] = payload
    file_server.drop_after = 250_000
    spec = _spec(file_server.url("/w.pth"), payload)
    with pytest.raises(DownloadFailed, match=r"interrupted|stopped"):
        dl.install(spec)
    part = models_dir / "test.pth.part"
    assert 0 < part.stat().st_size < len(payload)
    assert dl.status(spec).state == "partial"
    have = part.stat().st_size
    notes = []
    path = dl.install(spec, Progress(notice_callback=notes.append))
    assert path.read_bytes() == payload
    assert file_server.requests[-1] == ("/w.pth", f"bytes={have}-")
    assert any("Resuming" in n for n in notes)


def test_server_ignoring_ranges_restarts_cleanly(file_server, models_dir, payload):
    file_server.files["/w.pth"] = payload
    file_server.drop_after = 100_000
    spec = _spec(file_server.url("/w.pth"), payload)
    with pytest.raises(DownloadFailed):
        dl.install(spec)
    file_server.ignore_range = True
    assert dl.install(spec).read_bytes() == payload


def test_server_down_gives_a_clear_message(models_dir, payload):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = _spec(f"http://127.0.0.1:{port}/w.pth", payload)
    with pytest.raises(DownloadFailed) as err:
        dl.install(spec, timeout=5)
    message = str(err.value)
    assert "cannot be reached" in message
    assert "photofix models install test-model" in message  # install later
    assert "photofix models import test-model FILE" in message  # or import the file
    assert not (models_dir / "test.pth").exists()


def test_http_error_names_the_status(file_server, models_dir, payload):
    spec = _spec(file_server.url("/missing.pth"), payload)
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        dl.install(spec)


def test_cancel_stops_the_download_and_keeps_the_part_for_later(file_server, models_dir, payload):
    file_server.files["/w.pth"] = payload
    spec = _spec(file_server.url("/w.pth"), payload)
    holder: list[Progress] = []

    def on_update(info):
        if info.fraction > 0.2:
            holder[0].cancel()

    progress = Progress(on_update)
    holder.append(progress)
    with pytest.raises(Cancelled):
        dl.install(spec, progress)
    assert not (models_dir / "test.pth").exists()
    assert (models_dir / "test.pth.part").stat().st_size < len(payload)
    # resumes later
    assert dl.install(spec).read_bytes() == payload


def test_entry_without_published_checksum_is_refused(file_server, models_dir, payload):
    file_server.files["/w.pth"] = payload
    spec = _spec(file_server.url("/w.pth"), payload, sha256=None)
    with pytest.raises(DownloadFailed, match="no SHA-256"):
        dl.install(spec)
    assert file_server.requests == []


def test_import_file_checks_the_hash(tmp_path, models_dir, payload):
    spec = _spec("http://127.0.0.1:9/unused", payload)
    good, bad = tmp_path / "good.pth", tmp_path / "bad.pth"
    good.write_bytes(payload)
    bad.write_bytes(payload[:-1] + b"x")
    with pytest.raises(ChecksumMismatch, match="nothing was installed"):
        dl.import_file(spec, bad)
    assert not (models_dir / "test.pth").exists()
    assert dl.import_file(spec, good).read_bytes() == payload
    assert good.exists()  # copied, not moved


def test_verify_detects_a_damaged_file(file_server, models_dir, payload):
    file_server.files["/w.pth"] = payload
    spec = _spec(file_server.url("/w.pth"), payload)
    path = dl.install(spec)
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatch, match="damaged"):
        dl.verify(spec)
    assert dl.status(spec, check_hash=True).state == "damaged"
