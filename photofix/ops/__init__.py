"""User-facing operations shared by the CLI and the GUI.

The registry is an explicit, ordered list of imports: no discovery, so PyInstaller sees every
module and the order in menus is stable.
"""

from photofix.ops import (
    colorize,
    defects,
    denoise,
    fade,
    geometry,
    heal,
    inpaint,
    jpeg_clean,
    resize,
    split_scan,
    tones,
    upscale,
)
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
    [
        fade.OPERATION,
        denoise.OPERATION,
        jpeg_clean.OPERATION,
        defects.OPERATION,
        inpaint.REMOVE,
        inpaint.INPAINT,
        upscale.OPERATION,
        resize.OPERATION,
        colorize.OPERATION,
        heal.HEAL,
        heal.CLONE,
        geometry.CROP,
        geometry.ROTATE,
        geometry.STRAIGHTEN,
        split_scan.OPERATION,
        tones.LEVELS,
        tones.CURVES,
        tones.EXPOSURE,
        tones.WHITE_BALANCE,
        tones.GRAYSCALE,
        tones.TONE,
    ]
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
