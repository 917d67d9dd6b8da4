"""The PyTorch backend injected into RGBTTracker tracks like the ONNX export of the same network."""

import dataclasses

import numpy as np
import pytest
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.tracker import RGBTTracker
from rgbt_tracker_ros.training.torch_backend import TorchBackend

from helpers.tiny_models import export_tiny_models

pytestmark = [pytest.mark.torch, pytest.mark.slow]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return export_tiny_models(tmp_path_factory.mktemp("ablation"))


def test_torch_backend_tracks_like_the_onnx_tracker(models):
    # score_tracking 0: every prediction is taken, so the boxes follow the network's outputs.
    config = TrackerConfig(model=models / "student", providers=("cpu",), threads=1, score_tracking=0.0, score_lost=0.0)
    onnx_tracker = RGBTTracker(config)
    torch_tracker = RGBTTracker(dataclasses.replace(config, model=None),
                                backend=TorchBackend.from_checkpoint(models / "student" / "student.pt"))
    sequence = make_sequence(1_000_003, SyntheticConfig(width=160, height=128, length=5))
    for tracker in (onnx_tracker, torch_tracker):
        tracker.initialize(*sequence.frame(0), sequence.groundtruth[0])
    for i in range(1, 5):
        a = onnx_tracker.track(*sequence.frame(i))
        b = torch_tracker.track(*sequence.frame(i))
        assert np.allclose(a.box, b.box, atol=1e-2) and a.score == pytest.approx(b.score, abs=1e-4)
        assert a.state == b.state
    assert torch_tracker.provider == "torch-cpu"
    assert torch_tracker.model.search_size == onnx_tracker.model.search_size
    with pytest.raises(InputError, match="does not exist"):
        TorchBackend.from_checkpoint(models / "nothing.pt")
