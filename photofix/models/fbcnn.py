"""FBCNN colour JPEG-artefact removal, weights downloaded on demand.

Licence: Apache-2.0 (jiaxi-jiang/FBCNN: code and the v1.0 released models; J. Jiang, K. Zhang,
R. Timofte, ICCV 2021).

Why: the bundled waifu2x photo models remove JPEG blocking by about 1.1–1.4 dB at quality 20–40
(``benchmarks/bench_denoise.py``); FBCNN is a network trained for exactly this task at every
quality (its paper reports about +2.5 dB on LIVE1 colour at quality 20), steered by the
compression quality, which :mod:`photofix.ops.jpeg_quality` reads from the file itself.

Published file (release v1.0 of the upstream repository; size and SHA-256 as recorded by
several independent projects that pin it):

================  ============  ==========================================================
file              bytes         SHA-256
================  ============  ==========================================================
fbcnn_color.pth   287 755 111   8b0e4ef23d59cf7ac934a342cb31a17619e4fa4a0b3374a9d78c5174312387e8
================  ============  ==========================================================

A plain state dict: it loads with ``torch.load(weights_only=True)`` and ``strict=True`` into
:mod:`photofix.models.nets.fbcnn`. 72 M parameters; float32 everywhere (its speed is a GPU's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from photofix.core.errors import ModelMissing
from photofix.models.download import DownloadWeights, verified_path
from photofix.models.spec import ModelSpec, Tiling

if TYPE_CHECKING:
    import numpy as np
    import torch

LICENCE = "Apache-2.0 (jiaxi-jiang/FBCNN, J. Jiang, K. Zhang, R. Timofte)"
HOMEPAGE = "https://github.com/jiaxi-jiang/FBCNN"

COLOR_WEIGHTS = DownloadWeights(
    url="https://github.com/jiaxi-jiang/FBCNN/releases/download/v1.0/fbcnn_color.pth",
    sha256="8b0e4ef23d59cf7ac934a342cb31a17619e4fa4a0b3374a9d78c5174312387e8",
    size=287_755_111,
    filename="fbcnn_color.pth",
)


def _build(spec: ModelSpec) -> torch.nn.Module:
    import torch

    from photofix.models.nets.fbcnn import FBCNN

    path = verified_path(spec)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ModelMissing(f"{path.name} is not a state dict of {spec.title}")
    net = FBCNN(spec.channels, spec.channels)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelMissing(f"{path.name} does not hold {spec.title} weights ({exc})") from None
    return net


def quality_input(quality: float) -> torch.Tensor:
    """The network's quality input for a JPEG quality (1..100)."""
    import torch

    return torch.tensor([[1.0 - min(max(float(quality), 1.0), 100.0) / 100.0]])


def _forward(net: torch.nn.Module, x: torch.Tensor, *, quality: float) -> torch.Tensor:
    """Restore x (N×3×H×W in [0, 1]) compressed at JPEG ``quality`` (1..100)."""
    q = quality_input(quality).to(x.device).expand(x.shape[0], 1)
    return net(x, q)[0]


def predict_quality(runner: Any, image: np.ndarray, size: int = 512) -> float:
    """The JPEG quality (1..100) the network reads from the centre ``size``² of ``image``
    (float32 H×W×3 in [0, 1]), run through ``runner`` (a ModelRunner of this spec: its
    device, precision and step record):
    one estimate for the whole picture, so every tile is cleaned alike (the reference predicts
    it per call, which would differ tile to tile)."""
    h, w = image.shape[:2]
    ch, cw = min(h, size), min(w, size)
    y0, x0 = (h - ch) // 2 // 8 * 8, (w - cw) // 2 // 8 * 8  # on the 8-px JPEG grid
    crop = image[y0 : y0 + ch, x0 : x0 + cw]
    predicted = runner.evaluate(crop, lambda net, x: net(x)[1])
    return float(100.0 * (1.0 - float(predicted.reshape(-1)[0])))


COLOR = ModelSpec(
    id="fbcnn-color",
    title="FBCNN colour JPEG clean-up",
    task="jpeg",
    scale=1,
    licence=LICENCE,
    weights=COLOR_WEIGHTS,
    build=_build,
    channels=3,
    # tiles and their context start on the 8-px JPEG block grid; the U-Net needs multiples of 8
    tiling=Tiling(tile=512, overlap=32, context=32, multiple=8, align=8),
    reduced_precision=False,  # unmeasured in bf16/fp16 here: keep the reference's float32
    forward=_forward,
    summary="Removes JPEG blocks and ringing at any quality, steered by the file's quality.",
    extra={"homepage": HOMEPAGE},
)
SPECS = (COLOR,)
