"""The two-stream RGB-T teacher (CMD's teacher): one backbone per modality, multi-path fusion, centre head.

Same crop geometry and output contract as the student (`score_logits`, `size`, `offset`, and the
`search` / `template` feature dicts), so the same losses, trainer and ONNX export apply. What the
distillation terms read in addition:

- `search["visible"]`, `search["thermal"]`: per-modality features of every stage, then the neck
  (the inputs of the specific-common decomposition, `distill/specific_common.py`);
- `search["paths"]`: the fusion's three path features {"rgb", "thermal", "fused"};
- `search["path_weights"]`: B x 3 learned per-sample weights of the paths (softmax);
- `path_outputs`: the head's predictions along each path alone (`distill/path_selection.py`).

The fusion: an RGB path and a thermal path (one 3x3 block on that modality's neck features), and a
cross-modal path (two-way cross-attention between the modalities, then channel + spatial attention
mixing); a small MLP on the pooled path features weighs the three paths per sample, and the head
reads the weighted sum.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.models.backbone import CompactBackbone, conv_bn_act
from rgbt_tracker_ros.models.config import ModelConfig, TeacherConfig
from rgbt_tracker_ros.models.head import CenterHead, pixelwise_correlation, template_kernel
from rgbt_tracker_ros.models.student import InputNormaliser

PATHS = ("rgb", "thermal", "fused")

# Reductions are written as pooling / ReduceSum: ONNX ReduceMean/ReduceMax take their axes as an input
# from opset 18 and the exporter cannot convert those back to the contract's opset 17.


def spatial_mean(x: torch.Tensor) -> torch.Tensor:
    """B x C x H x W -> B x C x 1 x 1."""
    return F.avg_pool2d(x, kernel_size=tuple(x.shape[-2:]))


def channel_mean_max(x: torch.Tensor) -> torch.Tensor:
    """B x C x H x W -> B x 2 x H x W: the mean and the max over the channels."""
    mean = x.sum(dim=1, keepdim=True) * (1.0 / x.shape[1])
    peak = F.max_pool3d(x.unsqueeze(1), kernel_size=(x.shape[1], 1, 1)).squeeze(1)
    return torch.cat([mean, peak], dim=1)


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation gate: B x C x 1 x 1 weights in 0..1 from the channel means."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = max(8, channels // reduction)
        self.gate = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(hidden, channels, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate(spatial_mean(x))


class SpatialAttention(nn.Module):
    """CBAM's spatial gate: B x 1 x H x W weights in 0..1 from the channel mean and max maps."""

    def __init__(self, kernel: int = 7):
        super().__init__()
        self.gate = nn.Sequential(nn.Conv2d(2, 1, kernel, padding=kernel // 2), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate(channel_mean_max(x))


class CrossModalAttention(nn.Module):
    """Multi-head attention from one modality's cells (queries) to the other's (keys, values), residual.
    Written with plain MatMul/Softmax so it exports to ONNX with static shapes."""

    def __init__(self, channels: int, heads: int):
        super().__init__()
        if channels % heads:
            raise InputError(f"attention_heads ({heads}) must divide the feature channels ({channels})")
        self.heads = heads
        self.query = nn.Conv2d(channels, channels, 1)
        self.key_value = nn.Conv2d(channels, 2 * channels, 1)
        self.out = nn.Sequential(nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        d = c // self.heads
        q = self.query(x).reshape(b, self.heads, d, h * w).transpose(2, 3)            # b, heads, hw, d
        kv = self.key_value(context).reshape(b, 2, self.heads, d, -1)
        k, v = kv[:, 0], kv[:, 1]                                                      # b, heads, d, n
        attn = torch.softmax(torch.matmul(q, k) * (d ** -0.5), dim=-1)                 # b, heads, hw, n
        y = torch.matmul(attn, v.transpose(2, 3)).transpose(2, 3).reshape(b, c, h, w)
        return x + self.out(y)


class ChannelSpatialMix(nn.Module):
    """Concatenated modalities -> channel gate -> 1x1 reduction -> spatial gate -> 3x3 refinement."""

    def __init__(self, channels: int, kernel: int = 7):
        super().__init__()
        self.channel = ChannelAttention(2 * channels)
        self.reduce = conv_bn_act(2 * channels, channels, 1)
        self.spatial = SpatialAttention(kernel)
        self.refine = conv_bn_act(channels, channels, 3)

    def forward(self, visible: torch.Tensor, thermal: torch.Tensor) -> torch.Tensor:
        x = torch.cat([visible, thermal], dim=1)
        x = self.reduce(x * self.channel(x))
        return self.refine(x * self.spatial(x))


class MultiPathFusion(nn.Module):
    """RGB path, thermal path, cross-modal fused path, and a learned per-sample weighting of the three."""

    def __init__(self, channels: int, config: TeacherConfig):
        super().__init__()
        self.rgb = conv_bn_act(channels, channels, 3)
        self.thermal = conv_bn_act(channels, channels, 3)
        self.visible_from_thermal = CrossModalAttention(channels, config.attention_heads)
        self.thermal_from_visible = CrossModalAttention(channels, config.attention_heads)
        self.mix = ChannelSpatialMix(channels)
        self.selector = nn.Sequential(nn.Linear(len(PATHS) * channels, config.selector_hidden),
                                      nn.ReLU(inplace=True), nn.Linear(config.selector_hidden, len(PATHS)))

    def forward(self, visible: torch.Tensor, thermal: torch.Tensor):
        """-> (weighted sum B x C x H x W, {path name: B x C x H x W}, weights B x 3)."""
        paths = {
            "rgb": self.rgb(visible),
            "thermal": self.thermal(thermal),
            "fused": self.mix(self.visible_from_thermal(visible, thermal),
                              self.thermal_from_visible(thermal, visible)),
        }
        pooled = torch.cat([spatial_mean(paths[name]).flatten(1) for name in PATHS], dim=1)  # B, 3C
        weights = torch.softmax(self.selector(pooled), dim=-1)
        stacked = torch.stack([paths[name] for name in PATHS], dim=1)                       # B, 3, C, H, W
        combined = (stacked * weights[:, :, None, None, None]).sum(dim=1)
        return combined, paths, weights


class TwoStreamTeacher(nn.Module):
    """kind `teacher`: a backbone per modality (`config.backbone`, larger than the student's in the
    teacher's YAML), `MultiPathFusion`, and its own `CenterHead` shared by the paths."""

    path_names = PATHS

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        teacher = config.teacher or TeacherConfig()
        self.normalise = InputNormaliser(config.pixel_mean, config.pixel_std)
        self.backbone_visible = CompactBackbone(config.backbone)
        self.backbone_thermal = CompactBackbone(config.backbone)
        channels = self.backbone_visible.out_channels
        self.feature_channels = [*self.backbone_visible.stage_channels, channels]
        self.fusion = MultiPathFusion(channels, teacher)
        self.head = CenterHead(config.template_feature_size ** 2, channels, config.head)

    def streams(self, visible: torch.Tensor, thermal: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Normalised inputs -> per-modality features (every stage, then the neck)."""
        return self.backbone_visible(visible), self.backbone_thermal(thermal)

    def encode(self, visible: torch.Tensor, thermal: torch.Tensor) -> dict[str, object]:
        visible_feats, thermal_feats = self.streams(self.normalise(visible), self.normalise(thermal))
        fused, paths, weights = self.fusion(visible_feats[-1], thermal_feats[-1])
        return {"visible": visible_feats, "thermal": thermal_feats, "fused": fused,
                "paths": paths, "path_weights": weights}

    def template_features(self, visible: torch.Tensor, thermal: torch.Tensor) -> torch.Tensor:
        return template_kernel(self.encode(visible, thermal)["fused"])

    def _predict(self, kernel: torch.Tensor, search: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.head(pixelwise_correlation(kernel, search), search)

    def track_step(self, kernel: torch.Tensor, visible: torch.Tensor, thermal: torch.Tensor) -> dict[str, object]:
        search = self.encode(visible, thermal)
        out: dict[str, object] = self._predict(kernel, search["fused"])
        out["search"] = search
        return out

    def forward(self, template_visible, template_thermal, search_visible, search_thermal) -> dict[str, object]:
        """Training forward: the weighted-fusion prediction, each path's own prediction, all features."""
        template = self.encode(template_visible, template_thermal)
        out = self.track_step(template_kernel(template["fused"]), search_visible, search_thermal)
        search = out["search"]
        out["path_outputs"] = {
            name: self._predict(template_kernel(template["paths"][name]), search["paths"][name])
            for name in PATHS
        }
        out["template"] = template
        return out
