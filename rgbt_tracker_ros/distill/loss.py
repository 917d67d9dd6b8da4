"""The distillation objective: the enabled terms composed (`DistillConfig`, the `distill:` section),
the frozen teacher, the masked student input."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill.common import feature_channels, freeze
from rgbt_tracker_ros.distill.path_selection import PathSelectionConfig, PathSelectionLoss
from rgbt_tracker_ros.distill.real_image_peer import PeerConfig, PeerDistillationLoss
from rgbt_tracker_ros.distill.specific_common import SpecificCommonConfig, SpecificCommonLoss
from rgbt_tracker_ros.distill.style_content import MaskingConfig, StyleContentConfig, StyleContentLoss, mask_patches
from rgbt_tracker_ros.models.checkpoint import load_checkpoint_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.losses import LossConfig

_GEOMETRY = ("template_size", "search_size", "template_factor", "search_factor")


@dataclass(frozen=True)
class DistillConfig:
    """The `distill:` section (docs/distillation.md). A term is on only when its section is present
    (`specific_common: {}` is the term with its defaults), and then not switched off by `enabled:
    false` or `weight: 0`; a term that is off is not built (no adapters, nothing computed). Masking
    likewise: only with a `masking:` section whose search_mask_ratio is above 0. `levels` index the
    backbone feature lists [stage 0, ..., neck] of student and teacher alike (negative = from the
    deepest: -1 is the neck)."""

    teacher: str = ""  # teacher checkpoint (best.pt of a `kind: teacher` / `teacher_mp` run, or an exported student.pt)
    specific_common: SpecificCommonConfig | None = None
    path_selection: PathSelectionConfig | None = None
    style_content: StyleContentConfig | None = None
    masking: MaskingConfig | None = None
    peer: PeerConfig | None = None  # the frozen RGB peer (distill/real_image_peer.py); needs no teacher

    @property
    def needs_teacher(self) -> bool:
        """Whether a term that reads the two-stream teacher is on (the peer term reads its own network)."""
        return any(term_is_on(t) for t in (self.specific_common, self.path_selection, self.style_content))


def term_is_on(term) -> bool:
    """Whether a term's section is present and neither disabled nor weighted 0."""
    return term is not None and term.enabled and term.weight > 0


def load_teacher(path: str | Path, student: ModelConfig, device: torch.device | str = "cpu") -> nn.Module:
    """A checkpoint (`train`'s best.pt/last.pt, or an exported folder's student.pt) -> the frozen
    network it holds, built by the model builder from the config stored with it, in eval mode."""
    if not path:
        raise InputError("distill.teacher: no teacher checkpoint given")
    if not Path(path).is_file():
        raise InputError(f"distill.teacher: checkpoint {path} does not exist (train the teacher first)")
    try:
        teacher, _ = load_checkpoint_model(path)
    except InputError as exc:
        raise InputError(f"distill.teacher: {exc}") from exc
    for key in _GEOMETRY:
        if getattr(teacher.config, key) != getattr(student, key):
            raise InputError(f"distill.teacher: the teacher's {key} ({getattr(teacher.config, key)}) differs from "
                             f"the student's ({getattr(student, key)}); both must see the same crops")
    return freeze(teacher.to(device))


class DistillationLoss(nn.Module):
    """Sum of the terms that are on (`term_is_on`), each already weighted; a term that is off is not
    built (no parameters, no compute). Its parameters (the adapters) are trained with the student's
    optimizer and saved with the training checkpoint, never exported. `teacher` is None when only
    the peer term is on."""

    def __init__(self, config: DistillConfig, student: nn.Module, teacher: nn.Module | None, loss_config: LossConfig):
        super().__init__()
        self.config = config
        self.terms = nn.ModuleDict()
        if term_is_on(config.specific_common):
            self.terms["specific_common"] = SpecificCommonLoss(config.specific_common, student, teacher)
        if term_is_on(config.path_selection):
            self.terms["path_selection"] = PathSelectionLoss(config.path_selection, student, teacher, loss_config)
        if term_is_on(config.style_content):
            self.terms["style_content"] = StyleContentLoss(config.style_content, student, teacher)
        # Apart from `terms`: it reads the batch's crops, not the teacher's outputs.
        self.peer = PeerDistillationLoss(config.peer, feature_channels(student)) if term_is_on(config.peer) else None

    def forward(self, student_out: dict, teacher_out: dict | None, targets,
                batch: dict | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        total = student_out["score_logits"].new_zeros(())
        logs: dict[str, float] = {}
        for name, term in self.terms.items():
            loss, parts = term(student_out, teacher_out, targets)
            total = total + loss
            logs[name] = loss.item()
            logs.update(parts)
        if self.peer is not None:
            loss, parts = self.peer(student_out, batch)
            total = total + loss
            logs["peer"] = loss.item()
            logs.update(parts)
        logs["distill"] = total.item()
        return total, logs


def mask_search(batch: dict, config: DistillConfig, model: ModelConfig,
                generator: torch.Generator | None = None) -> dict:
    """The batch with `masking.search_mask_ratio` of each search crop's patches set to the pixel mean
    (independently per modality); the template and the original tensors are left untouched."""
    m = config.masking
    if m is None or m.search_mask_ratio <= 0:
        return batch
    patch = m.patch or model.stride
    out = dict(batch)
    for key in ("search_visible", "search_thermal"):
        out[key] = mask_patches(batch[key], m.search_mask_ratio, patch, model.pixel_mean, generator)
    return out
