"""waifu2x UpConv7 (photo models)."""

from __future__ import annotations

from torch import nn


class UpConv7(nn.Module):
    """waifu2x UpConv7: six unpadded 3×3 convs + stride-2 deconv. Output is (2H−28)×(2W−28).

    Keys ``conv1..conv6``, ``conv7`` (the ConvTranspose2d).
    """

    scale = 2
    shrink = 14  # input pixels lost per side before upscaling (output = 2·(in − 14))

    def __init__(self, in_ch=3, out_ch=3):
        super().__init__()
        chans = [in_ch, 16, 32, 64, 128, 128, 256]
        for i in range(6):
            setattr(self, f"conv{i + 1}", nn.Conv2d(chans[i], chans[i + 1], 3, 1, 0))
        self.conv7 = nn.ConvTranspose2d(256, out_ch, 4, 2, 3)
        self.act = nn.LeakyReLU(0.1, inplace=True)

    def forward(self, x):
        for i in range(6):
            x = self.act(getattr(self, f"conv{i + 1}")(x))
        return self.conv7(x)
