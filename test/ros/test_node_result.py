"""Issue 14, section 5: one stamped result per processed frame. For every frame the node processed,
`~/result` (diagnostic_msgs/DiagnosticArray) carries the stamp and frame_id of that frame's
`~/target` polygon, the same box, and the score and state published on the unstamped `~/score`
and `~/state` for it (which stay, unchanged)."""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402

from helpers.live_node import box_at, running_node, stamp_ns_of, wait_for  # noqa: E402
from rgbt_tracker_ros.ros.result_message import read_result  # noqa: E402
from rgbt_tracker_ros.ros.state import STATE_MASK, State  # noqa: E402
from rgbt_tracker_ros.ros_tools.tracker_client import polygon_box  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

COMPARED = 40  # the last frames of the run, delivered on every topic


def _quiet(client, store, for_s: float = 1.0) -> bool:
    with client.lock:
        last = store[-1][0] if store else 0.0
    return time.monotonic() - last > for_s


def test_the_stamped_result_matches_the_polygon_score_and_state_of_each_frame(tmp_path):
    with running_node(tmp_path / "node.log") as (_, client):
        results: deque = deque(maxlen=2000)
        client.subscribe(DiagnosticArray, f"{client.prefix}/result", results)
        client.wait_outputs(3)
        assert client.init(box_at(client.frame_index)).success
        t0 = time.monotonic()
        wait_for(lambda: len(client.since(results, t0)) >= COMPARED + 20, 30.0, "results while tracking")
        client.publishing = False
        wait_for(lambda: _quiet(client, client.targets), 10.0, "the last outputs")
        with client.lock:
            targets = [m for _, m in client.targets][-COMPARED:]
            scores = [s for _, s in client.scores][-COMPARED:]
            states = [s for _, s in client.states][-COMPARED:]
            stamped = [read_result(m) for _, m in results][-COMPARED:]
    assert len(targets) == len(scores) == len(states) == len(stamped) == COMPARED
    for target, score, state, result in zip(targets, scores, states, stamped):
        assert result.stamp_ns == stamp_ns_of(target)
        assert result.frame_id == target.header.frame_id == "cam_visible"
        assert result.score == score  # the float32 of ~/score, exactly
        assert result.code == state
        box = polygon_box(target.polygon.points)
        if box is None:
            assert result.box is None
        else:
            np.testing.assert_allclose(result.box, box, atol=1e-3)
    tracking = [r for r in stamped if r.state == State.TRACKING]
    assert len(tracking) > COMPARED // 2, [r.code & STATE_MASK for r in stamped]
    assert all(r.box is not None for r in tracking)
