"""The real-image peer term (distill/real_image_peer.py): NanoTrack v2 frozen on the visible crops,
the student's thermal stream and score map learning from it."""

import numpy as np
import pytest
import torch

from helpers.paths import PEER_MODELS
from rgbt_tracker_ros.distill.common import feature_channels
from rgbt_tracker_ros.distill.loss import DistillConfig, DistillationLoss
from rgbt_tracker_ros.distill.real_image_peer import PeerConfig, PeerDistillationLoss, RealImagePeer
from rgbt_tracker_ros.models.builder import build_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.losses import LossConfig

pytestmark = [pytest.mark.torch,
              pytest.mark.skipif(not (PEER_MODELS / "nanotrack_v2_head.onnx").is_file(), reason="peer models absent")]

BACKBONE = str(PEER_MODELS / "nanotrack_v2_backbone.onnx")
HEAD = str(PEER_MODELS / "nanotrack_v2_head.onnx")


def _crops(config: ModelConfig, b: int = 3, seed: int = 0) -> dict:
    """A bright square on a dark textured background, centred in the template and shifted in the search."""
    g = torch.Generator().manual_seed(seed)
    z, s = config.template_size, config.search_size
    t = torch.rand(b, 3, z, z, generator=g) * 60
    t[:, :, z // 4 : 3 * z // 4, z // 4 : 3 * z // 4] = 230.0
    x = torch.rand(b, 3, s, s, generator=g) * 60
    x[:, :, 30:70, 90:130] = 230.0  # the target, right of the centre
    return {"template_visible": t, "template_thermal": t[:, :1], "search_visible": x, "search_thermal": x[:, :1],
            "box": torch.tensor([[90.0, 30.0, 40.0, 40.0]] * b), "has_target": torch.ones(b, dtype=torch.bool)}


def test_peer_response_peaks_on_the_target():
    peer = RealImagePeer(PeerConfig(backbone=BACKBONE, head=HEAD))
    batch = _crops(ModelConfig())
    features, logits = peer(batch["template_visible"], batch["search_visible"])
    assert features.shape == (3, 48, 16, 16) and logits.shape == (3, 1, 16, 16)
    row, col = np.unravel_index(int(logits[0, 0].argmax()), (16, 16))
    # The square covers search pixels x 90..130, y 30..70 of 160: cells x 9..13, y 3..7 of 16.
    assert 8 <= col <= 14 and 2 <= row <= 8


def test_student_learns_and_the_peer_does_not():
    torch.manual_seed(0)
    config = ModelConfig()
    student = build_model(config).train()
    term = PeerDistillationLoss(PeerConfig(backbone=BACKBONE, head=HEAD, response_weight=0.5), feature_channels(student))
    term.train()
    assert not term.peer.training
    batch = _crops(config)
    out = student(*(batch[k] for k in ("template_visible", "template_thermal", "search_visible", "search_thermal")))
    loss, parts = term(out, batch)
    assert loss.item() > 0 and parts["peer_feature"] > 0 and parts["peer_response"] > 0
    loss.backward()
    assert term.adapter.weight.grad is not None
    assert student.backbone.stem[0].weight.grad is not None
    assert not list(term.peer.parameters())  # the peer's weights are buffers: nothing to optimise or save
    assert all(not k.startswith("peer.") for k in term.state_dict())


def test_pairs_the_peer_cannot_see_are_left_out():
    torch.manual_seed(0)
    config = ModelConfig()
    student = build_model(config)
    term = PeerDistillationLoss(PeerConfig(backbone=BACKBONE, head=HEAD), feature_channels(student))
    batch = _crops(config, b=2)
    batch["search_visible"][0] = 0.0        # a dead visible camera
    batch["has_target"][1] = False          # no target in the window
    out = student(*(batch[k] for k in ("template_visible", "template_thermal", "search_visible", "search_thermal")))
    loss, parts = term(out, batch)
    assert loss.item() == 0.0 and parts == {}


def test_peer_alone_needs_no_teacher_and_builds_no_teacher_terms():
    config = DistillConfig(peer=PeerConfig(backbone=BACKBONE, head=HEAD))
    assert not config.needs_teacher
    student = build_model(ModelConfig())
    loss = DistillationLoss(config, student, None, LossConfig())
    assert not loss.terms and loss.peer is not None
    with pytest.raises(ValueError, match="needs the peer's head"):
        PeerConfig(backbone=BACKBONE, response_weight=1.0)
