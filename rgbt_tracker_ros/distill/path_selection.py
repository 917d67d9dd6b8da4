"""CMD multi-path selection distillation, and the per-path supervision that trains the teacher's paths.

The multi-path teacher predicts along each fusion path p in {rgb, thermal, fused} alone
(`path_outputs`). Per sample b, each path's prediction is scored against the ground truth with the
box loss of the centre head (focal + L1 + GIoU, the training weights), and the best path is chosen:

    p*(b) = argmin_p  focal_b(p) + l1 * L1_b(p) + giou * GIoU_b(p)

The student's simple fusion then learns from that path:

    L_ps = w * ( feature * [MSE(A(Z_s), Z_t^p*) + MSE(A(X_s), X_t^p*)] / 2        (template Z, search X fused features)
               + score   * KL( sigmoid(s_t^p*) || sigmoid(s_s) )                     (binary KL per cell, mean)
               + box     * sum_cells g * (|size_s - size_t^p*| + |off_s - off_t^p*|) / sum_cells g )

A is a 1x1 adapter (student width -> teacher width, not exported), g the ground-truth Gaussian
heatmap (so the box maps are matched where they are read; samples without target add nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill.common import adapter, feature_channels, match_size
from rgbt_tracker_ros.models.losses import LossConfig, Targets, TrackingLoss, decode_at, giou_loss


@dataclass(frozen=True)
class PathSelectionConfig:
    """`distill.path_selection` (needs a multi-path teacher): the term is on when the section is there
    (and enabled, weight > 0)."""

    enabled: bool = True
    weight: float = 1.0
    feature: float = 1.0    # student fused features vs the chosen path's features (template and search)
    score: float = 1.0      # student score map vs the chosen path's (soft binary cross-entropy)
    box: float = 1.0        # student size/offset maps vs the chosen path's, around the true centre


def focal_loss_per_sample(logits: torch.Tensor, heatmap: torch.Tensor,
                          alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """`models.losses.focal_loss`, one value per sample (normalised by that sample's positives)."""
    prob = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = heatmap.eq(1.0).float()
    pos_loss = -torch.log(prob) * (1 - prob) ** alpha * positive
    neg_loss = -torch.log(1 - prob) * prob**alpha * (1 - heatmap) ** beta * (1 - positive)
    return (pos_loss + neg_loss).flatten(1).sum(1) / positive.flatten(1).sum(1).clamp(min=1.0)


def box_loss_per_sample(outputs: dict, targets: Targets, config: LossConfig) -> torch.Tensor:
    """The head's training loss per sample (B): focal, plus L1 and GIoU of the box at the true centre."""
    loss = config.focal * focal_loss_per_sample(outputs["score_logits"], targets.heatmap)
    pred = decode_at(outputs["size"], outputs["offset"], targets.cell)
    box = config.l1 * (pred - targets.box).abs().mean(1) + config.giou * giou_loss(pred, targets.box)
    return loss + box * targets.has_target.float()


def select_paths(path_outputs: dict[str, dict], targets: Targets, config: LossConfig) -> torch.Tensor:
    """Index (into the dict's order) of the best path per sample, B long."""
    losses = torch.stack([box_loss_per_sample(out, targets, config) for out in path_outputs.values()], dim=1)
    return losses.argmin(dim=1)


def gather_paths(tensors: list[torch.Tensor], index: torch.Tensor) -> torch.Tensor:
    """Per sample b, tensors[index[b]][b]."""
    stacked = torch.stack(tensors, dim=1)
    return stacked[torch.arange(stacked.shape[0], device=stacked.device), index]


def binary_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Mean over cells of KL(Bernoulli(sigmoid(teacher)) || Bernoulli(sigmoid(student))); 0 when equal."""
    p = torch.sigmoid(teacher_logits)
    return (F.binary_cross_entropy_with_logits(student_logits, p)
            - F.binary_cross_entropy_with_logits(teacher_logits, p))


class PathSelectionLoss(nn.Module):
    def __init__(self, config: PathSelectionConfig, student: nn.Module, teacher: nn.Module, loss_config: LossConfig):
        super().__init__()
        self.path_names = tuple(getattr(teacher, "path_names", ()))
        if not self.path_names:
            raise InputError("distill.path_selection needs a multi-path teacher (model kind teacher or teacher_mp); "
                             "leave the distill.path_selection section out")
        self.config, self.loss_config = config, loss_config
        self.adapter = None
        if config.feature > 0:
            self.adapter = adapter(feature_channels(student)[-1], feature_channels(teacher)[-1])

    def forward(self, student_out: dict, teacher_out: dict, targets: Targets) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        paths = teacher_out["path_outputs"]
        best = select_paths({n: paths[n] for n in self.path_names}, targets, self.loss_config)
        pick = lambda ts: gather_paths([t.detach() for t in ts], best)  # noqa: E731
        logs: dict[str, float] = {f"ps_{n}": float((best == i).float().mean()) for i, n in enumerate(self.path_names)}
        loss = student_out["score_logits"].new_zeros(())
        if self.adapter is not None:
            feats = []
            for part in ("template", "search"):
                student_f = student_out[part]["fused"]
                teacher_f = pick([teacher_out[part]["paths"][n] for n in self.path_names])
                feats.append(F.mse_loss(self.adapter(student_f), match_size(teacher_f, student_f)))
            feature = 0.5 * (feats[0] + feats[1])
            loss = loss + c.feature * feature
            logs["ps_feature"] = feature.item()
        if c.score > 0:
            score = binary_kl(student_out["score_logits"], pick([paths[n]["score_logits"] for n in self.path_names]))
            loss = loss + c.score * score
            logs["ps_score"] = score.item()
        if c.box > 0:
            g = targets.heatmap
            diff = ((student_out["size"] - pick([paths[n]["size"] for n in self.path_names])).abs()
                    + (student_out["offset"] - pick([paths[n]["offset"] for n in self.path_names])).abs())
            box = (diff * g).sum() / g.sum().clamp(min=1e-6)
            loss = loss + c.box * box
            logs["ps_box"] = box.item()
        return c.weight * loss, logs


class PathSupervisionLoss(nn.Module):
    """Teacher training: the box losses of each path's own prediction, averaged over the paths, times
    `loss.paths`; it keeps every path a usable tracker, so that selecting among them is meaningful."""

    def __init__(self, config: LossConfig):
        super().__init__()
        self.weight = config.paths
        self.loss = TrackingLoss(config)

    def forward(self, outputs: dict, targets: Targets) -> tuple[torch.Tensor, dict[str, float]]:
        total, logs = 0.0, {}
        for name, out in outputs["path_outputs"].items():
            loss, _ = self.loss(out, targets)
            total = total + loss
            logs[f"path_{name}"] = loss.item()
        return self.weight * total / len(outputs["path_outputs"]), logs
