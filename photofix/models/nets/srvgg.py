"""Real-ESRGAN's compact VGG-style network (SRVGGNetCompact, realesr-animevideov3)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn


class SRVGGNetCompact(nn.Module):
    """Real-ESRGAN compact VGG-style net (realesr-animevideov3), keys ``body.N``.

    The network itself is x4 (PixelShuffle + nearest-x4 skip). ``out_scale`` 2 or 3 appends the
    bicubic downscale (×0.5 / ×0.75, no antialias) that the ncnn x2/x3 files contain; output is
    floor(H·out_scale) × floor(W·out_scale).
    """

    def __init__(self, num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=16, upscale=4, out_scale=4):
        super().__init__()
        self.upscale = upscale
        self.out_scale = out_scale
        body = [nn.Conv2d(num_in_ch, num_feat, 3, 1, 1), nn.PReLU(num_parameters=num_feat)]
        for _ in range(num_conv):
            body += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), nn.PReLU(num_parameters=num_feat)]
        body.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.body = nn.ModuleList(body)
        self.upsampler = nn.PixelShuffle(upscale)

    @property
    def scale(self) -> int:
        return self.out_scale

    def forward(self, x):
        out = x
        for layer in self.body:
            out = layer(out)
        out = self.upsampler(out) + F.interpolate(x, scale_factor=self.upscale, mode="nearest")
        if self.out_scale != self.upscale:
            out = F.interpolate(
                out, scale_factor=self.out_scale / self.upscale, mode="bicubic", align_corners=False
            )
        return out
