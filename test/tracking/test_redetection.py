"""Re-detection (tracking/redetection.py): the tiles cover the frame, nearest first; on the oracle
model (its score lights up on hot thermal cells), a target that reappears far outside the widened
search window after being lost is found again by the sweep, and is not without it."""

from __future__ import annotations

import numpy as np
import pytest
from rgbt_tracker_ros.common.boxes import center
from rgbt_tracker_ros.evaluation.bench import MovingTarget
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.redetection import TILE_OVERLAP, TileSweep, tile_centres
from rgbt_tracker_ros.tracking.result import TrackState
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

from helpers.oracle_model import frames, write_oracle_model


def test_tiles_cover_the_frame_nearest_first():
    centres = tile_centres((640, 480), 170.0, near=(600.0, 50.0))
    assert len(centres) == 5 * 4  # ceil((640 - 170) / 127.5) + 1 columns, ceil((480 - 170) / 127.5) + 1 rows
    assert tuple(centres[0]) == (640 - 85.0, 85.0)  # the top-right tile first
    assert tuple(centres[-1]) == (85.0, 480 - 85.0)  # the bottom-left one last
    # Every pixel lies in some tile's inner part (the tile less half the overlap on each side).
    inner = 170.0 * (1.0 - TILE_OVERLAP) / 2.0
    ys, xs = np.mgrid[0:480:7, 0:640:7]
    covered = np.zeros(xs.shape, bool)
    for cx, cy in centres:
        covered |= (np.abs(xs - cx) <= inner + 85.0 * TILE_OVERLAP) & (np.abs(ys - cy) <= inner + 85.0 * TILE_OVERLAP)
    assert covered.all()
    assert len(tile_centres((100, 80), 170.0, near=(0.0, 0.0))) == 1  # a tile larger than the frame


def test_sweep_goes_round():
    sweep = TileSweep((640, 480), 300.0, near=(0.0, 0.0), out_size=128)
    seen = [sweep.next_window() for _ in range(2 * len(sweep))]
    assert seen[: len(sweep)] == seen[len(sweep):]
    assert all(w.side == 300.0 and w.out_size == 128 for w in seen)


@pytest.fixture(scope="module")
def oracle_dir(tmp_path_factory):
    return write_oracle_model(tmp_path_factory.mktemp("oracle"))


def _cold(thermal: np.ndarray, frame: int) -> np.ndarray:
    """A cold noisy frame without the target (noise, so it is neither uniform nor frozen: the frame
    check takes it as evidence)."""
    rng = np.random.default_rng(frame)
    return (2900 + rng.normal(0.0, 20.0, thermal.shape)).astype(thermal.dtype)


def _far_target(thermal: np.ndarray, frame: int) -> np.ndarray:
    """A cold frame with the warm target in the bottom-left corner, far from where it was lost."""
    image = _cold(thermal, frame)
    image[400:444, 40:84] = 6000
    return image


@pytest.mark.parametrize("redetect", [False, True])
def test_a_target_reappearing_far_away_is_found_again(oracle_dir, redetect):
    config = TrackerConfig(model=oracle_dir, providers=("cpu",), threads=1, lost_after=3,
                           redetect_score=0.5 if redetect else 1.0)
    tracker = RGBTTracker(config)
    scene = MovingTarget(seed=3, period=10_000)  # almost still, near the centre
    visible, thermal, box = frames(0, scene)
    tracker.initialize(visible, thermal, box)
    assert tracker.track(*frames(1, scene)[:2]).state == TrackState.TRACKING

    for i in range(4):  # gone: lost after 3 frames
        result = tracker.track(visible, _cold(thermal, 100 + i))
    assert result.state == TrackState.LOST

    # Bottom-left corner (thermal rows 400..444 -> visible 375..416): beyond the widened window.
    target_centre = (62.0, 422.0 * 480 / 512)
    cx, cy = center(result.box)
    reach = config.max_search_growth * tracker.model.search_factor * np.sqrt(box[2] * box[3]) / 2
    assert abs(cx - target_centre[0]) > reach and abs(cy - target_centre[1]) > 0.5 * reach
    states = []
    for i in range(40):
        result = tracker.track(visible, _far_target(thermal, i))
        states.append(result.state)
        if result.state == TrackState.TRACKING:
            break
    if not redetect:
        assert states == [TrackState.LOST] * 40
        return
    # Found within one round of the tiles (20 for this box on a 640x480 frame), where it is.
    tiles = len(tile_centres((640, 480), tracker.model.search_factor * np.sqrt(box[2] * box[3]), center(box)))
    assert tiles == 20 and states[-1] == TrackState.TRACKING and len(states) <= tiles
    assert np.hypot(*(np.array(center(result.box)) - target_centre)) < 15.0
    # Tracking goes on there, with the normal window again.
    follow = tracker.track(visible, _far_target(thermal, 41))
    assert follow.state == TrackState.TRACKING and tracker._target.growth == 1.0
