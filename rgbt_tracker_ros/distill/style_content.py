"""CKD coupled style and content distillation, and its random masking of the search input.

Style (teacher-free): the channel statistics of the student's RGB and thermal features are pulled
together at every configured level l (mu, sigma over the spatial cells of each channel and sample):

    L_style = sum_l mean_{b,c} [ (mu_v - mu_t)^2 + (sigma_v - sigma_t)^2 ]

Content: each modality's student features stay close to the same modality's teacher features once
both are instance-normalised (IN: zero mean, unit std per sample and channel), teacher detached:

    L_content = sum_l 1/2 sum_{m in v,t} MSE( IN(A_l(F_m)), IN(T_m) )

A_l is a 1x1 adapter when student and teacher widths differ at that level, the identity otherwise.
The term returns weight * (style * L_style + content * L_content) (defaults 0.01 and 0.1, CKD's).

Masking (`mask_patches`): during distillation training a fraction of the search crop's patches (one
feature cell each by default) is replaced by the normalisation mean (zero after normalisation) in
the student's input only, independently per modality; the teacher sees the whole crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rgbt_tracker_ros.distill.common import adapter, feature_channels, match_size, pair_levels, zero

EPS = 1e-5


@dataclass(frozen=True)
class StyleContentConfig:
    """`distill.style_content`: the term is on when the section is there (and enabled, weight > 0)."""

    enabled: bool = True
    weight: float = 1.0
    style: float = 0.01     # channel mean/std of the student's RGB vs thermal features, per level
    content: float = 0.1    # instance-normalised student vs same-modality teacher features
    levels: tuple[int, ...] = (0, 1, 2, 3)


@dataclass(frozen=True)
class MaskingConfig:
    """`distill.masking`: CKD's random masking of search-input patches, student input only, training
    steps only; on when the section is there with search_mask_ratio > 0."""

    search_mask_ratio: float = 0.25  # fraction of patches masked per modality; 0 = off
    patch: int = 0                    # patch side in pixels; 0 = the model's stride (one feature cell)


def channel_stats(x: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """B x C x H x W -> (mean, std) each B x C, std = sqrt(population variance + eps)."""
    flat = x.flatten(2)
    return flat.mean(2), torch.sqrt(flat.var(2, unbiased=False) + eps)


def style_distance(visible: torch.Tensor, thermal: torch.Tensor) -> torch.Tensor:
    mu_v, sd_v = channel_stats(visible)
    mu_t, sd_t = channel_stats(thermal)
    return ((mu_v - mu_t) ** 2 + (sd_v - sd_t) ** 2).mean()


def content_distance(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(F.instance_norm(student, eps=EPS), F.instance_norm(teacher.detach(), eps=EPS))


class StyleContentLoss(nn.Module):
    def __init__(self, config: StyleContentConfig, student: nn.Module, teacher: nn.Module | None):
        super().__init__()
        self.config = config
        s_ch = feature_channels(student)
        t_ch = feature_channels(teacher) if teacher is not None else s_ch
        self.pairs = pair_levels(config.levels, len(s_ch), len(t_ch), "distill.style_content")
        self.adapters = None
        if config.content > 0:
            self.adapters = nn.ModuleList(
                nn.Identity() if s_ch[s] == t_ch[t] else adapter(s_ch[s], t_ch[t]) for s, t in self.pairs)

    def forward(self, student_out: dict, teacher_out: dict | None,
                targets=None) -> tuple[torch.Tensor, dict[str, float]]:
        c = self.config
        sv, st = student_out["search"]["visible"], student_out["search"]["thermal"]
        style = content = zero(sv[-1])
        logs: dict[str, float] = {}
        if c.style > 0:
            for si, _ in self.pairs:
                style = style + style_distance(sv[si], st[si])
            logs["ckd_style"] = style.item()
        if self.adapters is not None:
            tv, tt = teacher_out["search"]["visible"], teacher_out["search"]["thermal"]
            for a, (si, ti) in zip(self.adapters, self.pairs):
                content = content + 0.5 * (content_distance(a(sv[si]), match_size(tv[ti], sv[si]))
                                           + content_distance(a(st[si]), match_size(tt[ti], st[si])))
            logs["ckd_content"] = content.item()
        return c.weight * (c.style * style + c.content * content), logs


def mask_patches(images: torch.Tensor, ratio: float, patch: int, fill: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Replace round(ratio * patches) randomly chosen patch x patch squares of each image by `fill`."""
    if ratio <= 0:
        return images
    b, _, h, w = images.shape
    gh, gw = math.ceil(h / patch), math.ceil(w / patch)
    n = gh * gw
    k = int(round(ratio * n))
    order = torch.rand(b, n, generator=generator).argsort(dim=1)[:, :k]
    keep = torch.ones(b, n).scatter_(1, order, 0.0).view(b, 1, gh, gw)
    keep = keep.repeat_interleave(patch, 2).repeat_interleave(patch, 3)[:, :, :h, :w].to(images.device, images.dtype)
    return images * keep + fill * (1 - keep)
