"""Issue 14, section 3: `~/init_box` (geometry_msgs/PolygonStamped), a target handed over with one
publish. A box published with the stamp of a frame 1.5 s back is run like `~/init_target` on that
buffered frame: the node initialises on that pair, catches up, and tracks the target where it is
now. A box it cannot use (NaN, degenerate, outside the image, too few corners, a stamp no longer
buffered) is refused, logged and counted in /diagnostics, the track going on. With
`init_box_topic.only_when_lost` the boxes are ignored while the target is followed."""

from __future__ import annotations

import math
import re
import time
from collections import deque

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import Point32, PolygonStamped  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.parameter_client import AsyncParameterClient  # noqa: E402

from helpers.live_node import RELIABLE, box_at, running_node, wait_for  # noqa: E402
from rgbt_tracker_ros.common.boxes import iou  # noqa: E402
from rgbt_tracker_ros.ros.image_conversion import ns_to_stamp  # noqa: E402
from rgbt_tracker_ros.ros.result_message import read_result  # noqa: E402
from rgbt_tracker_ros.ros.state import STATE_MASK, State  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

PAST_S = 1.5  # within the node's buffer_seconds (2 s)


class Harness:
    def __init__(self, process, client, params):
        self.process, self.client, self.params = process, client, params
        self.results: deque = deque(maxlen=2000)
        self.diagnostics: deque = deque(maxlen=200)
        client.subscribe(DiagnosticArray, f"{client.prefix}/result", self.results)
        client.subscribe(DiagnosticArray, "/diagnostics", self.diagnostics)
        self.publisher = client.node.create_publisher(PolygonStamped, f"{client.prefix}/init_box", RELIABLE)

    def publish(self, corners, stamp_ns: int = 0) -> None:
        msg = PolygonStamped()
        msg.header.stamp = ns_to_stamp(stamp_ns)
        msg.header.frame_id = "cam_visible"
        msg.polygon.points = [Point32(x=float(x), y=float(y)) for x, y in corners]
        self.publisher.publish(msg)

    def report(self, after: float) -> dict[str, str]:
        """The node's latest /diagnostics values, from a message that arrived after `after`."""
        def latest():
            arrays = self.client.since(self.diagnostics, after)
            statuses = [s for a in arrays for s in a.status if s.name.endswith(": tracker")]
            return statuses[-1] if statuses else None
        status = wait_for(latest, 10.0, "a /diagnostics message")
        return {"level": status.level, "message": status.message, **{kv.key: kv.value for kv in status.values}}

    def counts_after(self, key: str, value: int, timeout: float = 15.0) -> dict[str, str]:
        t0 = time.monotonic()

        def reached():
            report = self.report(time.monotonic() - 0.01) if time.monotonic() > t0 else None
            return report if report is not None and int(report[key]) >= value else None
        return wait_for(reached, timeout, f"/diagnostics '{key}' at {value}", poll=0.2)

    def results_since(self, t0: float):
        return [read_result(m) for m in self.client.since(self.results, t0)]

    def set_only_when_lost(self, value: bool) -> None:
        future = self.params.set_parameters([Parameter("init_box_topic.only_when_lost", value=value)])
        wait_for(future.done, 20.0, "set_parameters")
        assert future.result().results[0].successful


def corners(box):
    x, y, w, h = box
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def truth_iou(client, result) -> float:
    index = client.frame_at.get(result.stamp_ns)
    assert index is not None, "a result for a frame this client did not send"
    return float(iou(np.array(result.box), np.array(box_at(index))))


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("init_box_topic") / "node.log") as (process, client):
        params = AsyncParameterClient(client.node, client.prefix)
        harness = Harness(process, client, params)
        assert params.wait_for_services(timeout_sec=20.0)
        wait_for(lambda: harness.publisher.get_subscription_count() > 0, 20.0, "the node's ~/init_box")
        client.wait_outputs(3)
        yield harness


def test_a_box_with_a_past_stamp_initialises_on_that_frame_and_tracks_the_target(node):
    client = node.client
    assert client.reset().success
    # The node has buffered more than PAST_S of pairs.
    wait_for(lambda: len(client.states) > (PAST_S + 0.5) * client.rate, 20.0, "the node's outputs for 2 s")
    stamp = client.sent[-1 - int(PAST_S * client.rate)]
    index = client.frame_at[stamp]
    t0 = time.monotonic()
    node.publish(corners(box_at(index)), stamp)
    stamped = f"initialised on the pair stamped {stamp / 1e9:.3f}"
    wait_for(lambda: stamped in node.process.output(), 15.0, f"'{stamped}' in the node's log")
    line = [ln for ln in node.process.output().splitlines() if stamped in ln][-1]
    assert re.search(r"\(1\.[45]\d\d s before the newest\)", line), line
    wait_for(lambda: len([r for r in node.results_since(t0) if r.state == State.TRACKING]) >= 20, 15.0,
             "20 tracked frames")
    tracked = [r for r in node.results_since(t0) if r.state == State.TRACKING]
    overlaps = [truth_iou(client, r) for r in tracked[:20]]
    assert min(overlaps) > 0.6, overlaps  # the target where it is now, each frame
    assert int(node.counts_after("init_box used", 1)["init_box used"]) >= 1


@pytest.mark.parametrize("name, points, stamp_s, reason", [
    ("nan", [(math.nan, 10.0), (40.0, 50.0)], 0, "NaN or infinity"),
    ("degenerate", [(50.0, 50.0)] * 4, 0, "too small"),
    ("outside", corners((5000.0, 5000.0, 40.0, 60.0)), 0, "lies outside"),
    ("one corner", [(50.0, 50.0)], 0, "at least 2 corners"),
    ("stamp not buffered", corners((60.0, 50.0, 24.0, 24.0)), 1.0, "stamp"),
])
def test_a_box_the_tracker_cannot_use_is_refused_and_reported(node, name, points, stamp_s, reason):
    client = node.client
    before = node.report(time.monotonic())
    refused = int(before["init_box refused"])
    t0 = time.monotonic()
    node.publish(points, int(stamp_s * 1e9))
    report = node.counts_after("init_box refused", refused + 1)
    assert reason in report["last init_box refusal"], report["last init_box refusal"]
    assert report["level"] >= b"\x01" and "~/init_box refused" in report["message"], report["message"]
    wait_for(lambda: "~/init_box" in node.process.output() and reason in node.process.output(), 10.0,
             "the refusal in the log")
    states = client.since(client.states, t0)
    assert states and node.process.alive()
    assert len({s & STATE_MASK for s in states[-3:]}) == 1  # nothing restarted


def test_only_when_lost_ignores_boxes_while_tracking_and_takes_one_when_idle(node):
    client = node.client
    assert client.init(box_at(client.frame_index)).success
    node.set_only_when_lost(True)
    try:
        ignored = int(node.report(time.monotonic())["init_box ignored while tracking"])
        used = int(node.report(time.monotonic())["init_box used"])
        wait_for(lambda: (client.since(client.states, time.monotonic() - 0.3) or [0])[-1] & STATE_MASK
                 == State.TRACKING, 10.0, "tracking")
        t0 = time.monotonic()
        node.publish(corners((5.0, 5.0, 24.0, 24.0)))  # a detector's box elsewhere
        node.counts_after("init_box ignored while tracking", ignored + 1)
        time.sleep(0.5)
        tracked = [r for r in node.results_since(t0) if r.state == State.TRACKING]
        assert tracked and min(truth_iou(client, r) for r in tracked[-5:]) > 0.6  # still on the target

        assert client.reset().success  # idle: no target followed, the next box is taken
        node.publish(corners(box_at(client.frame_index)))
        report = node.counts_after("init_box used", used + 1)
        assert int(report["init_box ignored while tracking"]) == ignored + 1
    finally:
        node.set_only_when_lost(False)
