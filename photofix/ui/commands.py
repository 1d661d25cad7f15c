"""How the window writes a step's parameters (the history panel, the status bar).

Running a step and committing it is the step engine's (:mod:`photofix.ops.steps`: ``run_step``,
``commit``, ``mask_edit_request``); the window keeps no copy of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def describe_params(params: Mapping[str, Any]) -> str:
    """Parameters as the history panel lists them: ``clip 0.5, balance off``."""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "on" if value else "off"
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = str(value)
        parts.append(f"{key.replace('_', ' ')} {text}")
    return ", ".join(parts)
