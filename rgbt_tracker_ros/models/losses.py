"""Box losses of the centre head, kept apart from the training loop (OSTrack's recipe:
focal loss on a Gaussian centre heatmap, L1 and GIoU on the box read at the true centre). Shared by
the trainer, the distillation terms (path selection scores each teacher path with them) and validation."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LossConfig:
    """The weights of the head's losses (the `loss:` section of a training config)."""

    focal: float = 1.0
    l1: float = 5.0
    giou: float = 2.0
    paths: float = 0.5  # teachers only: weight of the box losses of each fusion path's own prediction


@dataclass
class Targets:
    heatmap: torch.Tensor   # B x 1 x H x W Gaussian around the true centre cell (all zero without target)
    box: torch.Tensor       # B x 4 cx, cy, w, h as fractions of the search crop
    cell: torch.Tensor      # B long index (i * W + j) of the true centre cell
    has_target: torch.Tensor  # B bool


def make_targets(box_xywh: torch.Tensor, has_target: torch.Tensor, search_size: int, feature_size: int) -> Targets:
    """box_xywh: B x 4 in search-crop pixels."""
    b = box_xywh.shape[0]
    stride = search_size / feature_size
    cx = (box_xywh[:, 0] + box_xywh[:, 2] / 2) / stride
    cy = (box_xywh[:, 1] + box_xywh[:, 3] / 2) / stride
    j = cx.floor().clamp(0, feature_size - 1)
    i = cy.floor().clamp(0, feature_size - 1)
    grid = torch.arange(feature_size, dtype=torch.float32, device=box_xywh.device)
    # Gaussian spread grows with the target: a big target's neighbouring cells are nearly right too.
    sigma = (torch.sqrt(box_xywh[:, 2] * box_xywh[:, 3]) / stride / 6.0).clamp(min=0.6).view(b, 1, 1)
    gy = torch.exp(-((grid.view(1, -1, 1) - i.view(b, 1, 1)) ** 2) / (2 * sigma**2))
    gx = torch.exp(-((grid.view(1, 1, -1) - j.view(b, 1, 1)) ** 2) / (2 * sigma**2))
    heatmap = (gy * gx * has_target.view(b, 1, 1).float()).unsqueeze(1)
    box = torch.stack([box_xywh[:, 0] + box_xywh[:, 2] / 2, box_xywh[:, 1] + box_xywh[:, 3] / 2,
                       box_xywh[:, 2], box_xywh[:, 3]], dim=1) / search_size
    cell = (i * feature_size + j).long()
    return Targets(heatmap, box, cell, has_target)


def focal_loss(logits: torch.Tensor, heatmap: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """Penalty-reduced focal loss (CenterNet) over the whole score map, normalised by the positives."""
    prob = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = heatmap.eq(1.0).float()
    pos_loss = -torch.log(prob) * (1 - prob) ** alpha * positive
    neg_loss = -torch.log(1 - prob) * prob**alpha * (1 - heatmap) ** beta * (1 - positive)
    return (pos_loss.sum() + neg_loss.sum()) / positive.sum().clamp(min=1.0)


def decode_at(size: torch.Tensor, offset: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
    """Predicted cx, cy, w, h (fractions of the crop) read at the given cell of each sample."""
    b, _, h, w = size.shape
    idx = cell.view(b, 1, 1).expand(b, 2, 1)
    wh = size.flatten(2).gather(2, idx).squeeze(2)
    off = offset.flatten(2).gather(2, idx).squeeze(2)
    j = (cell % w).float()
    i = torch.div(cell, w, rounding_mode="floor").float()
    return torch.stack([(j + off[:, 0]) / w, (i + off[:, 1]) / h, wh[:, 0], wh[:, 1]], dim=1)


def giou_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - GIoU for boxes given as cx, cy, w, h; returns the per-sample loss."""
    def corners(b):
        return b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2

    px1, py1, px2, py2 = corners(pred)
    tx1, ty1, tx2, ty2 = corners(target)
    inter = (torch.min(px2, tx2) - torch.max(px1, tx1)).clamp(min=0) * (torch.min(py2, ty2) - torch.max(py1, ty1)).clamp(min=0)
    union = pred[:, 2] * pred[:, 3] + target[:, 2] * target[:, 3] - inter
    iou = inter / union.clamp(min=1e-7)
    hull = (torch.max(px2, tx2) - torch.min(px1, tx1)) * (torch.max(py2, ty2) - torch.min(py1, ty1))
    return 1 - (iou - (hull - union) / hull.clamp(min=1e-7))


class TrackingLoss(torch.nn.Module):
    """Weighted sum of the head's losses; returns the total and its parts (for logging)."""

    def __init__(self, config: LossConfig):
        super().__init__()
        self.config = config

    def forward(self, outputs: dict, targets: Targets) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        focal = focal_loss(outputs["score_logits"], targets.heatmap)
        pos = targets.has_target
        if pos.any():
            pred = decode_at(outputs["size"], outputs["offset"], targets.cell)[pos]
            true = targets.box[pos]
            l1 = F.l1_loss(pred, true)
            giou = giou_loss(pred, true).mean()
        else:
            l1 = giou = outputs["size"].sum() * 0.0
        total = c.focal * focal + c.l1 * l1 + c.giou * giou
        return total, {"focal": focal.item(), "l1": l1.item(), "giou": giou.item()}
