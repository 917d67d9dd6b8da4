"""CMD specific-common feature distillation.

At each configured level l the teacher's two streams T_v, T_t are split into a modality-common part
and modality-specific residuals:

    C = (T_v + T_t) / 2,    S_v = T_v - C,    S_t = T_t - C      (so T_m = C + S_m and S_v = -S_t)

The student's shared backbone must carry both, from each modality's input: through 1x1 adapters
(the widths differ) A_c (common, shared by the modalities) and A_v, A_t (specific, one per modality),

    L_sc = w * sum_l [ common   * 1/2 (MSE(A_c(F_v), C) + MSE(A_c(F_t), C))
                     + specific * 1/2 (MSE(A_v(F_v), S_v) + MSE(A_t(F_t), S_t)) ]

with F_v, F_t the student's search-crop features of that level; the teacher maps are detached and
resampled to the student's size when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rgbt_tracker_ros.distill.common import adapter, feature_channels, match_size, pair_levels, zero


@dataclass(frozen=True)
class SpecificCommonConfig:
    """`distill.specific_common`: the term is on when the section is there (and enabled, weight > 0)."""

    enabled: bool = True
    weight: float = 1.0
    levels: tuple[int, ...] = (-3, -2, -1)
    common: float = 1.0     # weight of the modality-common part (mean of the teacher's two streams)
    specific: float = 1.0   # weight of the modality-specific residuals


def decompose(teacher_visible: torch.Tensor, teacher_thermal: torch.Tensor):
    """-> (common, visible-specific, thermal-specific) with common + specific_m == teacher_m."""
    common = 0.5 * (teacher_visible + teacher_thermal)
    return common, teacher_visible - common, teacher_thermal - common


class SpecificCommonLoss(nn.Module):
    def __init__(self, config: SpecificCommonConfig, student: nn.Module, teacher: nn.Module):
        super().__init__()
        self.config = config
        s_ch, t_ch = feature_channels(student), feature_channels(teacher)
        self.pairs = pair_levels(config.levels, len(s_ch), len(t_ch), "distill.specific_common")
        make = lambda: nn.ModuleList(adapter(s_ch[s], t_ch[t]) for s, t in self.pairs)  # noqa: E731
        self.common = make() if config.common > 0 else None
        self.specific_visible = make() if config.specific > 0 else None
        self.specific_thermal = make() if config.specific > 0 else None

    def forward(self, student_out: dict, teacher_out: dict, targets=None) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        sv, st = student_out["search"]["visible"], student_out["search"]["thermal"]
        tv, tt = teacher_out["search"]["visible"], teacher_out["search"]["thermal"]
        common_loss = specific_loss = zero(sv[-1])
        for k, (si, ti) in enumerate(self.pairs):
            common, spec_v, spec_t = (match_size(x.detach(), sv[si]) for x in decompose(tv[ti], tt[ti]))
            if self.common is not None:
                a = self.common[k]
                common_loss = common_loss + 0.5 * (F.mse_loss(a(sv[si]), common) + F.mse_loss(a(st[si]), common))
            if self.specific_visible is not None:
                specific_loss = specific_loss + 0.5 * (F.mse_loss(self.specific_visible[k](sv[si]), spec_v)
                                                       + F.mse_loss(self.specific_thermal[k](st[si]), spec_t))
        loss = c.weight * (c.common * common_loss + c.specific * specific_loss)
        return loss, {"sc_common": common_loss.item(), "sc_specific": specific_loss.item()}
