"""Automatic colorization: Zhang et al.'s networks, weights downloaded on demand.

Licence: BSD-2-Clause (richzhang/colorization: code and released models, Richard Zhang,
Phillip Isola, Alexei A. Efros et al.).

Why these and not DDColor/DeOldify: DDColor (Apache-2.0) gives livelier colour, but it is a
ConvNeXt encoder with a transformer colour decoder (its smallest published checkpoint is about
220 MB) that needs a GPU to be pleasant, and we found no published SHA-256 to pin its weights
to; DeOldify (MIT) is a fastai ResNet U-Net whose weights are served without checksums. Zhang's
SIGGRAPH17 network is a plain convolutional U-Net that runs in seconds at its 256×256 working
size on a CPU, takes the user's colour hints as *inputs* (it was trained for exactly that), and
the full SHA-256 of its checkpoint is published by several independent projects. Its automatic
colours are muted — an acceptable trade for an archivist's tool where hints carry the intent.
ECCV16 (automatic only, class-rebalanced, more saturated) is offered beside it; hints are
applied on top of its result.

Published files (torch.hub names carry the first 8 hex digits of the SHA-256):

=============  ==============================================  ============  ===========
model          file                                            bytes         SHA-256
=============  ==============================================  ============  ===========
siggraph17     siggraph17-df00044c.pth                         136 787 426   df00044c0a…
eccv16         colorization_release_v2-9b330a0b.pth            128 976 165   9b330a0bae…
=============  ==============================================  ============  ===========

The checkpoints are plain state dicts (no pickled objects): they load with
``torch.load(weights_only=True)`` into :mod:`photofix.models.nets.zhang` with ``strict=True``
(BatchNorm's ``num_batches_tracked`` counters may be absent; they are unused in eval).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from photofix.core.errors import ModelMissing
from photofix.models.download import DownloadWeights, verified_path
from photofix.models.spec import ModelSpec, Tiling

if TYPE_CHECKING:
    import torch

LICENCE = "BSD-2-Clause (richzhang/colorization, R. Zhang, P. Isola, A. A. Efros et al.)"
HOMEPAGE = "https://github.com/richzhang/colorization"
WORK_SIZE = 256  # the networks' training resolution; the reference demo resizes to 256×256

SIGGRAPH17_WEIGHTS = DownloadWeights(
    url="https://colorizers.s3.us-east-2.amazonaws.com/siggraph17-df00044c.pth",
    sha256="df00044c0a4d7c3edcecf6f75437ce346a66e7a42612d9b968e1a7e17dbc6f66",
    size=136_787_426,
    filename="siggraph17-df00044c.pth",
)
ECCV16_WEIGHTS = DownloadWeights(
    url="https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
    sha256="9b330a0bae53f4ded77b1e23defbf78beaa09c10ebc4c4999e8e4f4a160b93f9",
    size=128_976_165,
    filename="colorization_release_v2-9b330a0b.pth",
)


def _build(spec: ModelSpec) -> torch.nn.Module:
    import torch

    from photofix.models.nets import zhang

    path = verified_path(spec)
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = zhang.SIGGRAPH17() if spec.extra["hints"] else zhang.ECCV16()
    if not isinstance(state, dict):
        raise ModelMissing(f"{path.name} is not a state dict of {spec.title}")
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        raise ModelMissing(
            f"{path.name} does not hold {spec.title} weights (unexpected keys: "
            f"{', '.join(list(unexpected)[:3]) or 'none'}; missing: "
            f"{', '.join(k for k in missing if not k.endswith('num_batches_tracked'))[:80]})"
        )
    return net


def predict_ab(
    net: torch.nn.Module,
    l_star: np.ndarray,
    hint_ab: np.ndarray | None = None,
    hint_mask: np.ndarray | None = None,
    *,
    hints: bool,
) -> np.ndarray:
    """Run a loaded network on one working-size image.

    ``l_star`` float32 ``h×w`` L* in [0, 100] (h, w multiples of 8); ``hint_ab`` float32
    ``h×w×2`` a*b* and ``hint_mask`` float32 ``h×w`` in {0, 1} (SIGGRAPH17 only). Returns float32
    ``h×w×2`` a*b* (Lab units). The network's own parameters decide the device.
    """
    import torch

    param = next(net.parameters())
    with torch.inference_mode():
        l_t = torch.from_numpy(np.ascontiguousarray(l_star, np.float32))[None, None]
        l_t = l_t.to(param.device, param.dtype)
        if hints:
            h, w = l_star.shape
            ab = np.zeros((h, w, 2), np.float32) if hint_ab is None else hint_ab
            m = np.zeros((h, w), np.float32) if hint_mask is None else hint_mask
            ab_t = torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1)))[None]
            m_t = torch.from_numpy(np.ascontiguousarray(m, np.float32))[None, None]
            out = net(l_t, ab_t.to(param.device, param.dtype), m_t.to(param.device, param.dtype))
        else:
            out = net(l_t)
    return out[0].float().cpu().numpy().transpose(1, 2, 0).astype(np.float32)


def _forward(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The runner's call: ``x`` is 1×C×h×w, channel 0 the L* (0..100) and, for the
    hint-aware network, channels 1-2 the hint a*b* and 3 the hint mask. Returns a*b*."""
    if x.shape[1] == 4:
        return net(x[:, :1], x[:, 1:3], x[:, 3:4])
    return net(x)


def _spec(model_id: str, title: str, weights: DownloadWeights, hints: bool, summary: str):
    return ModelSpec(
        id=model_id,
        title=title,
        task="colorize",
        scale=1,
        licence=LICENCE,
        weights=weights,
        build=_build,
        channels=4 if hints else 1,  # L*, and hint a*b* + mask for the hint-aware network
        tiling=Tiling(tile=WORK_SIZE, overlap=0, context=0, multiple=8),
        reduced_precision=False,  # a 256-px input: float32 costs little and stays exact
        forward=_forward,
        kind="fixed-size",
        clip_output=False,  # a*b* in Lab units
        summary=summary,
        extra={"hints": hints, "work_size": WORK_SIZE, "homepage": HOMEPAGE},
    )


SIGGRAPH17 = _spec(
    "zhang-siggraph17",
    "Zhang SIGGRAPH 2017 colorizer (hint-aware)",
    SIGGRAPH17_WEIGHTS,
    True,
    "Automatic colour that also follows painted colour hints (convolutional U-Net).",
)
ECCV16 = _spec(
    "zhang-eccv16",
    "Zhang ECCV 2016 colorizer",
    ECCV16_WEIGHTS,
    False,
    "Automatic colour, more saturated; hints are applied on top (VGG-style network).",
)
SPECS = (SIGGRAPH17, ECCV16)
