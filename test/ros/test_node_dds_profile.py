"""A Fast DDS profile that is not a file (a typo in `dds_profile:=` or FASTDDS_DEFAULT_PROFILES_FILE):
Fast DDS only prints a parser error and runs on its defaults, so the node says what is wrong in its
own log and keeps running."""

from __future__ import annotations

import pytest

rclpy = pytest.importorskip("rclpy")

from helpers.live_node import NODE_ARGS, NodeProcess, wait_for  # noqa: E402
from helpers.ros_processes import ros_test_environment  # noqa: E402
from rgbt_tracker_ros.ros.dds_profile import PROFILE_VARIABLE  # noqa: E402
from rgbt_tracker_ros.ros_tools.processes import ros_environment  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_a_missing_profile_is_warned_about_and_the_node_runs(tmp_path):
    missing = tmp_path / "no_such_profile.xml"
    with ros_test_environment():
        env = {**ros_environment(), PROFILE_VARIABLE: str(missing)}
        process = NodeProcess(tmp_path / "node.log", NODE_ARGS, env=env)
        try:
            wait_for(lambda: "tracking with model" in process.output(), 60.0, "the node active")
            assert f"{PROFILE_VARIABLE} names {missing}, which is not a file" in process.output()
            assert process.alive()
        finally:
            code = process.stop()
    assert code == 0, process.output()[-2000:]
