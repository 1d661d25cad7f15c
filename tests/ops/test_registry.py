"""Operation specs, parameter parsing and the generic strength/mask blend."""

from __future__ import annotations

import numpy as np
import pytest

from photofix.core.errors import OperationError
from photofix.ops import REGISTRY, Layers, parse_op_spec, run_operation
from photofix.ops.registry import Param, blend


def test_registry_lists_the_shipped_operations_in_order() -> None:
    assert REGISTRY.names() == [
        "fade", "denoise", "jpeg-clean", "detect-defects", "remove-defects", "inpaint",
        "upscale", "resize", "colorize", "heal", "clone", "crop", "rotate", "straighten",
        "split-scan", "levels", "curves", "exposure", "white-balance", "grayscale", "tone",
    ]  # fmt: skip
    with pytest.raises(OperationError, match=r"unknown operation .blurr.*fade"):
        REGISTRY.get("blurr")


def test_parse_op_spec() -> None:
    assert parse_op_spec("resize:scale=0.5, method=area") == (
        "resize",
        {"scale": "0.5", "method": "area"},
    )
    assert parse_op_spec("fade") == ("fade", {})
    # a list value continues over commas until the next key=value
    assert parse_op_spec("detect-defects:kinds=dust,scratches,tears,sensitivity=0.7") == (
        "detect-defects",
        {"kinds": "dust,scratches,tears", "sensitivity": "0.7"},
    )
    for bad in (":x=1", "resize:scale", "resize:=3"):
        with pytest.raises(OperationError):
            parse_op_spec(bad)


@pytest.mark.parametrize(
    ("param", "text", "expected"),
    [
        (Param("s", "float", 1.0, minimum=0, maximum=2), "1.5", 1.5),
        (Param("n", "int", 1, minimum=1), "3", 3),
        (Param("b", "bool", True), "no", False),
        (Param("m", "choice", "a", choices=("a", "b")), "b", "b"),
        (Param("sigma", "float", 25.0, minimum=0, maximum=75, allow_auto=True), "AUTO", "auto"),
    ],
)
def test_param_parse(param: Param, text: str, expected: object) -> None:
    assert param.parse(text) == expected


@pytest.mark.parametrize(
    ("param", "text", "message"),
    [
        (Param("s", "float", 1.0, minimum=0, maximum=2), "3", "from 0 to 2"),
        (Param("s", "float", 1.0), "nan", "finite"),
        (Param("n", "int", 1), "1.5", "whole number"),
        (Param("m", "choice", "a", choices=("a", "b")), "c", "one of a, b"),
        (Param("b", "bool", True), "maybe", "true or false"),
    ],
)
def test_param_rejects_with_reason(param: Param, text: str, message: str) -> None:
    with pytest.raises(OperationError, match=message):
        param.parse(text)


def test_resolve_fills_defaults_and_rejects_unknown_keys() -> None:
    fade = REGISTRY.get("fade")
    assert fade.resolve({"strength": "0.5"}) == {"strength": 0.5, "clip": 0.5, "balance": False}
    with pytest.raises(OperationError, match=r"no parameter .sharpness.*strength"):
        fade.resolve({"sharpness": "1"})


def test_strength_and_mask_limit_keep_untouched_pixels_bit_identical(photos) -> None:
    image = photos["coffee"][:64, :64] * 0.6 + 0.2  # low contrast so fade changes it
    mask = np.zeros((64, 64), bool)
    mask[20:40, 20:40] = True
    fade = REGISTRY.get("fade")
    full = run_operation(fade, Layers(image), {}).image
    limited = run_operation(fade, Layers(image, mask=mask), {}, limit_to_mask=True).image
    assert np.array_equal(limited[~mask], image[~mask])
    assert np.array_equal(limited[mask], full[mask])
    half = run_operation(fade, Layers(image), {}, strength=0.5).image
    np.testing.assert_allclose(half, (image + full) / 2, atol=1e-6)
    with pytest.raises(OperationError, match="mask is empty"):
        run_operation(fade, Layers(image, mask=np.zeros((64, 64), bool)), {}, limit_to_mask=True)


def test_blend_endpoints_are_exact(rng) -> None:
    a = rng.random((5, 5, 3), dtype=np.float32)
    b = rng.random((5, 5, 3), dtype=np.float32)
    w = rng.random((5, 5)).astype(np.float32)
    w[0] = 0
    w[1] = 1
    out = blend(a, b, w)
    assert np.array_equal(out[0], a[0]) and np.array_equal(out[1], b[1])
