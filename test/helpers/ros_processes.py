"""What the tests that start ROS processes (the node, the player, the commands) share: a domain of
this test run's own, localhost discovery and the shipped Fast DDS profile, for this process's rclpy
and every child, and the `rgbt-tracker` subcommands run as child processes in that environment."""

from __future__ import annotations

import contextlib
import os
import subprocess
from typing import Iterator

import pytest

from rgbt_tracker_ros.ros_tools.processes import cli_command, ros_environment

DOMAIN_ID = 1 + os.getpid() % 100


@contextlib.contextmanager
def ros_test_environment(domain_id: int = DOMAIN_ID) -> Iterator[None]:
    """os.environ set up for rclpy here and in children (ros_environment() of it), restored after."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ros_environment(domain_id=domain_id).items():
            if os.environ.get(name) != value:
                patch.setenv(name, value)
        patch.delenv("RMW_IMPLEMENTATION", raising=False)
        yield


def run_command(*args: str, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`rgbt-tracker ARGS...` as a child of this interpreter; its output captured as text (`env`:
    variables set on top of the test environment)."""
    return subprocess.run(cli_command(*args), env={**ros_environment(), **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)
