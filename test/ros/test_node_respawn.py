"""Issue 14, finding 14 (respawn): a SIGKILLed node started again (what launch's respawn=True does)
serves a client that stayed up within seconds, and its predecessor's shared-memory files are gone.

Before the fix the killed node's Fast DDS segments stayed in /dev/shm for good, and the client still
saw the dead node's service (its participant stays in the graph for its 20 s lease): the first
init_target went to the dead server only and was never answered.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time

import pytest

rclpy = pytest.importorskip("rclpy")

from helpers.live_node import NODE_ARGS, LiveClient, NodeProcess, box_at, wait_for  # noqa: E402
from helpers.ros_processes import ros_test_environment  # noqa: E402
from rgbt_tracker_ros.ros_tools.tracker_client import TrackerClient  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

SHM = "/dev/shm"
# From the respawn to the first answer: the node's start (a few seconds here, more under load) and
# the client noticing the new server.
SERVE_WITHIN_S = 20.0


def _shm_files() -> set[str]:
    return {name for name in os.listdir(SHM) if name.startswith("fastdds_")}


def _unowned_locks(names: set[str]) -> set[str]:
    """The lock files ('..._el') among `names` that no live process holds: a dead owner's."""
    unowned = set()
    for name in names:
        if not name.endswith("_el"):
            continue
        try:
            with open(os.path.join(SHM, name), "ab") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # held: its owner is alive
        unowned.add(name)
    return unowned


def test_a_respawned_node_serves_the_client_that_stayed_up(tmp_path):
    with ros_test_environment():
        rclpy.init(args=[])
        cameras = client = first = second = None
        try:
            before = _shm_files()
            first = NodeProcess(tmp_path / "first.log", NODE_ARGS)
            cameras = LiveClient(rclpy.get_default_context())
            client = TrackerClient()
            cameras.wait_ready(first)
            cameras.wait_outputs(3)
            assert client.init_target(box_at(cameras.frame_index), 0, timeout_s=20.0)[0]
            created = _shm_files() - before  # by the node and by this process
            assert not _unowned_locks(created)

            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(timeout=10)
            left = _unowned_locks(created)  # Fast DDS does not remove a killed process's files
            assert left, "the killed node left no shared-memory files: the check would prove nothing"

            respawned = time.monotonic()
            second = NodeProcess(tmp_path / "second.log", NODE_ARGS)
            # The first requests to the new node, sent at once: before the fix they reached the
            # dead server only and were never answered.
            ok, message = client.reset(timeout_s=SERVE_WITHIN_S)
            reset_s = time.monotonic() - respawned
            assert ok, f"reset after the respawn: {message}\n{second.output()[-2000:]}"
            ok, message = client.init_target(box_at(cameras.frame_index), 0, timeout_s=SERVE_WITHIN_S)
            assert message != "" and "no answer" not in message, message
            init_s = time.monotonic() - respawned
            print(f"respawned node answered reset after {reset_s:.2f} s, init_target after {init_s:.2f} s")
            cameras.wait_outputs(3)  # pairing the cameras' frames: init_target succeeds
            assert client.init_target(box_at(cameras.frame_index), 0, timeout_s=5.0)[0]

            # Gone, or (a port of the same number) opened again by the respawned node.
            stale = _unowned_locks(_shm_files() & left)
            assert not stale, f"the killed node's files still in {SHM}: {sorted(stale)}"
            assert "removed the shared-memory files of dead Fast DDS participants" in second.output()
        finally:
            if client is not None:
                client.close()
            if cameras is not None:
                cameras.close()
            codes = [p.stop() for p in (first, second) if p is not None]
            rclpy.try_shutdown()
    assert codes[-1] == 0, second.output()[-3000:]
