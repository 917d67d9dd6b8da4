"""A compact residual CNN backbone (trained from scratch: no pretrained weights can be fetched)."""

from __future__ import annotations

import torch
from torch import nn

from rgbt_tracker_ros.models.config import BackboneConfig


def conv_bn_act(cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, channels: int, inner: int | None = None):
        super().__init__()
        inner = channels if inner is None else inner  # narrower after channel pruning
        self.body = nn.Sequential(conv_bn_act(channels, inner), conv_bn_act(inner, channels, act=False))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class CompactBackbone(nn.Module):
    """Normalised Bx3xHxW image -> features of every stage, then the neck output used for tracking."""

    def __init__(self, config: BackboneConfig):
        super().__init__()
        self.stem = conv_bn_act(3, config.stem_channels, 3, 2)
        stages = []
        cin = config.stem_channels
        for k, (cout, blocks, stride) in enumerate(config.stages):
            layers = [conv_bn_act(cin, cout, 3, stride)] + [
                BasicBlock(cout, config.inner_width(k, j)) for j in range(blocks)
            ]
            stages.append(nn.Sequential(*layers))
            cin = cout
        self.stages = nn.ModuleList(stages)
        self.neck = conv_bn_act(cin, config.out_channels, 1)
        self.out_channels = config.out_channels
        self.stage_channels = [c for c, _, _ in config.stages]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        feats.append(self.neck(x))
        return feats
