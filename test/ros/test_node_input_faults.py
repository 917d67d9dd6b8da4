"""Issue 14, section 6, over DDS: the node (its own process, the shipped model) keeps tracking
through what the attack sent it. Finding 1: one odd-sized frame mid-track is dropped and counted
under its camera, the track goes on; a camera that really changes resolution is followed.

Before: the first odd frame left the node IDLE with an empty polygon on every good frame after it.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from helpers.faulty_cameras import Shot, faulty_node  # noqa: E402
from helpers.live_node import H, W, box_at, wait_for  # noqa: E402
from rgbt_tracker_ros.ros.camera_resolution import CONFIRM_FRAMES  # noqa: E402
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with faulty_node(tmp_path_factory.mktemp("faults") / "node.log") as running:
        yield running


def test_odd_frames_mid_track_are_dropped_under_their_camera_and_the_track_goes_on(node):
    process, client = node
    client.track_target()
    before = client.status_values()
    odd = {}

    def plan(index, stamp_ns):
        if index == odd["thermal"]:
            return {THERMAL: Shot(np.full((12, 16), 3000, np.uint16), "mono16")}
        if index == odd["visible"]:
            return {VISIBLE: Shot(np.full((8, 8, 3), 90, np.uint8), "rgb8")}
        return {}

    odd["thermal"], odd["visible"] = client.frame_index + 10, client.frame_index + 20
    t0 = time.monotonic()
    client.plan = plan
    wait_for(lambda: client.frame_index > odd["visible"] + 20, 10.0, "frames after the odd ones")
    time.sleep(0.5)
    states = client.since(client.states, t0)
    assert len(states) >= 35, states
    tracking = [s for s in states if s & 0x0F == 1]
    assert len(tracking) >= len(states) - 2, states  # every frame tracked (the odd ones on one camera)
    assert states[-10:] == [1] * 10, states
    ious = client.ious(t0)
    assert np.mean(ious) > 0.7 and min(ious[-10:]) > 0.5, ious
    wait_for(lambda: int(client.status_values().get("rejected visible frames", 0))
             > int(before["rejected visible frames"]), 5.0, "the rejected visible frame in /diagnostics")
    after = client.status_values()
    assert int(after["rejected thermal frames"]) == int(before["rejected thermal frames"]) + 1
    assert int(after["rejected visible frames"]) == int(before["rejected visible frames"]) + 1
    assert after["thermal resolution"] == f"{W}x{H}" and after["visible resolution"] == f"{W}x{H}"
    assert process.alive()
    client.plan = lambda index, stamp_ns: {}


def test_a_thermal_camera_that_changes_resolution_is_followed(node):
    process, client = node
    client.track_target()
    rng = np.random.default_rng(2)

    def half_resolution(index, stamp_ns):
        x, y, w, h = (int(round(v / 2)) for v in box_at(index))
        thermal = (2900 + rng.normal(0, 20, (H // 2, W // 2))).astype(np.uint16)
        thermal[y:y + h, x:x + w] = 5200
        return {THERMAL: Shot(thermal, "mono16")}

    t0 = time.monotonic()
    client.plan = half_resolution
    try:
        wait_for(lambda: client.status_values().get("thermal resolution") == f"{W // 2}x{H // 2}", 10.0,
                 "the new thermal resolution in /diagnostics")
        t1 = time.monotonic()
        wait_for(lambda: len(client.since(client.states, t1)) >= 20, 10.0, "frames at the new resolution")
        states = client.since(client.states, t0)
        assert all(s & 0x0F == 1 for s in states), states  # tracked throughout, on visible while it was odd
        assert sum(s == 0x21 for s in states) >= CONFIRM_FRAMES - 1
        assert client.since(client.states, t1)[-10:] == [1] * 10  # both cameras again
        assert min(client.ious(t1)[-10:]) > 0.5
        assert "thermal camera changed resolution" in client.latest_message() or \
            "thermal camera changed resolution" in client.status_values().get("last resolution change", "")
    finally:
        client.plan = lambda index, stamp_ns: {}
    assert process.alive()
