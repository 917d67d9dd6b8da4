"""Issue 14, finding 7, over DDS: after a gap of both cameras (silent 3 s, black 3 s, the camera
publishers destroyed and created again 3 s later) the target, still where it was, is tracked again
within a few frames.

The attack saw LOST on every frame after such gaps; on the code this test was written against the
three gaps already recover (measured: TRACKING from the first or second frame after the gap, IoU as
before it). It also passes against 34a219b, the version the issue was filed on, and against c964644,
before the frame check (this file and its helpers copied in): the failure was not reproduced with
this scene, and the test guards the behaviour.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from helpers.faulty_cameras import Shot, faulty_node  # noqa: E402
from helpers.live_node import RATE, H, W, wait_for  # noqa: E402
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE  # noqa: E402
from rgbt_tracker_ros.ros.state import State  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

GAP_S = 3.0
BLACK = {VISIBLE: Shot(np.zeros((H, W, 3), np.uint8), "rgb8"), THERMAL: Shot(np.zeros((H, W), np.uint16), "mono16")}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with faulty_node(tmp_path_factory.mktemp("gaps") / "node.log") as running:
        yield running


def _silent(client):
    client.publishing = False
    time.sleep(GAP_S)
    client.publishing = True


def _black(client):
    client.plan = lambda index, stamp_ns: BLACK
    time.sleep(GAP_S)
    client.plan = lambda index, stamp_ns: {}


def _restarted(client):
    client.restart_cameras(GAP_S)


@pytest.mark.parametrize("gap", [_silent, _black, _restarted], ids=["silent", "black", "publishers_restarted"])
def test_the_target_is_tracked_again_after_a_gap_of_both_cameras(node, gap):
    process, client = node
    client.track_target()
    t0 = time.monotonic()
    time.sleep(1.0)
    before = np.mean(client.ious(t0))
    gap(client)
    t1 = time.monotonic()
    wait_for(lambda: len(client.since(client.states, t1)) >= 2 * RATE, 15.0, "two seconds of frames after the gap")
    states = client.since(client.states, t1)
    back = next(i for i, s in enumerate(states) if s == State.TRACKING)  # both cameras, confident
    assert back <= 5, states
    assert all(s == State.TRACKING for s in states[back:]), states
    ious = client.ious(t1)
    assert np.mean(ious[-20:]) > before - 0.1 and min(ious[-20:]) > 0.6, (before, ious)
    assert process.alive()
