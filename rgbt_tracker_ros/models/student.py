"""The single-stream RGB-T student: one backbone shared by both modalities, a simple fusion, a centre head."""

from __future__ import annotations

import torch
from torch import nn

from rgbt_tracker_ros.models.backbone import CompactBackbone
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.fusion import ConcatFusion
from rgbt_tracker_ros.models.head import CenterHead, pixelwise_correlation, template_kernel


class InputNormaliser(nn.Module):
    """0..255 RGB (Bx3) or thermal (Bx1, replicated to 3 channels) -> normalised network input."""

    def __init__(self, mean: float, std: float):
        super().__init__()
        self.mean = mean
        self.inv_std = 1.0 / std

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.shape[1] == 1:
            image = image.expand(-1, 3, -1, -1)
        return (image - self.mean) * self.inv_std


class SingleStreamStudent(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.normalise = InputNormaliser(config.pixel_mean, config.pixel_std)
        self.backbone = CompactBackbone(config.backbone)
        self.fusion = ConcatFusion(self.backbone.out_channels)
        cells = config.template_feature_size ** 2
        self.head = CenterHead(cells, self.backbone.out_channels, config.head)

    def encode(self, visible: torch.Tensor, thermal: torch.Tensor) -> dict[str, object]:
        """Both modalities through the one shared backbone (as one batch), then the fusion."""
        batch = visible.shape[0]
        both = torch.cat([self.normalise(visible), self.normalise(thermal)], dim=0)
        feats = self.backbone(both)
        visible_feats = [f[:batch] for f in feats]
        thermal_feats = [f[batch:] for f in feats]
        fused = self.fusion(visible_feats[-1], thermal_feats[-1])
        return {"visible": visible_feats, "thermal": thermal_feats, "fused": fused}

    def template_features(self, visible: torch.Tensor, thermal: torch.Tensor) -> torch.Tensor:
        return template_kernel(self.encode(visible, thermal)["fused"])

    def track_step(self, kernel: torch.Tensor, visible: torch.Tensor, thermal: torch.Tensor) -> dict[str, torch.Tensor]:
        search = self.encode(visible, thermal)
        corr = pixelwise_correlation(kernel, search["fused"])
        out = self.head(corr, search["fused"])
        out["search"] = search
        return out

    def forward(
        self,
        template_visible: torch.Tensor,
        template_thermal: torch.Tensor,
        search_visible: torch.Tensor,
        search_thermal: torch.Tensor,
    ) -> dict[str, object]:
        """Training forward pass: predictions plus the intermediate features distillation reads."""
        template = self.encode(template_visible, template_thermal)
        out = self.track_step(template_kernel(template["fused"]), search_visible, search_thermal)
        out["template"] = template
        return out


class TemplateGraph(nn.Module):
    """What `template.onnx` holds: template crops -> template features (run once per target)."""

    def __init__(self, model: SingleStreamStudent):
        super().__init__()
        self.model = model

    def forward(self, template_visible: torch.Tensor, template_thermal: torch.Tensor) -> torch.Tensor:
        return self.model.template_features(template_visible, template_thermal)


class SearchGraph(nn.Module):
    """What `search.onnx` holds: template features + search crops -> score, size, offset maps."""

    def __init__(self, model: SingleStreamStudent):
        super().__init__()
        self.model = model

    def forward(self, template_features, search_visible, search_thermal):
        out = self.model.track_step(template_features, search_visible, search_thermal)
        return torch.sigmoid(out["score_logits"]), out["size"], out["offset"]
