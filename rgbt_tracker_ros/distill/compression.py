"""Compression distillation for thermal-only tracking (Li et al., EAAI 2023), distillation term 4.

An RGB teacher branch (frozen) sees the visible crop; a thermal student branch sees the PAIRED thermal
crop of the same window (same pixels, same target), so the thermal branch learns to produce the RGB
branch's features from thermal input. The features are matched at several backbone depths
(multi-level feature matching), through a 1x1 adapter wherever the widths differ (a wider teacher, or
a student after channel pruning). The student is `models.single_modality.SingleModalityStudent`; the
pipeline around it (teacher, distil, prune, fine-tune, export) is `training/thermal_compression.py`.

Pieces:
- `CompressionConfig`: the term's typed config (the `compression:` section: on when it is present).
- `rgb_branch_features`: the teacher's features of the visible crop, as the runtime would run it as an
  RGB tracker (no thermal image: the thermal input is the grey visible crop).
- `FeatureMatchingLoss`: weight * mean over levels of MSE(adapter(student level), teacher level).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill.common import adapter, match_size, pair_levels, zero
from rgbt_tracker_ros.models.precision import as_float32
from rgbt_tracker_ros.models.student import SingleStreamStudent

# ITU-R BT.601 luma, what cv2.COLOR_RGB2GRAY (the runtime's substitution) computes.
_GREY = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class CompressionConfig:
    """Compression distillation (Li et al.): thermal student features <- RGB teacher features.

    levels index the backbone feature lists [stage 0, ..., last stage, neck] of student and teacher
    alike; negative counts from the deepest (-1 is the neck), as in the other distillation terms.
    """

    enabled: bool = True
    weight: float = 1.0
    levels: tuple[int, ...] = (0, 1, 2, 3)
    template: bool = True   # match the template crop's features too, not only the search crop's

    def __post_init__(self) -> None:
        if self.weight < 0:
            raise ValueError(f"compression weight must be >= 0, got {self.weight}")
        if self.enabled and not self.levels:
            raise ValueError("compression distillation needs at least one level")

    @property
    def active(self) -> bool:
        return self.enabled and self.weight > 0


def grey_of(visible: torch.Tensor) -> torch.Tensor:
    """Bx3xHxW RGB 0..255 -> Bx1xHxW grey (the runtime's substitute for a missing thermal image)."""
    w = visible.new_tensor(_GREY).view(1, 3, 1, 1)
    return (visible * w).sum(dim=1, keepdim=True)


def rgb_branch_features(teacher: nn.Module, visible: torch.Tensor) -> list[torch.Tensor]:
    """The teacher's backbone features (every stage, then the neck) of visible crops (0..255)."""
    if isinstance(teacher, SingleStreamStudent):
        # One shared backbone per image: the visible features do not depend on the thermal input.
        return teacher.backbone(teacher.normalise(visible))
    # Two-stream teachers (their visible stream may be prompted by the other): the runtime's RGB-only
    # substitution, thermal input = grey visible.
    return list(teacher.encode(visible, grey_of(visible))["visible"])


class FeatureMatchingLoss(nn.Module):
    """Multi-level feature matching: weight * mean_l MSE(A_l(student_l), teacher_l.detach()).

    A_l is a 1x1 convolution (no bias) from the student's to the teacher's width at level l,
    initialised to the identity where the widths agree (then the loss starts as plain MSE). A student
    level with a different spatial size is resized (bilinear) to the teacher's.
    """

    def __init__(self, config: CompressionConfig, student_channels: list[int], teacher_channels: list[int]):
        super().__init__()
        self.config = config
        n = len(student_channels)
        if len(teacher_channels) != n:
            raise InputError(f"student has {n} feature levels, teacher {len(teacher_channels)}: "
                             "compression distillation needs the same stage count")
        self.levels = [s for s, _ in pair_levels(config.levels, n, n, "compression")]
        self.adapters = nn.ModuleDict()
        for level in self.levels:
            cs, ct = student_channels[level], teacher_channels[level]
            a = adapter(cs, ct, bias=False)
            if cs == ct:
                with torch.no_grad():
                    a.weight.copy_(torch.eye(ct).view(ct, ct, 1, 1))
            self.adapters[str(level)] = a

    def forward(self, student: list[torch.Tensor], teacher: list[torch.Tensor]) -> torch.Tensor:
        total = zero(student[0])
        for level in self.levels:
            t = teacher[level].detach()
            s = match_size(self.adapters[str(level)](student[level]), t)
            total = total + F.mse_loss(s, t)
        return self.config.weight * total / len(self.levels)

    @torch.no_grad()
    def prune_inputs(self, level: int, keep: torch.Tensor) -> None:
        """After channel pruning removed student channels at `level`, keep only the adapter's inputs
        for the kept channels (an identity adapter becomes the selection of those channels)."""
        key = str(level)
        if key not in self.adapters:
            return
        old = self.adapters[key]
        new = adapter(len(keep), old.out_channels, bias=False).to(old.weight.device)
        new.weight.copy_(old.weight[:, keep.to(old.weight.device)])
        self.adapters[key] = new


def compression_loss(distiller: FeatureMatchingLoss, outputs: dict, teacher: nn.Module,
                     template_visible: torch.Tensor, search_visible: torch.Tensor,
                     modality: str = "thermal") -> torch.Tensor:
    """The term for one batch: student features (from `outputs` of the single-modality student's
    forward) matched to the frozen teacher's features of the paired visible crops, on the search crop
    and (config.template) the template crop, averaged."""
    with torch.no_grad():
        teacher_search = as_float32(rgb_branch_features(teacher, search_visible))
        teacher_template = (as_float32(rgb_branch_features(teacher, template_visible))
                            if distiller.config.template else None)
    # Under a caller's bf16 autocast only the teacher runs in bf16: the adapters and the matching
    # statistics stay float32, as the trainer's distillation terms do.
    with torch.autocast(search_visible.device.type, enabled=False):
        loss = distiller(as_float32(outputs["search"][modality]), teacher_search)
        if teacher_template is not None:
            loss = 0.5 * (loss + distiller(as_float32(outputs["template"][modality]), teacher_template))
    return loss
