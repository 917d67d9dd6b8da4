"""Issue 14, finding 14 (hygiene): what a running node leaves on the machine.

- Its sockets (from /proc/<pid>/fd and /proc/<pid>/net/udp, udp6, tcp, tcp6) are all on loopback,
  however it is started: from a shell with only `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST` (the
  `tracker_node` executable, `ros2 run`), or with the environment the tools give their children.
  Before the fix rmw_fastrtps's LOCALHOST mode added a UDP transport on every interface on top of
  the profile: two sockets on 0.0.0.0 and the machine's address.
- Nothing under $HOME: ONNX Runtime's telemetry wrote ~/.cache/Microsoft/DeveloperTools/.onnxruntime.
"""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")

from helpers.live_node import NODE_ARGS, LiveClient, NodeProcess  # noqa: E402
from helpers.ros_processes import DOMAIN_ID, ros_test_environment  # noqa: E402
from rgbt_tracker_ros.ros_tools.processes import ros_environment  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

LOOPBACK = {"127.0.0.1", "::1"}


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:["):-1]))
    return inodes


def _address(hex_address: str) -> str:
    host = bytes.fromhex(hex_address)
    if len(host) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack("<I", int(hex_address, 16)))
    # IPv6: four 32-bit words, each in host (little-endian) order.
    words = [struct.pack("<I", int(hex_address[i:i + 8], 16)) for i in range(0, 32, 8)]
    return socket.inet_ntop(socket.AF_INET6, b"".join(words))


def inet_sockets(pid: int) -> list[tuple[str, str, int]]:
    """(protocol, local address, port) of every UDP and TCP socket the process holds."""
    inodes = _socket_inodes(pid)
    bound = []
    for table in ("udp", "udp6", "tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local, inode = fields[1], int(fields[9])
            if inode in inodes:
                host, port = local.split(":")
                bound.append((table, _address(host), int(port, 16)))
    return bound


def _shell_environment(home: Path) -> dict[str, str]:
    """What `source scripts/ros_env.sh` gives a shell: no Fast DDS profile named."""
    env = ros_environment(domain_id=DOMAIN_ID)
    env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env.pop("ORT_DISABLE_TELEMETRY", None)
    env.pop("XDG_CACHE_HOME", None)
    env["HOME"] = str(home)
    return env


@pytest.mark.parametrize("start", ["shell", "tools"])
def test_a_running_node_binds_loopback_only_and_writes_nothing_under_home(start, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with ros_test_environment():
        env = _shell_environment(home)
        if start == "tools":
            env = {**ros_environment(env), "HOME": str(home)}
        context = rclpy.Context()
        rclpy.init(args=[], context=context)
        process = NodeProcess(tmp_path / "node.log", NODE_ARGS, env=env)
        client = LiveClient(context)
        try:
            client.wait_ready(process)
            client.wait_outputs(5)  # discovered, paired and tracking: every transport in use
            sockets = inet_sockets(process.proc.pid)
        finally:
            client.close()
            code = process.stop()
            rclpy.try_shutdown(context=context)
    assert code == 0, process.output()[-3000:]
    assert any(s[0] == "udp" for s in sockets), "no UDP socket found: the check would prove nothing"
    beyond = sorted(s for s in sockets if s[1] not in LOOPBACK)
    assert not beyond, f"sockets beyond loopback: {beyond} (all: {sorted(sockets)})"
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert not written, f"the node wrote under $HOME: {written}"
