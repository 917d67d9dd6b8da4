"""Knowledge of real images: a frozen RGB peer tracker as a teacher (issue 13; the "off-the-shelf RGB
model" of the thermal compression-distillation paper, Li et al., EAAI 2023).

The project's own networks have only seen synthetic scenes. NanoTrack v2 (`../shared/models/peers`,
Apache-2.0, trained by its authors on large real RGB video datasets) has seen real ones. It runs
frozen, through `models.onnx_graph`, on the VISIBLE crops of each training pair; the student learns
to reproduce, from the THERMAL crops of the same windows:

- its search features (a 1x1 adapter from the student's level to the peer's 48 channels, both sides
  layer-normalised over channels and space, resampled to the peer's 16x16 grid): `feature_weight`;
- its response: the spatial distribution of the peer's foreground probability, against the
  student's score map of the pair (KL divergence of spatial softmaxes at `temperature`):
  `response_weight`.

The project's crops are the peer's own regime: a template of twice the target's side (NanoTrack's
context of half the perimeter gives about that) and a search region twice the template's, resized to
its 127 and 255 pixel inputs, BGR, 0..255, no normalisation (how OpenCV's TrackerNano feeds it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rgbt_tracker_ros.distill.common import adapter, match_size, pair_levels
from rgbt_tracker_ros.models.onnx_graph import load_onnx_graph

PEER_TEMPLATE_SIZE = 127
PEER_SEARCH_SIZE = 255


@dataclass(frozen=True)
class PeerConfig:
    """The `distill.peer:` section: on when present (and enabled, weight > 0)."""

    backbone: str = ""  # NanoTrack v2's nanotrack_v2_backbone.onnx
    head: str = ""      # its nanotrack_v2_head.onnx; needed for the response term
    enabled: bool = True
    weight: float = 1.0
    feature_weight: float = 1.0
    response_weight: float = 1.0
    temperature: float = 1.0
    level: int = -1         # student feature level matched to the peer's features (-1: the neck)
    modality: str = "thermal"  # which of the student's streams learns from the visible crops

    def __post_init__(self) -> None:
        if not self.backbone:
            raise ValueError("distill.peer.backbone: the peer's backbone ONNX file is required")
        if self.response_weight > 0 and not self.head:
            raise ValueError("distill.peer.head: the response term needs the peer's head ONNX file")
        if min(self.weight, self.feature_weight, self.response_weight) < 0 or self.temperature <= 0:
            raise ValueError("distill.peer: weights must be >= 0 and the temperature > 0")
        if self.modality not in ("thermal", "visible"):
            raise ValueError(f"distill.peer.modality must be thermal or visible, got {self.modality!r}")


class RealImagePeer(nn.Module):
    """The frozen peer: visible crops (Bx3xHxW RGB 0..255) -> (search features, foreground logits)."""

    def __init__(self, config: PeerConfig):
        super().__init__()
        self.backbone = load_onnx_graph(config.backbone)
        self.head = load_onnx_graph(config.head) if config.head else None

    @staticmethod
    def _input(visible: torch.Tensor, size: int) -> torch.Tensor:
        bgr = visible.flip(1)
        return F.interpolate(bgr, size=(size, size), mode="bilinear", align_corners=False)

    @torch.no_grad()
    def forward(self, template_visible: torch.Tensor, search_visible: torch.Tensor):
        (search,) = self.backbone(self._input(search_visible, PEER_SEARCH_SIZE))
        if self.head is None:
            return search, None
        (template,) = self.backbone(self._input(template_visible, PEER_TEMPLATE_SIZE))
        classes, _ = self.head(template, search)
        # Channel 1 is the foreground: log p1 - log p0 is its logit.
        return search, classes[:, 1:2] - classes[:, 0:1]


def _layer_norm(x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x, x.shape[1:])


class PeerDistillationLoss(nn.Module):
    """weight * (feature_weight * MSE(LN(A(student)), LN(peer)) + response_weight * KL(peer || student))."""

    def __init__(self, config: PeerConfig, student_channels: list[int]):
        super().__init__()
        self.config = config
        self.peer = RealImagePeer(config)
        (self.level, _), = pair_levels((config.level,), len(student_channels), len(student_channels), "distill.peer")
        self.adapter = adapter(student_channels[self.level], self.peer.backbone.output_shapes[0][1], bias=False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.peer.eval()  # frozen: never in training mode
        return self

    def forward(self, outputs: dict, batch: dict):
        """The term on a batch: `outputs` of the student's forward, `batch` its crops. Pairs whose visible
        search crop shows no target to the peer (no target in the window, or a dead visible camera:
        the sampler's blank crops) are left out."""
        c = self.config
        template_visible, search_visible = batch["template_visible"], batch["search_visible"]
        flat = search_visible.flatten(1)
        keep = (batch["has_target"].flatten() > 0.5) & (flat.amax(dim=1) - flat.amin(dim=1) > 8.0)
        parts: dict[str, float] = {}
        total = search_visible.new_zeros(())
        if not bool(keep.any()):
            return total, parts
        outputs = {"score_logits": outputs["score_logits"][keep],
                   "search": {c.modality: [f[keep] for f in outputs["search"][c.modality]]}}
        with torch.autocast(search_visible.device.type, enabled=False):
            peer_features, peer_logits = self.peer(template_visible[keep].float(), search_visible[keep].float())
            if c.feature_weight > 0:
                student = outputs["search"][c.modality][self.level].float()
                mapped = F.adaptive_avg_pool2d(self.adapter(student), peer_features.shape[-2:])
                feature = F.mse_loss(_layer_norm(mapped), _layer_norm(peer_features))
                total = total + c.feature_weight * feature
                parts["peer_feature"] = feature.item()
            if c.response_weight > 0 and peer_logits is not None:
                student_logits = match_size(outputs["score_logits"].float(), peer_logits)
                t = c.temperature
                target = torch.softmax(peer_logits.flatten(1) / t, dim=1)
                response = F.kl_div(torch.log_softmax(student_logits.flatten(1) / t, dim=1), target,
                                    reduction="batchmean") * t * t
                total = total + c.response_weight * response
                parts["peer_response"] = response.item()
        return c.weight * total, parts

