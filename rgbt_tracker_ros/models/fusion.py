"""Fusion of visible and thermal feature maps."""

from __future__ import annotations

import torch
from torch import nn

from rgbt_tracker_ros.models.backbone import conv_bn_act


class ConcatFusion(nn.Module):
    """The student's simple fusion: concatenate both modalities and mix them with a 1x1 convolution."""

    def __init__(self, channels: int):
        super().__init__()
        self.mix = conv_bn_act(2 * channels, channels, 1)

    def forward(self, visible: torch.Tensor, thermal: torch.Tensor) -> torch.Tensor:
        return self.mix(torch.cat([visible, thermal], dim=1))
