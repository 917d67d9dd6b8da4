"""ONNX export to the runtime's contract (tracking/contract.py) and the ONNX Runtime / PyTorch parity check."""

import json

import pytest
import torch

from rgbt_tracker_ros.common.config_io import from_dict
from rgbt_tracker_ros.common.errors import JobFailed
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.tracking import contract
from rgbt_tracker_ros.training.export import check_parity, export_student, random_inputs, real_inputs

pytestmark = pytest.mark.torch


@pytest.mark.slow
def test_parity_check_fails_when_the_graph_does_not_match(tmp_path):
    torch.manual_seed(0)
    model = build_model(ModelConfig())
    export_student(model, tmp_path)
    assert check_parity(model, tmp_path, random_inputs(model.config, 1)) < 1e-4
    other = build_model(ModelConfig())  # different random weights
    with pytest.raises(JobFailed, match="differs from PyTorch"):
        check_parity(other, tmp_path, random_inputs(model.config, 1))
    # model.json is the contract's, with the model's own figures
    meta = json.loads((tmp_path / contract.MODEL_FILE).read_text())
    expected = contract.model_metadata(
        name="student", version=meta["version"], kind="student", template_size=80, search_size=160,
        template_factor=2.0, search_factor=4.0, feature_size=20, pixel_mean=114.0, pixel_std=58.0,
        params=sum(p.numel() for p in model.parameters()), model_config=meta["model_config"])
    assert meta == expected and "input_modality" not in meta
    assert {p.name for p in tmp_path.iterdir()} == {contract.MODEL_FILE, contract.TEMPLATE_FILE, contract.SEARCH_FILE,
                                                    contract.WEIGHTS_FILE}


def test_shipped_model_matches_its_pytorch_weights(repo_root):
    """The default model in weights/student: its ONNX graphs against the PyTorch weights shipped beside them."""
    folder = repo_root / "rgbt_tracker_ros" / "weights" / "student"
    state = torch.load(folder / contract.WEIGHTS_FILE, map_location="cpu", weights_only=False)
    model = build_model(from_dict(ModelConfig, state["config"]["model"]))
    model.load_state_dict(state["model"])
    inputs = random_inputs(model.config, 2) + real_inputs(model.config, 2)
    assert check_parity(model, folder, inputs, tolerance=1e-3) < 1e-3
