"""The mutual-prompt two-stream teacher (MPLKD's teacher, kind `teacher_mp`).

After every backbone stage the two streams prompt each other: a small prompt module reads one
modality's features (channel attention, then spatial attention, then a 1x1 projection) and its
output is added to the other modality's features, in both directions at once:

    v_i' = v_i + P_t->v(t_i)        t_i' = t_i + P_v->t(v_i)

The next stage consumes the prompted features. The projections start at zero, so at initialisation
the network is exactly the plain two-stream teacher and the prompts grow as they help. Fusion,
head and outputs are the `TwoStreamTeacher`'s.
"""

from __future__ import annotations

import torch
from torch import nn

from rgbt_tracker_ros.models.config import ModelConfig, TeacherConfig
from rgbt_tracker_ros.models.teacher import ChannelAttention, SpatialAttention, TwoStreamTeacher


class MutualPrompt(nn.Module):
    """Source-modality features -> a prompt for the other modality (same shape)."""

    def __init__(self, channels: int, reduction: int = 4, kernel: int = 7):
        super().__init__()
        self.channel = ChannelAttention(channels, reduction)
        self.spatial = SpatialAttention(kernel)
        self.project = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        x = source * self.channel(source)
        return self.project(x * self.spatial(x))


class MutualPromptTeacher(TwoStreamTeacher):
    def __init__(self, config: ModelConfig):
        super().__init__(config)
        t = config.teacher or TeacherConfig()
        channels = self.backbone_visible.stage_channels
        self.prompt_to_visible = nn.ModuleList(MutualPrompt(c, t.prompt_reduction, t.prompt_kernel) for c in channels)
        self.prompt_to_thermal = nn.ModuleList(MutualPrompt(c, t.prompt_reduction, t.prompt_kernel) for c in channels)

    def streams(self, visible: torch.Tensor, thermal: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        bv, bt = self.backbone_visible, self.backbone_thermal
        v, t = bv.stem(visible), bt.stem(thermal)
        visible_feats, thermal_feats = [], []
        for stage_v, stage_t, to_v, to_t in zip(bv.stages, bt.stages, self.prompt_to_visible, self.prompt_to_thermal):
            v, t = stage_v(v), stage_t(t)
            v, t = v + to_v(t), t + to_t(v)  # both prompts read the features before the exchange
            visible_feats.append(v)
            thermal_feats.append(t)
        visible_feats.append(bv.neck(v))
        thermal_feats.append(bt.neck(t))
        return visible_feats, thermal_feats
