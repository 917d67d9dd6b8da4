"""Pixel-wise correlation and the centre head (score, size and offset maps)."""

from __future__ import annotations

import torch
from torch import nn

from rgbt_tracker_ros.models.backbone import conv_bn_act
from rgbt_tracker_ros.models.config import HeadConfig


def template_kernel(template: torch.Tensor) -> torch.Tensor:
    """BxCxhxw template features -> Bx(h*w)xC correlation kernel (one vector per template cell)."""
    return template.flatten(2).transpose(1, 2).contiguous()


def pixelwise_correlation(kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """Bx(K)xC kernel against BxCxHxW search features -> BxKxHxW similarity maps (a plain MatMul)."""
    b, c, h, w = search.shape
    corr = torch.matmul(kernel, search.flatten(2)) * (c ** -0.5)
    return corr.reshape(b, kernel.shape[1], h, w)


def _tower(cin: int, channels: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = [conv_bn_act(cin, channels, 1)]
    for _ in range(depth):
        layers += [conv_bn_act(channels, channels, 3, groups=channels), conv_bn_act(channels, channels, 1)]
    return nn.Sequential(*layers)


class CenterHead(nn.Module):
    """Correlation maps + search features -> score logits, size (fraction of crop) and offset (in cell)."""

    def __init__(self, kernel_cells: int, feature_channels: int, config: HeadConfig):
        super().__init__()
        cin = kernel_cells + feature_channels
        self.score_tower = _tower(cin, config.channels, config.tower_depth)
        self.box_tower = _tower(cin, config.channels, config.tower_depth)
        self.score = nn.Conv2d(config.channels, 1, 1)
        self.size = nn.Conv2d(config.channels, 2, 1)
        self.offset = nn.Conv2d(config.channels, 2, 1)
        nn.init.constant_(self.score.bias, -4.6)  # start near p = 0.01: almost every cell is background

    def forward(self, corr: torch.Tensor, search: torch.Tensor) -> dict[str, torch.Tensor]:
        x = torch.cat([corr, search], dim=1)
        s = self.score_tower(x)
        b = self.box_tower(x)
        return {
            "score_logits": self.score(s),
            "size": torch.sigmoid(self.size(b)),
            "offset": torch.sigmoid(self.offset(b)),
        }
