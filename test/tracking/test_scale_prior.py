"""The box keeps its size (tracking/scale_prior.py, tracking/search_window.py): the size penalty and
the bounded size update by hand, and in the tracker on scripted maps: a network that always sees
the target a little smaller does not shrink the box and the window into a collapse, and a
confident candidate of a very different size loses to a slightly less confident one of the
current size."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rgbt_tracker_ros.common.boxes import center
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.scale_prior import next_size, size_penalty
from rgbt_tracker_ros.tracking.search_window import search_side
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

from helpers.oracle_model import frames
from helpers.scripted_backend import ScriptedBackend

# Every post-processing setting given, so the tests do not depend on the shipped defaults.
OFF = dict(hann_weight=0.0, size_lr=0.6, scale_penalty=0.0, max_scale_step=4.0, window_floor=0.0,
           template_weight=0.0, redetect_score=1.0, providers=("cpu",), threads=1)


def test_penalty_by_hand():
    # Cells: the same size, both sides doubled, the height doubled, both sides halved.
    size_map = np.array([[[0.2, 0.4, 0.2, 0.1]], [[0.2, 0.4, 0.4, 0.1]]])
    penalty = size_penalty(size_map, (0.2, 0.2), strength=1.0)[0]
    # Doubled height: padded sides sqrt(0.5 * 0.7) against 0.4 (scale 1.479), aspect ratio halved (2).
    taller = math.exp(-(math.sqrt(0.5 * 0.7) / 0.4 * 2.0 - 1.0))
    assert penalty == pytest.approx([1.0, math.exp(-1.0), taller, math.exp(-1.0)], rel=1e-5)
    assert np.all(size_penalty(size_map, (0.2, 0.2), strength=0.0) == 1.0)
    stronger = size_penalty(size_map, (0.2, 0.2), strength=3.0)[0]
    assert stronger[1] == pytest.approx(math.exp(-3.0), rel=1e-5)


def test_size_update_is_bounded_per_frame_and_weighted_by_the_rate():
    assert next_size((100.0, 50.0), (200.0, 10.0), rate=0.5, max_step=1.1, min_side=2.0) == \
        pytest.approx((110.0, 50.0 / 1.1))
    assert next_size((100.0, 50.0), (120.0, 40.0), rate=0.5, max_step=4.0, min_side=2.0) == pytest.approx((110.0, 45.0))
    assert next_size((100.0, 50.0), (0.0, 0.0), rate=0.0, max_step=4.0, min_side=2.0) == (100.0, 50.0)  # rate 0: kept
    assert next_size((3.0, 3.0), (0.0, 0.0), rate=1.0, max_step=4.0, min_side=2.0) == (2.0, 2.0)


def test_window_side_has_a_floor():
    box = (0.0, 0.0, 10.0, 40.0)  # sqrt(w h) = 20: side 80 with factor 4
    assert search_side(box, 4.0, growth=1.0, initial_side=200.0, floor=0.0) == 80.0
    assert search_side(box, 4.0, growth=1.0, initial_side=200.0, floor=0.5) == 100.0
    assert search_side(box, 4.0, growth=2.0, initial_side=200.0, floor=0.5) == 200.0
    assert search_side(box, 4.0, growth=1.0, initial_side=50.0, floor=1.0) == 80.0  # the box above it


def _side(box) -> float:
    return math.sqrt(box[2] * box[3])


def _run_shrinking(tmp_path, frames_count: int, **settings):
    """The network always sees the target at 0.8x the size the window was cut for."""
    backend = ScriptedBackend(tmp_path, peak=0.9, size_fraction=0.8 / 4.0)
    tracker = RGBTTracker(TrackerConfig(**{**OFF, **settings}), backend=backend)
    visible, thermal, _ = frames(0)
    start = np.array([290.0, 210.0, 60.0, 60.0])
    tracker.initialize(visible, thermal, start)
    # Each frame a new one (the scripted maps ignore the pixels; a repeated frame would be ignored).
    sides = [_side(tracker.track(*frames(i)[:2]).box) for i in range(1, frames_count + 1)]
    return start, sides


def test_today_a_smaller_prediction_each_frame_collapses_the_box(tmp_path):
    start, sides = _run_shrinking(tmp_path, 60)
    # Each frame: 0.54 of the way to 0.8x: a factor 0.892, down to the smallest box.
    assert sides[0] == pytest.approx(60.0 * (1 - 0.54 * 0.2))
    assert sides[-1] == pytest.approx(2.0)


def test_window_floor_stops_the_collapse(tmp_path):
    start, sides = _run_shrinking(tmp_path, 200, window_floor=0.75, scale_penalty=3.0, max_scale_step=1.05)
    # The window stops at 0.75 of its first side; the prediction, 0.8 of the box the window is cut
    # for, then stays 0.8 * 0.75 of the initial side: the box settles there instead of collapsing.
    assert sides[-1] == pytest.approx(0.8 * 0.75 * 60.0, rel=1e-3)
    assert min(sides) >= 0.8 * 0.75 * 60.0 - 1e-6
    assert all(later <= earlier + 1e-9 for earlier, later in zip(sides, sides[1:]))  # monotone, no oscillation
    # Bounded per frame: never faster than 1/1.05 per frame.
    assert all(later >= earlier / 1.05 - 1e-9 for earlier, later in zip(sides, sides[1:]))


def _two_candidates(tmp_path) -> ScriptedBackend:
    """A confident candidate three times the current size at the centre cell, and a less
    confident one of the current size two cells to the right."""
    backend = ScriptedBackend(tmp_path, peak=0.9, size_fraction=0.25)
    backend.size[:, 8, 8] = 0.75
    backend.score[8, 10] = 0.7
    return backend


@pytest.mark.parametrize("penalised", [False, True])
def test_a_size_jump_is_penalised(tmp_path, penalised):
    backend = _two_candidates(tmp_path)
    tracker = RGBTTracker(TrackerConfig(**{**OFF, "scale_penalty": 3.0 if penalised else 0.0}), backend=backend)
    visible, thermal, _ = frames(0)
    start = np.array([290.0, 210.0, 60.0, 60.0])
    tracker.initialize(visible, thermal, start)
    result = tracker.track(*frames(1)[:2])
    cx, cy = center(result.box)
    crop_to_image = 4.0 * 60.0 / 128  # a 240 px window resampled to 128 px
    if penalised:
        # The current-size candidate wins (its penalty is 1; the large one's exp(-6) * 0.9), and the
        # box keeps its size.
        assert (cx, cy) == pytest.approx((320.0 + 16 * crop_to_image, 240.0))
        assert _side(result.box) == pytest.approx(60.0)
        assert result.score == pytest.approx(0.7)
    else:
        assert (cx, cy) == pytest.approx((320.0, 240.0))
        assert _side(result.box) == pytest.approx(60.0 * (1 + 0.54 * 2.0))


def test_size_change_per_frame_is_bounded(tmp_path):
    backend = _two_candidates(tmp_path)
    tracker = RGBTTracker(TrackerConfig(**{**OFF, "max_scale_step": 1.1}), backend=backend)
    visible, thermal, _ = frames(0)
    tracker.initialize(visible, thermal, (290.0, 210.0, 60.0, 60.0))
    assert _side(tracker.track(*frames(1)[:2]).box) == pytest.approx(66.0)
