"""BackgroundSpinner (ros_tools/spinning.py): serves callbacks on its own thread and stops before
anyone destroys a node (the client and the test harnesses rely on it)."""

from __future__ import annotations

import os
import time

import pytest

rclpy = pytest.importorskip("rclpy")

from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from std_msgs.msg import UInt8  # noqa: E402

from helpers.ros_processes import ros_test_environment  # noqa: E402
from rgbt_tracker_ros.ros_tools.spinning import BackgroundSpinner  # noqa: E402

pytestmark = pytest.mark.ros


@pytest.fixture(scope="module", autouse=True)
def ros_env():
    with ros_test_environment():
        yield


def test_background_spinner_serves_callbacks_and_stops_before_the_node_is_destroyed():
    context = rclpy.Context()
    rclpy.init(args=[], context=context)
    try:
        node = rclpy.create_node(f"spinner_test_{os.getpid()}", context=context)
        received = []
        node.create_subscription(UInt8, "spinner_test", lambda m: received.append(m.data), 10)
        publisher = node.create_publisher(UInt8, "spinner_test", 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        spinner = BackgroundSpinner(executor, name="spinner-test")
        deadline = time.monotonic() + 10.0
        while not received and time.monotonic() < deadline:
            publisher.publish(UInt8(data=7))
            time.sleep(0.05)
        assert received and received[0] == 7, "no callback was served"
        started = time.monotonic()
        assert spinner.stop(timeout_s=5.0)
        assert time.monotonic() - started < 1.0, "stop() waited longer than a spin slice or two"
        count = len(received)
        publisher.publish(UInt8(data=8))
        time.sleep(0.3)
        assert len(received) == count, "callbacks were served after stop()"
        node.destroy_node()
    finally:
        context.try_shutdown()
