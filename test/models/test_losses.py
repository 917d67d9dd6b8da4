"""The centre head's box losses (models/losses.py) on hand-computed values."""

import math

import pytest
import torch

from rgbt_tracker_ros.models.losses import LossConfig, TrackingLoss, decode_at, focal_loss, giou_loss, make_targets

pytestmark = pytest.mark.torch


def test_targets_put_the_peak_on_the_centre_cell():
    # box centre at (52, 28) px in a 160 px crop with 20 cells (stride 8): cell j=6, i=3, offset 0.5
    t = make_targets(torch.tensor([[44.0, 20.0, 16.0, 16.0]]), torch.tensor([True]), 160, 20)
    assert t.cell.item() == 3 * 20 + 6
    assert t.heatmap[0, 0, 3, 6].item() == 1.0
    assert torch.allclose(t.box, torch.tensor([[52 / 160, 28 / 160, 16 / 160, 16 / 160]]))
    none = make_targets(torch.tensor([[44.0, 20.0, 16.0, 16.0]]), torch.tensor([False]), 160, 20)
    assert none.heatmap.sum().item() == 0.0


def test_focal_loss_hand_computed():
    # one positive cell with p = 0.5 and one negative cell (heatmap 0) with p = 0.5:
    # pos: -log(0.5) * 0.5^2 ; neg: -log(0.5) * 0.5^2 * 1^4 ; normalised by 1 positive
    logits = torch.zeros(1, 1, 1, 2)
    heat = torch.tensor([[[[1.0, 0.0]]]])
    expected = 2 * math.log(2) * 0.25
    assert abs(focal_loss(logits, heat).item() - expected) < 1e-6


def test_giou_hand_computed():
    same = torch.tensor([[0.5, 0.5, 0.2, 0.2]])
    assert giou_loss(same, same).item() < 1e-6
    # two unit boxes side by side, touching: IoU 0, hull = union -> GIoU 0 -> loss 1
    a = torch.tensor([[0.5, 0.5, 1.0, 1.0]])
    b = torch.tensor([[1.5, 0.5, 1.0, 1.0]])
    assert abs(giou_loss(a, b).item() - 1.0) < 1e-6
    # disjoint with a gap of 1: hull area 3, union 2 -> GIoU = 0 - 1/3 -> loss 4/3
    c = torch.tensor([[2.5, 0.5, 1.0, 1.0]])
    assert abs(giou_loss(a, c).item() - 4 / 3) < 1e-6


def test_decode_reads_the_requested_cell():
    size = torch.zeros(1, 2, 4, 4)
    offset = torch.zeros(1, 2, 4, 4)
    size[0, :, 2, 1] = torch.tensor([0.25, 0.5])
    offset[0, :, 2, 1] = torch.tensor([0.5, 0.25])
    box = decode_at(size, offset, torch.tensor([2 * 4 + 1]))
    assert torch.allclose(box, torch.tensor([[1.5 / 4, 2.25 / 4, 0.25, 0.5]]))


def test_perfect_prediction_has_only_the_focal_term():
    targets = make_targets(torch.tensor([[72.0, 72.0, 16.0, 16.0]]), torch.tensor([True]), 160, 20)
    size = torch.full((1, 2, 20, 20), 0.1)
    offset = torch.zeros(1, 2, 20, 20)
    outputs = {"score_logits": torch.full((1, 1, 20, 20), -5.0), "size": size, "offset": offset}
    _, parts = TrackingLoss(LossConfig())(outputs, targets)
    assert parts["l1"] < 1e-6 and parts["giou"] < 1e-6 and parts["focal"] > 0
