"""FFDNet denoisers, from the weights inside the ``ffdnet`` package (IPOL reimplementation).

Licence: GPL-3.0 (ffdnet package, M. Tassano et al.; FFDNet by K. Zhang et al. 2018).
Gaussian-type denoising steered by a noise level σ (in 0..255 units of an 8-bit image). The
network works on the four 2×2 polyphase sub-images, so tiles must start on even pixels.
Weights load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from photofix.models.spec import ModelSpec, PackageWeights, Tiling

if TYPE_CHECKING:
    import torch

LICENCE = "GPL-3.0 (ffdnet package by M. Tassano; FFDNet by K. Zhang, W. Zuo, L. Zhang)"


def _build(spec: ModelSpec) -> torch.nn.Module:
    import torch

    from photofix.models.nets.ffdnet import FFDNet, strip_dataparallel

    (path,) = spec.weights.paths()
    state = strip_dataparallel(torch.load(path, map_location="cpu", weights_only=True))
    net = FFDNet(spec.channels)
    missing, unexpected = net.load_state_dict(state, strict=False)
    # the checkpoint predates BatchNorm's num_batches_tracked counters (unused in eval)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        from photofix.core.errors import ModelMissing

        raise ModelMissing(f"{path.name} does not hold FFDNet weights; reinstall ffdnet")
    return net


def _forward(net: torch.nn.Module, x: torch.Tensor, *, sigma: float) -> torch.Tensor:
    """Denoise x (N×C×H×W in [0, 1]) assuming Gaussian noise of ``sigma`` (0..255 scale)."""
    return net(x, sigma / 255.0)


def _spec(model_id: str, channels: int, file: str, title: str) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        title=title,
        task="denoise",
        scale=1,
        licence=LICENCE,
        weights=PackageWeights("ffdnet", "ffdnet", (file,)),
        build=_build,
        channels=channels,
        tiling=Tiling(tile=512, overlap=16, context=24, align=2),
        forward=_forward,
        # bfloat16 costs 0.3 dB of denoising PSNR (measured, astronaut σ25): always float32
        reduced_precision=False,
        summary="Removes grain and sensor noise of a given strength (0.85 M params).",
    )


COLOR = _spec("ffdnet-color", 3, "ffdnet_weights_rgb.pth", "FFDNet colour denoiser")
GRAY = _spec("ffdnet-gray", 1, "ffdnet_weights_gray.pth", "FFDNet grayscale denoiser")
SPECS = (COLOR, GRAY)
