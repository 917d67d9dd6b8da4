"""One builder: a ModelConfig in, the network it describes out."""

from __future__ import annotations

from torch import nn

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.prompts import MutualPromptTeacher
from rgbt_tracker_ros.models.student import SingleStreamStudent
from rgbt_tracker_ros.models.teacher import TwoStreamTeacher

_BUILDERS = {"student": SingleStreamStudent, "teacher": TwoStreamTeacher, "teacher_mp": MutualPromptTeacher}


def build_model(config: ModelConfig) -> nn.Module:
    try:
        return _BUILDERS[config.kind](config)
    except KeyError:
        raise InputError(f"unknown model kind {config.kind!r}; known: {sorted(_BUILDERS)}") from None


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
