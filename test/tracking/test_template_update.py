"""The appearance model adapts (tracking/template_update.py): updates only on confident frames and
at most every `interval` frames, the initial template kept as an anchor and mixed in, memory that
does not grow, the anchor alone again once the target is lost; by hand and in the tracker on
scripted maps."""

from __future__ import annotations

import numpy as np
import pytest
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.result import TrackState
from rgbt_tracker_ros.tracking.template_update import TemplateMemory, TemplateUpdate
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

from helpers.oracle_model import frames
from helpers.scripted_backend import ScriptedBackend

BOX = np.array([290.0, 210.0, 60.0, 60.0])


def test_memory_by_hand():
    anchor = np.full((1, 2, 2), 1.0, np.float32)
    memory = TemplateMemory(anchor, TemplateUpdate(weight=0.25, min_score=0.8, interval=3))
    anchor[:] = 5.0  # the memory holds its own copy
    assert [memory.due(s) for s in (0.9, 0.9, 0.5, 0.9)] == [False, False, False, True]  # 3rd frame: low score
    memory.update(np.full((1, 2, 2), 3.0, np.float32))
    assert np.all(memory.features == 0.75 * 1.0 + 0.25 * 3.0) and np.all(memory.anchor == 1.0)
    assert [memory.due(0.9) for _ in range(3)] == [False, False, True]  # the interval counts again
    features = memory.features
    memory.forget()
    assert memory.features is features and np.all(features == 1.0) and memory.dynamic is None
    off = TemplateMemory(anchor, TemplateUpdate(weight=0.0, min_score=0.0, interval=1))
    assert not any(off.due(1.0) for _ in range(5))


def _tracker(tmp_path, peak: float, **settings) -> tuple[RGBTTracker, ScriptedBackend]:
    backend = ScriptedBackend(tmp_path, peak=peak)
    settings = {"template_weight": 0.4, **settings}
    config = TrackerConfig(providers=("cpu",), threads=1, hann_weight=0.0, scale_penalty=0.0, window_floor=0.0,
                           redetect_score=1.0, template_update_score=0.8, template_update_interval=5, **settings)
    tracker = RGBTTracker(config, backend=backend)
    tracker.initialize(*frames(0)[:2], BOX)
    return tracker, backend


def test_no_update_on_a_low_score(tmp_path):
    # Trusted (0.6 >= score_tracking 0.3) but below the update score: the template never changes.
    tracker, backend = _tracker(tmp_path, peak=0.6)
    for i in range(1, 31):
        assert tracker.track(*frames(i)[:2]).state == TrackState.TRACKING
    assert backend.template_calls == 1  # the initialisation only
    assert tracker._target.templates.updates == 0
    assert len(backend.fed_features) == 30
    assert all(np.array_equal(f, tracker._target.templates.anchor) for f in backend.fed_features)


def test_confident_updates_keep_the_anchor_and_bounded_memory(tmp_path):
    tracker, backend = _tracker(tmp_path, peak=0.95)
    memory = tracker._target.templates
    anchor = memory.anchor.copy()
    arrays = (id(memory.anchor), id(memory.features))
    for i in range(1, 31):
        tracker.track(*frames(i)[:2])
    # Every 5th confident frame: frames 5, 10, ..., 30.
    assert memory.updates == 6 and backend.template_calls == 7
    assert np.array_equal(memory.anchor, anchor)  # the anchor is never replaced
    assert (id(memory.anchor), id(memory.features)) == arrays  # the same buffers all along
    assert memory.dynamic.shape == anchor.shape
    # The search graph after the 6th update reads 0.6 * anchor + 0.4 * the latest dynamic template.
    tracker.track(*frames(31)[:2])
    assert np.allclose(backend.fed_features[-1], 0.6 * anchor + 0.4 * memory.dynamic)
    assert not np.allclose(memory.dynamic, anchor)  # taken from another frame, so it differs


def test_lost_target_falls_back_to_the_anchor(tmp_path):
    tracker, backend = _tracker(tmp_path, peak=0.95, lost_after=2)
    for i in range(1, 11):
        tracker.track(*frames(i)[:2])
    memory = tracker._target.templates
    assert memory.dynamic is not None
    backend.score[:] = 0.01  # the target is gone
    states = [tracker.track(*frames(i)[:2]).state for i in range(11, 14)]
    assert states == [TrackState.UNCERTAIN, TrackState.LOST, TrackState.LOST]
    assert memory.dynamic is None and np.array_equal(memory.features, memory.anchor)
    assert np.array_equal(backend.fed_features[-1], memory.anchor)


@pytest.mark.parametrize("weight", [0.0, 0.4])
def test_update_costs_one_template_pass(tmp_path, weight):
    tracker, backend = _tracker(tmp_path, peak=0.95, template_weight=weight)
    calls = backend.template_calls
    for i in range(1, 21):
        tracker.track(*frames(i)[:2])
    assert backend.template_calls - calls == (4 if weight else 0)
