"""What a training run minimises, batch by batch: the Trainer's objective hook (training/trainer.py).

An objective is called on a batch (already on the device) and returns (loss, logged parts); it may
own trainable parameters of its own (`module`: distillation adapters), which the Trainer optimises
with the model, saves in its checkpoints under `state_key` and averages across ranks; its
`validation` adds values to the Trainer's validation pass (averaged over the validation pairs).

- `TrackingObjective`: the head's box losses of the model's prediction (`train`), plus, for a
  multi-path teacher, each path's own box losses, plus, with a `distill:` section, the distillation
  terms against a frozen teacher (the student may see a masked search crop).
- `CompressionObjective`: the thermal-only student of `compress` (distil and fine-tune stages): box
  losses of its thermal prediction, the compression term against the frozen RGB teacher, and the L1
  sparsity of the prunable BN scales before pruning.
"""

from __future__ import annotations

import torch
from torch import nn

from rgbt_tracker_ros.distill.compression import FeatureMatchingLoss, compression_loss
from rgbt_tracker_ros.distill.loss import DistillationLoss, load_teacher, mask_search
from rgbt_tracker_ros.distill.path_selection import PathSupervisionLoss
from rgbt_tracker_ros.models.builder import parameter_count
from rgbt_tracker_ros.models.losses import LossConfig, TrackingLoss, make_targets
from rgbt_tracker_ros.models.precision import as_float32, forward_autocast
from rgbt_tracker_ros.training.config import TrainConfig
from rgbt_tracker_ros.training.pruning import bn_l1_penalty

INPUTS = ("template_visible", "template_thermal", "search_visible", "search_thermal")


def batch_targets(batch: dict, model_config):
    return make_targets(batch["box"], batch["has_target"], model_config.search_size, model_config.feature_size)


class TrackingObjective:
    """Box losses of the model's prediction, plus the teacher paths' (teacher training) or the
    distillation terms (student distillation: the student may see a masked search crop)."""

    state_key = "distill"

    def __init__(self, config: TrainConfig, net: nn.Module, model: nn.Module, device: torch.device, rank: int = 0):
        """net: what the forward pass runs (the DDP wrapper under torchrun), model: the network itself."""
        self.config, self.net, self.device = config, net, device
        self.loss = TrackingLoss(config.loss)
        self.path_loss = PathSupervisionLoss(config.loss) if config.loss.paths > 0 else None  # teachers' paths
        # Distillation: a frozen teacher (no_grad, eval) and the terms that are on, whose adapters train
        # with the student (same optimizer), are saved in the training checkpoint and never exported.
        self.teacher, self.distill, self.mask_generator = None, None, None
        if config.distill is not None:
            if config.distill.needs_teacher:
                self.teacher = load_teacher(config.distill.teacher, config.model, device)
            self.distill = DistillationLoss(config.distill, model, self.teacher, config.loss).to(device)
            self.mask_generator = torch.Generator().manual_seed(config.run.seed * 1000 + rank)
        self.module = self.distill

    def describe(self) -> str | None:
        if self.distill is None:
            return None
        d = self.config.distill
        teacher = ("no two-stream teacher" if self.teacher is None else
                   f"distilling from {d.teacher} ({self.teacher.config.kind}, {parameter_count(self.teacher)} parameters, frozen)")
        terms = [*self.distill.terms] + (["peer (frozen RGB peer: " + d.peer.backbone + ")"] if self.distill.peer else [])
        return (f"{teacher}; terms: {', '.join(terms) or 'none'}; adapters: "
                f"{parameter_count(self.distill)} parameters")

    def __call__(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        autocast = lambda: forward_autocast(self.device, c.run.precision)  # noqa: E731
        targets = batch_targets(batch, c.model)
        student_batch = batch if self.distill is None else mask_search(batch, c.distill, c.model, self.mask_generator)
        with autocast():
            outputs = as_float32(self.net(*(student_batch[k] for k in INPUTS)))
        loss, parts = self.loss(outputs, targets)
        if self.path_loss is not None and "path_outputs" in outputs:
            extra, extra_parts = self.path_loss(outputs, targets)
            loss, parts = loss + extra, parts | extra_parts
        if self.distill is not None:
            teacher_out = None
            if self.teacher is not None:
                with torch.no_grad(), autocast():
                    teacher_out = as_float32(self.teacher(*(batch[k] for k in INPUTS)))
            extra, extra_parts = self.distill(outputs, teacher_out, targets, batch)
            loss, parts = loss + extra, parts | extra_parts
        return loss, parts

    def validation(self, outputs: dict, batch: dict) -> dict[str, float]:
        return {}


class CompressionObjective:
    """The thermal student's loss on paired crops: box losses of its (thermal) prediction, the
    compression term (feature matching to the frozen RGB teacher's features of the visible crop of the
    same window) when it is on, and bn_l1 * sum |gamma| of the prunable BN scales when bn_l1 > 0."""

    state_key = "distiller"

    def __init__(self, student: nn.Module, teacher: nn.Module, distiller: FeatureMatchingLoss | None,
                 loss_config: LossConfig, precision: str, bn_l1: float = 0.0):
        self.student, self.teacher, self.distiller = student, teacher, distiller
        self.loss = TrackingLoss(loss_config)
        self.precision, self.bn_l1 = precision, bn_l1
        self.module = distiller

    def describe(self) -> str | None:
        return None

    def _active(self) -> bool:
        return self.distiller is not None and self.distiller.config.active

    def _term(self, outputs: dict, batch: dict) -> torch.Tensor:
        return compression_loss(self.distiller, outputs, self.teacher, batch["template_visible"], batch["search_visible"])

    def __call__(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        device = batch["box"].device
        targets = batch_targets(batch, self.student.config)
        with forward_autocast(device, self.precision):
            outputs = as_float32(self.student(*(batch[k] for k in INPUTS)))
        loss, parts = self.loss(outputs, targets)
        if self._active():
            with forward_autocast(device, self.precision):
                kd = self._term(outputs, batch)
            loss = loss + kd
            parts["compress"] = kd.item()
        if self.bn_l1 > 0:
            sparsity = self.bn_l1 * bn_l1_penalty(self.student)
            loss = loss + sparsity
            parts["bn_l1"] = sparsity.item()
        return loss, parts

    def validation(self, outputs: dict, batch: dict) -> dict[str, float]:
        """The compression term on the validation pairs (0 when it is off)."""
        return {"val_compress": float(self._term(outputs, batch)) if self._active() else 0.0}
