"""Converted-weights cache: each source file set is converted once and kept as safetensors.

The cache key is the SHA-256 of the source files, so an updated package converts again, and
a damaged cache file (truncated, unreadable, wrong tensors) is detected and rebuilt. Files live
in the user cache directory (platformdirs), or ``$PHOTOFIX_CACHE_DIR`` when set (tests, portable
installs). Writes are atomic.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

StateDict = dict[str, np.ndarray]


def cache_dir() -> Path:
    """Folder for converted weights (created on demand)."""
    override = os.environ.get("PHOTOFIX_CACHE_DIR")
    if override:
        base = Path(override)
    else:
        from platformdirs import user_cache_dir

        base = Path(user_cache_dir("PhotoFix", appauthor=False))
    return base / "weights"


def files_sha256(paths: Iterable[Path]) -> str:
    """SHA-256 over the contents of ``paths`` in order (names excluded)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def cached_conversion(
    model_id: str, sources: list[Path], convert: Callable[[], StateDict], *, force: bool = False
) -> StateDict:
    """Return ``convert()``'s float32 tensors, from the cache when a readable copy exists.

    A cache file that cannot be read is replaced; ``force`` converts again regardless (the
    loader uses it when cached tensors do not fit the network).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file, save_file

    key = files_sha256(sources)[:16]
    path = cache_dir() / f"{model_id}-{key}.safetensors"
    if path.is_file() and not force:
        try:
            tensors = load_file(path)
            if tensors and all(v.dtype == np.float32 for v in tensors.values()):
                return tensors
        except (SafetensorError, OSError, ValueError):
            pass  # damaged: convert again below
    tensors = {k: np.ascontiguousarray(v, np.float32) for k, v in convert().items()}
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, tmp, metadata={"source_sha256_16": key, "model": model_id})
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full cache folder: use the converted weights without keeping them
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return tensors


def load_state(
    spec_id: str,
    sources: list[Path],
    convert: Callable[[], StateDict],
    make_net: Callable[[StateDict], torch.nn.Module],
) -> torch.nn.Module:
    """Build a network from converted (cached) weights; a cache entry that does not fit the
    network is converted again once."""
    import torch

    for force in (False, True):
        tensors = cached_conversion(spec_id, sources, convert, force=force)
        net = make_net(tensors)
        try:
            net.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
        except (RuntimeError, KeyError, ValueError):
            if force:
                raise
            continue
        return net
    raise AssertionError("unreachable")
