"""FBCNN (Jiang, Zhang & Timofte, ICCV 2021, "Towards Flexible Blind JPEG Artifacts Removal").

A four-level residual U-Net (64/128/256/512 channels, 4 residual blocks per level, stride-2
convolutions down, transposed convolutions up) whose decoder blocks are modulated by a
quality-factor embedding: ``gamma · block(x) + beta`` with gamma/beta predicted from the
compression quality. A small head on the bottleneck predicts that quality from the image
("blind"); passing a quality instead gives the flexible control of the paper.

Written from the published architecture so the module tree, and so the state-dict keys of
``fbcnn_color.pth`` (``m_head``, ``m_down1.0.res.0``, ``m_up3.1.res.2``, ``qf_pred.6``,
``to_gamma_3.0`` …), match the released checkpoints for a strict load.
"""

from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

CHANNELS = (64, 128, 256, 512)
BLOCKS = 4


def _conv3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1, bias=True)


class ResBlock(nn.Module):
    """x + conv(relu(conv(x)))."""

    def __init__(self, channels: int):
        super().__init__()
        self.res = nn.Sequential(
            _conv3(channels, channels), nn.ReLU(inplace=False), _conv3(channels, channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res(x)


class QFAttention(ResBlock):
    """A residual block whose branch is scaled and shifted by the quality embedding."""

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return x + gamma[..., None, None] * self.res(x) + beta[..., None, None]


def _encoder_level(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        *(ResBlock(c_in) for _ in range(BLOCKS)), nn.Conv2d(c_in, c_out, 2, stride=2, bias=True)
    )


def _decoder_level(c_in: int, c_out: int) -> nn.ModuleList:
    return nn.ModuleList(
        [
            nn.ConvTranspose2d(c_in, c_out, 2, stride=2, bias=True),
            *(QFAttention(c_out) for _ in range(BLOCKS)),
        ]
    )


def _mlp(*sizes: int) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in pairwise(sizes):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return layers


class FBCNN(nn.Module):
    """``forward(x, quality=None)`` → (restored, predicted quality in [0, 1], 1 = best).

    ``x``: N×C×H×W in [0, 1]; any size (padded to a multiple of 8 by edge replication, as the
    reference does, and cropped back). ``quality``: N×1 tensor of ``1 - Q/100`` for a JPEG
    quality Q, or None to use the network's own estimate.
    """

    def __init__(self, in_nc: int = 3, out_nc: int = 3):
        super().__init__()
        c0, c1, c2, c3 = CHANNELS
        self.m_head = _conv3(in_nc, c0)
        self.m_down1 = _encoder_level(c0, c1)
        self.m_down2 = _encoder_level(c1, c2)
        self.m_down3 = _encoder_level(c2, c3)
        self.m_body_encoder = nn.Sequential(*(ResBlock(c3) for _ in range(BLOCKS)))
        self.m_body_decoder = nn.Sequential(*(ResBlock(c3) for _ in range(BLOCKS)))
        self.m_up3 = _decoder_level(c3, c2)
        self.m_up2 = _decoder_level(c2, c1)
        self.m_up1 = _decoder_level(c1, c0)
        self.m_tail = _conv3(c0, out_nc)
        self.qf_pred = nn.Sequential(
            *(ResBlock(c3) for _ in range(BLOCKS)),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
            *_mlp(c3, 512, 512),
            nn.Linear(512, 1),
            nn.Sigmoid(),
        )
        self.qf_embed = nn.Sequential(*_mlp(1, 512, 512, 512))
        for level, c in ((3, c2), (2, c1), (1, c0)):
            setattr(self, f"to_gamma_{level}", nn.Sequential(nn.Linear(512, c), nn.Sigmoid()))
            setattr(self, f"to_beta_{level}", nn.Sequential(nn.Linear(512, c), nn.Tanh()))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x1 = self.m_head(x)
        x2 = self.m_down1(x1)
        x3 = self.m_down2(x2)
        x4 = self.m_down3(x3)
        return x1, x2, x3, x4, self.m_body_encoder(x4)

    def forward(
        self, x: torch.Tensor, quality: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = x.shape[-2:]
        x = F.pad(x, (0, (-w) % 8, 0, (-h) % 8), mode="replicate")
        x1, x2, x3, x4, body = self.encode(x)
        predicted = self.qf_pred(body)
        y = self.m_body_decoder(body)
        embedding = self.qf_embed(predicted if quality is None else quality.to(body.dtype))
        y = y + x4
        for up, skip, level in ((self.m_up3, x3, 3), (self.m_up2, x2, 2), (self.m_up1, x1, 1)):
            gamma = getattr(self, f"to_gamma_{level}")(embedding)
            beta = getattr(self, f"to_beta_{level}")(embedding)
            y = up[0](y)
            for block in up[1:]:
                y = block(y, gamma, beta)
            y = y + skip
        return self.m_tail(y)[..., :h, :w], predicted
