"""`rgbt-tracker train --set`: overrides of a training config (how the ablation script makes its per-term variants)."""

import pytest
from rgbt_tracker_ros.common.config_io import apply_overrides
from rgbt_tracker_ros.common.config_io import load_yaml_config as load_config
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.training.config import TrainConfig

pytestmark = pytest.mark.torch


def test_train_set_overrides_the_config():
    data = apply_overrides({"optim": {"lr": 0.1}}, ["optim.lr=0.01", "run.output_dir=runs/x", "name=variant"])
    assert data == {"optim": {"lr": 0.01}, "run": {"output_dir": "runs/x"}, "name": "variant"}
    with pytest.raises(InputError, match="KEY=VALUE"):
        apply_overrides({}, ["optim.lr"])
    with pytest.raises(InputError, match="is a value"):
        apply_overrides({"optim": 3}, ["optim.lr=1"])
    config = load_config(TrainConfig, "config/training/student.yaml", ["optim.epochs=3", "model.backbone.out_channels=32"])
    assert config.optim.epochs == 3 and config.model.backbone.out_channels == 32
    with pytest.raises(InputError, match="unknown key"):
        load_config(TrainConfig, "config/training/student.yaml", ["optim.nonsense=1"])
