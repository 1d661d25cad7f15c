"""Fixtures shared with the model tests: the local HTTP file server and a temporary models
folder (the ``photofix models`` command is tested against them, never the internet)."""

from tests.models.conftest import file_server, models_dir

__all__ = ["file_server", "models_dir"]
