"""Model tests convert real package weights; keep their cache in a per-session temp folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _weights_cache(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("PHOTOFIX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
