"""`init_box_topic.reliability`, over DDS: the default reliable ~/init_box subscription never matches
a detector that publishes best effort (DDS QoS rules), so its hand-offs would be lost without a
word; with `best_effort` the node hears such a detector, and still a reliable one."""

from __future__ import annotations

import time

import pytest

rclpy = pytest.importorskip("rclpy")

from geometry_msgs.msg import Point32, PolygonStamped  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402

from helpers.live_node import NODE_ARGS, RELIABLE, box_at, running_node, start_that_fails, wait_for  # noqa: E402
from helpers.ros_processes import ros_test_environment  # noqa: E402
from rgbt_tracker_ros.ros.state import STATE_MASK, State  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

BEST_EFFORT = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)


def _box_message(box) -> PolygonStamped:
    x, y, w, h = box
    msg = PolygonStamped()  # stamp zero: the newest frame
    msg.polygon.points = [Point32(x=float(px), y=float(py)) for px, py in ((x, y), (x + w, y + h))]
    return msg


def _publishers(client):
    topic = f"{client.prefix}/init_box"
    return {"best_effort": client.node.create_publisher(PolygonStamped, topic, BEST_EFFORT),
            "reliable": client.node.create_publisher(PolygonStamped, topic, RELIABLE)}


def _hand_over(client, publisher) -> list[int]:
    """Reset, publish the target's box a few times (discovery), and the states of the next second."""
    assert client.reset().success
    t0 = time.monotonic()
    for _ in range(5):
        publisher.publish(_box_message(box_at(client.frame_index)))
        time.sleep(0.1)
    time.sleep(1.0)
    return client.since(client.states, t0)


def test_the_default_reliable_subscription_does_not_hear_a_best_effort_detector(tmp_path):
    with running_node(tmp_path / "node.log") as (process, client):
        client.wait_outputs(3)
        publishers = _publishers(client)
        wait_for(lambda: publishers["reliable"].get_subscription_count() > 0, 20.0, "the node's ~/init_box")
        time.sleep(0.5)
        assert publishers["best_effort"].get_subscription_count() == 0
        states = _hand_over(client, publishers["best_effort"])
        assert all(s & STATE_MASK == State.IDLE for s in states), states


def test_best_effort_hears_both_kinds_of_detector(tmp_path):
    args = [*NODE_ARGS, "-p", "init_box_topic.reliability:=best_effort"]
    with running_node(tmp_path / "node.log", args) as (process, client):
        client.wait_outputs(3)
        publishers = _publishers(client)
        for kind, publisher in publishers.items():
            wait_for(lambda p=publisher: p.get_subscription_count() > 0, 20.0, f"a match with the {kind} publisher")
            states = _hand_over(client, publisher)
            assert any(s & STATE_MASK == State.TRACKING for s in states), (kind, states)


def test_an_unknown_reliability_is_refused_at_start(tmp_path):
    with ros_test_environment():
        code, output = start_that_fails(tmp_path / "node.log",
                                        [*NODE_ARGS, "-p", "init_box_topic.reliability:=sometimes"])
    assert code == 1 and "init_box_topic.reliability must be one of best_effort, reliable, got 'sometimes'" in output
