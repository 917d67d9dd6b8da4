"""Helpers shared by the distillation terms: feature widths, level pairing, resizing, adapters, the
frozen teacher."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rgbt_tracker_ros.common.errors import InputError


def feature_channels(model: nn.Module) -> list[int]:
    """Channels of the model's per-modality feature list [stage 0, ..., last stage, neck]."""
    channels = getattr(model, "feature_channels", None)
    if channels is not None:
        return list(channels)
    backbone = model.backbone
    return [*backbone.stage_channels, backbone.out_channels]


def pair_levels(levels: tuple[int, ...], student_levels: int, teacher_levels: int, where: str) -> list[tuple[int, int]]:
    """Level indices (negative = from the deepest) -> (student index, teacher index) pairs. `where`
    is the config section that gave them (e.g. distill.specific_common), for the error message."""
    pairs = []
    for level in levels:
        if not (-student_levels <= level < student_levels and -teacher_levels <= level < teacher_levels):
            raise InputError(f"{where}.levels: level {level} does not exist (student has {student_levels} "
                             f"feature levels, teacher {teacher_levels}; -1 is the neck)")
        pairs.append((level % student_levels, level % teacher_levels))
    return pairs


def match_size(target: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Resample a map to the spatial size of another when they differ (bilinear)."""
    if target.shape[-2:] == like.shape[-2:]:
        return target
    return F.interpolate(target, size=like.shape[-2:], mode="bilinear", align_corners=False)


def adapter(student_channels: int, teacher_channels: int, bias: bool = True) -> nn.Conv2d:
    """1x1 convolution from student to teacher width: trained with the student, never exported."""
    return nn.Conv2d(student_channels, teacher_channels, 1, bias=bias)


def zero(like: torch.Tensor) -> torch.Tensor:
    return like.new_zeros(())


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode (BN statistics fixed) and no gradients: a teacher is never updated."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
