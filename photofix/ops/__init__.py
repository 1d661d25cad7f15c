"""User-facing operations shared by the CLI and the GUI.

The registry is an explicit, ordered list of imports: no discovery, so PyInstaller sees every
module and the order in menus is stable.
"""

from photofix.ops import defects, fade, inpaint, resize
from photofix.ops.registry import (
    Layers,
    OpContext,
    Operation,
    OperationRegistry,
    Param,
    parse_op_spec,
    run_operation,
)

REGISTRY = OperationRegistry(
    [fade.OPERATION, resize.OPERATION, defects.OPERATION, inpaint.INPAINT, inpaint.REMOVE]
)

__all__ = [
    "REGISTRY",
    "Layers",
    "OpContext",
    "Operation",
    "OperationRegistry",
    "Param",
    "parse_op_spec",
    "run_operation",
]
