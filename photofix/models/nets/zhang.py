"""Zhang et al.'s colorization networks, laid out as the published PyTorch checkpoints.

- ``ECCV16``: "Colorful Image Colorization" (ECCV 2016): a VGG-style stack over the L* channel,
  313-bin colour classification, annealed by a fixed 1×1 projection to a*b*.
- ``SIGGRAPH17``: "Real-Time User-Guided Image Colorization with Learned Deep Priors"
  (SIGGRAPH 2017): a U-Net over L*, hint a*b* and a hint mask; regression to a*b*.

Module names and indices match the state dicts of richzhang/colorization (BSD-2-Clause)
(``model1.0.weight``, ``model1.4.running_mean``, ``model8up.0.weight``...), so the published
files load with ``strict=True``. Inputs: ``lum`` = L* in [0, 100], ``ab`` = a*b* (Lab units),
``mask`` in {0, 1} (the caffe-converted SIGGRAPH17 weights use an uncentred mask, the
colorization-pytorch option ``mask_cent = 0``). Output: a*b* in Lab units, N×2×H×W at the input
size (ECCV16 upsamples its quarter-resolution output bilinearly, as the reference does).
H and W must be multiples of 8.

torch is imported when this module is imported: only :mod:`photofix.models.zhang_colorization`
imports it, inside its build function.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

L_CENT, L_NORM, AB_NORM = 50.0, 100.0, 110.0


def _block(
    channels: list[int],
    *,
    dilation: int = 1,
    last_stride: int = 1,
    lead_relu: bool = False,
    norm: bool = True,
) -> nn.Sequential:
    """[ReLU,] (Conv 3×3, ReLU)×n [, BatchNorm] — the layout of every Zhang block."""
    layers: list[nn.Module] = [nn.ReLU(True)] if lead_relu else []
    n = len(channels) - 1
    for i, (cin, cout) in enumerate(itertools.pairwise(channels)):
        stride = last_stride if i == n - 1 else 1
        layers += [
            nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation),
            nn.ReLU(True),
        ]
    if norm:
        layers.append(nn.BatchNorm2d(channels[-1]))
    return nn.Sequential(*layers)


class ECCV16(nn.Module):
    """Automatic colorization (no hints). ``forward(lum)`` -> a*b*."""

    def __init__(self) -> None:
        super().__init__()
        self.model1 = _block([1, 64, 64], last_stride=2)
        self.model2 = _block([64, 128, 128], last_stride=2)
        self.model3 = _block([128, 256, 256, 256], last_stride=2)
        self.model4 = _block([256, 512, 512, 512])
        self.model5 = _block([512, 512, 512, 512], dilation=2)
        self.model6 = _block([512, 512, 512, 512], dilation=2)
        self.model7 = _block([512, 512, 512, 512])
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1),
            nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(True),
            nn.Conv2d(256, 313, 1),
        )
        self.softmax = nn.Softmax(dim=1)
        self.model_out = nn.Conv2d(313, 2, 1, bias=False)

    def forward(self, lum: torch.Tensor) -> torch.Tensor:
        x = (lum - L_CENT) / L_NORM
        for block in (self.model1, self.model2, self.model3, self.model4, self.model5,
                      self.model6, self.model7, self.model8):  # fmt: skip
            x = block(x)
        ab = self.model_out(self.softmax(x)) * AB_NORM
        return nn.functional.interpolate(ab, scale_factor=4, mode="bilinear", align_corners=False)


class SIGGRAPH17(nn.Module):
    """Colorization guided by optional sparse hints. ``forward(lum, ab, mask)`` -> a*b*."""

    def __init__(self, classes: int = 529) -> None:
        super().__init__()
        self.model1 = _block([4, 64, 64])
        self.model2 = _block([64, 128, 128])
        self.model3 = _block([128, 256, 256, 256])
        self.model4 = _block([256, 512, 512, 512])
        self.model5 = _block([512, 512, 512, 512], dilation=2)
        self.model6 = _block([512, 512, 512, 512], dilation=2)
        self.model7 = _block([512, 512, 512, 512])
        self.model8up = nn.Sequential(nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1))
        self.model3short8 = nn.Sequential(nn.Conv2d(256, 256, 3, padding=1))
        self.model8 = _block([256, 256, 256], lead_relu=True)
        self.model9up = nn.Sequential(nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1))
        self.model2short9 = nn.Sequential(nn.Conv2d(128, 128, 3, padding=1))
        self.model9 = _block([128, 128], lead_relu=True)
        self.model10up = nn.Sequential(nn.ConvTranspose2d(128, 128, 4, stride=2, padding=1))
        self.model1short10 = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1))
        self.model10 = nn.Sequential(
            nn.ReLU(True), nn.Conv2d(128, 128, 3, padding=1), nn.LeakyReLU(0.2)
        )
        # the classification head is in the checkpoint but unused for colour output
        self.model_class = nn.Sequential(nn.Conv2d(256, classes, 1))
        self.model_out = nn.Sequential(nn.Conv2d(128, 2, 1), nn.Tanh())

    def forward(
        self, lum: torch.Tensor, ab: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        if ab is None:
            ab = torch.zeros_like(lum).expand(-1, 2, -1, -1)
        if mask is None:
            mask = torch.zeros_like(lum)
        x = torch.cat(((lum - L_CENT) / L_NORM, ab / AB_NORM, mask), dim=1)
        conv1 = self.model1(x)
        conv2 = self.model2(conv1[:, :, ::2, ::2])
        conv3 = self.model3(conv2[:, :, ::2, ::2])
        x = self.model4(conv3[:, :, ::2, ::2])
        x = self.model7(self.model6(self.model5(x)))
        x = self.model8(self.model8up(x) + self.model3short8(conv3))
        x = self.model9(self.model9up(x) + self.model2short9(conv2))
        x = self.model10(self.model10up(x) + self.model1short10(conv1))
        return self.model_out(x) * AB_NORM
