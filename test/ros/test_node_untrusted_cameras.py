"""Issue 14, finding 6, over DDS: a camera that cannot be trusted is not reported as confident
tracking at a wrong box. Thermal frames identical to the previous one (fresh stamps) while the
target moves are set aside as frozen, said in /diagnostics, and the track goes on on visible.

The frame check (tracking/frame_check.py, issue 12, commit ec8de9e) already did this when this test
was written (measured: state 33 = tracking on visible alone on every frame after the first, IoU 0.87
to 0.97). Run against the commit before the frame check (c964644, with this file and its helpers
copied in), it fails: state 1, tracking on both cameras, on every frozen frame; against 34a219b, the
version the issue was filed on, it passes. Since then a frame without the thermal camera is also
searched with a template without it (test/tracking/test_camera_templates.py).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from helpers.faulty_cameras import Shot, faulty_node  # noqa: E402
from helpers.live_node import scene, wait_for  # noqa: E402
from rgbt_tracker_ros.ros.pairing import THERMAL  # noqa: E402
from rgbt_tracker_ros.ros.state import STATE_MASK, THERMAL_MISSING, State  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with faulty_node(tmp_path_factory.mktemp("untrusted") / "node.log") as running:
        yield running


def _during(client, plan, seconds: float):
    client.track_target()
    t0 = time.monotonic()
    client.plan = plan
    try:
        time.sleep(seconds)
        status = client.status_values()
    finally:
        client.plan = lambda index, stamp_ns: {}
    return client.since(client.states, t0), client.ious(t0), status


def test_frozen_thermal_camera_is_set_aside_and_reported(node):
    process, client = node
    frozen = scene(client.frame_index, np.random.default_rng(5))[1]
    states, ious, status = _during(client, lambda index, stamp_ns: {THERMAL: Shot(frozen, "mono16")}, 4.0)
    settled = states[3:]
    assert all(s & THERMAL_MISSING for s in settled), states
    assert sum(s & STATE_MASK == State.TRACKING for s in settled) >= 0.9 * len(settled), states
    assert np.mean(ious[3:]) > 0.6, ious
    assert status["thermal frame content"].startswith("frozen for "), status
    assert process.alive()
    wait_for(lambda: client.since(client.states, time.monotonic() - 0.5)[-3:] == [1, 1, 1], 10.0, "both again")

