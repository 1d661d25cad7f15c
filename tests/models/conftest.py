"""Model test fixtures: a per-session converted-weights cache, and a local HTTP server for
download tests (127.0.0.1 only; no test touches the internet)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class FileServer:
    """Serves ``files`` (path -> bytes) with HTTP Range support.

    ``drop_after``: on the next GET, send only this many bytes of the body, then close the
    connection (an interrupted transfer). ``ignore_range``: answer 200 with the whole file even
    when a Range is asked for. ``requests`` records (path, Range header) of every GET.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    drop_after: int | None = None
    ignore_range: bool = False
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:
            rng = self.headers.get("Range")
            state.requests.append((self.path, rng))
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            start, status = 0, 200
            if rng and not state.ignore_range:
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.end_headers()
                    return
                status = 206
            part = body[start:]
            self.send_response(status)
            self.send_header("Content-Length", str(len(part)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.end_headers()
            drop, state.drop_after = state.drop_after, None
            if drop is not None:
                self.wfile.write(part[:drop])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(part)

    return Handler


@pytest.fixture(autouse=True)
def _weights_cache(tmp_path_factory, monkeypatch) -> None:
    """Model tests convert real package weights; keep their cache in a per-session folder."""
    monkeypatch.setenv("PHOTOFIX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    state = FileServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty models folder for this test ($PHOTOFIX_MODELS_DIR)."""
    folder = tmp_path / "models"
    monkeypatch.setenv("PHOTOFIX_MODELS_DIR", str(folder))
    return folder
