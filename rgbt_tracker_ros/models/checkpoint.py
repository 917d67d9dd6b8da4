"""A network back from a checkpoint: `train`'s best.pt / last.pt, a compression stage's, or an
exported model folder's student.pt, all built from the model config stored with the weights."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from rgbt_tracker_ros.common.config_io import from_dict
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.single_modality import SingleModalityStudent


def rebuild(model_config: ModelConfig, input_modality: str | None = None) -> nn.Module:
    """A fresh network of a stored config: a single-modality student when `input_modality` is given
    (checkpoints and model.json of the thermal-only model carry it), else the builder's."""
    if input_modality:
        return SingleModalityStudent(model_config, input_modality)
    return build_model(model_config)


def load_checkpoint_model(path: str | Path) -> tuple[nn.Module, dict]:
    """(network in eval mode, checkpoint dict) of a `train` checkpoint or an exported student.pt, built
    from the config stored with it. A missing, unreadable or foreign file raises InputError."""
    if not Path(path).is_file():
        raise InputError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        model_config = from_dict(ModelConfig, state["config"]["model"], where="checkpoint.model")
        model = rebuild(model_config, state["config"].get("input_modality"))
        model.load_state_dict(state["model"])
    except InputError:
        raise
    except Exception as exc:  # torch.load of a non-checkpoint raises pickle, EOF, zip or type errors
        raise InputError(f"cannot load checkpoint {path}: {type(exc).__name__}: {exc}") from exc
    return model.eval(), state
