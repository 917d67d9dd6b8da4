"""The sweep's box-size figures and the occlusion-and-jump splice of the re-detection measurement
(evaluation/sweep.py, evaluation/reacquisition.py), on hand-made boxes and frames."""

from __future__ import annotations

import numpy as np
import pytest
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.evaluation.reacquisition import far_shift, frames_to_reacquire, splice
from rgbt_tracker_ros.evaluation.sweep import area_in_band, area_ratios


def test_area_ratio_and_band():
    gt = np.array([[0, 0, 10, 10]] * 5, float)
    gt[3] = np.nan  # unannotated: not scored
    pred = np.array([[0, 0, 10, 10], [0, 0, 20, 10], [0, 0, 5, 5], [0, 0, 1, 1], [0, 0, 30, 10]], float)
    ratios = area_ratios(pred, gt, init_frame=0)  # the initialisation frame is left out
    assert ratios.tolist() == [2.0, 0.25, 3.0]
    assert area_in_band(ratios) == pytest.approx(1 / 3)
    assert np.isnan(area_in_band(np.array([])))


def _sequence(n: int = 30) -> Sequence:
    rng = np.random.default_rng(0)
    visible, thermal, gt = [], [], []
    for i in range(n):
        v = rng.integers(90, 110, (120, 160, 3)).astype(np.uint8)
        t = rng.integers(1000, 1010, (120, 160)).astype(np.uint16)
        x, y = 20 + i, 30
        v[y:y + 10, x:x + 10] = 250
        t[y:y + 10, x:x + 10] = 5000
        visible.append(v)
        thermal.append(t)
        gt.append([x, y, 10, 10])
    return Sequence("hand", ArrayFrames(visible), ArrayFrames(thermal), np.array(gt, float))


def test_far_shift_goes_to_the_farthest_quadrant():
    assert far_shift((20, 30, 10, 10), (160, 120)) == (120 - 25, 90 - 35)
    # A box wider than a quadrant goes as far as keeps it inside the frame.
    assert far_shift((0, 0, 100, 10), (160, 120)) == (110 - 50, 90 - 5)


def test_splice_hides_then_moves_the_target():
    sequence = _sequence()
    spliced, cut = splice(sequence, start=10, hidden=5)
    assert cut.reappears == 15 and cut.shift == far_shift(sequence.groundtruth[15], (160, 120))
    for i in range(10, 15):  # covered in both cameras, ground truth blank
        assert spliced.visible[i].max() < 200 and spliced.thermal[i].max() < 2000
        assert np.all(np.isnan(spliced.groundtruth[i]))
    x, y, w, h = spliced.groundtruth[15].astype(int)
    assert (x, y) == (35 + cut.shift[0], 30 + cut.shift[1])
    assert np.all(spliced.thermal[15][y:y + h, x:x + w] == 5000)  # the target where the ground truth says
    assert np.array_equal(spliced.visible[5], sequence.visible[5])  # before: untouched
    # Re-acquired at the first frame overlapping the moved target at IoU > 0.5.
    predictions = np.tile(sequence.groundtruth[9], (30, 1))
    predictions[18:] = spliced.groundtruth[18]
    assert frames_to_reacquire(predictions, spliced, cut) == 3
    assert frames_to_reacquire(np.tile(sequence.groundtruth[9], (30, 1)), spliced, cut) is None
