"""The failure analysis: which frames are the worst, state codes, and the images being written."""

import numpy as np
import pytest

from helpers.sequences import RecordingTracker, moving_square
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.evaluation.analysis import state_codes, timeline_plot, worst_frames, worst_frames_strip
from rgbt_tracker_ros.evaluation.box_size import BoxSize, area_ratios
from rgbt_tracker_ros.evaluation.metrics import FrameErrors
from rgbt_tracker_ros.evaluation.runner import run_errors, run_tracker


def _errors(overlap, center=None) -> FrameErrors:
    n = len(overlap)
    center = np.zeros(n) if center is None else np.asarray(center, dtype=np.float64)
    return FrameErrors("otb", np.arange(1, n + 1), center, center, np.asarray(overlap, dtype=np.float64))


def test_worst_frames_lowest_iou_first_then_spread_apart():
    overlap = [0.9, 0.1, 0.0, 0.05, 0.8, 0.7, 0.3, 0.95]  # frames 1..8
    errors = _errors(overlap, center=[0, 5, 30, 9, 0, 0, 4, 0])
    every = BoxSize(errors.frames, np.ones(8))
    assert worst_frames(errors, every, count=3, gap=1) == [2, 3, 4]
    assert worst_frames(errors, every, count=3, gap=2) == [3, 5, 7]  # 3, not 4 or 2 (too close), 7, not 6, 5
    # Equal IoU: the larger centre error first.
    assert worst_frames(_errors([0.0, 0.0, 0.5], center=[3, 40, 0]), BoxSize(np.arange(1, 4), np.ones(3)),
                        count=1) == [2]
    # Only frames with a ground-truth box (those in the size's frames) are candidates.
    assert worst_frames(errors, BoxSize(np.array([1, 8]), np.ones(2)), count=3, gap=1) == [1, 8]
    assert worst_frames(errors, BoxSize(np.zeros(0, np.int64), np.zeros(0)), count=3) == []


def test_state_codes_and_images_of_a_run(tmp_path):
    sequence = moving_square(n=12)
    run = run_tracker(RecordingTracker(fail_on=(4,)), sequence, modality="rgbt", progress=False)
    frames, codes = state_codes(run)
    assert frames.tolist() == list(range(1, 12))
    assert codes.tolist() == [0, 0, 0, 3] + [0] * 7  # the 4th track() call raised: input error
    errors = run_errors(run, sequence)
    size = area_ratios(run.predictions, sequence.groundtruth, errors)
    assert size.within_band == 1.0 and size.median == 1.0
    run.ignored[5] = {"thermal": "frozen"}  # a row for the ignored camera joins the state panel
    timeline = timeline_plot(run, errors, size, tmp_path / "t.png", "recorder")
    strip = worst_frames_strip(run, sequence, errors, size, tmp_path / "w.png", "worst")
    assert timeline.stat().st_size > 10_000 and strip.stat().st_size > 10_000


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_strip_of_a_thermal_run_and_of_a_sequence_without_boxes(tmp_path, dtype):
    square = moving_square(n=6, thermal_dtype=dtype)
    thermal_only = Sequence("t", None, square.thermal, square.groundtruth)
    run = run_tracker(RecordingTracker(), thermal_only, modality="thermal", progress=False)
    errors = run_errors(run, thermal_only)
    size = area_ratios(run.predictions, thermal_only.groundtruth, errors)
    assert worst_frames_strip(run, thermal_only, errors, size, tmp_path / "w.png", "worst").is_file()
    empty = BoxSize(np.zeros(0, np.int64), np.zeros(0))
    assert worst_frames_strip(run, thermal_only, errors, empty, tmp_path / "none.png", "worst") is None
    assert not (tmp_path / "none.png").exists()
