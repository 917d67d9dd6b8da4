"""Issue 14, finding 14 (hygiene): what a running node leaves on the machine.

- Its sockets (from /proc/<pid>/fd and /proc/<pid>/net/udp, udp6, tcp, tcp6): every DDS port it
  receives on is on loopback, and it joins no multicast group, however it is started: from a shell
  with only `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST` (the `tracker_node` executable, `ros2 run`),
  or with the environment the tools give their children, which keeps LOCALHOST. rmw_fastrtps's
  LOCALHOST mode adds a UDP transport of its own on top of the profile; its send sockets, on
  kernel-chosen ephemeral ports of 0.0.0.0 and the machine's address, are the only ones beyond
  loopback.
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
RTPS_MULTICAST_GROUP = "0100FFEF"  # 239.255.0.1 as /proc/net/igmp writes it


def _ephemeral_ports() -> range:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return range(int(low), int(high) + 1)


def _joined_groups() -> set[str]:
    """The multicast groups joined on this machine's interfaces (/proc/net/igmp)."""
    groups = set()
    for line in Path("/proc/net/igmp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields and len(fields[0]) == 8 and not fields[0].endswith(":"):
            groups.add(fields[0])
    return groups


def _discovery_range(pid: int) -> str | None:
    for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if entry.startswith(b"ROS_AUTOMATIC_DISCOVERY_RANGE="):
            return entry.split(b"=", 1)[1].decode()
    return None


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
def test_a_running_node_receives_on_loopback_only_and_writes_nothing_under_home(start, tmp_path):
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
            groups = _joined_groups()
            started_with = _discovery_range(process.proc.pid)
        finally:
            client.close()
            code = process.stop()
            rclpy.try_shutdown(context=context)
    assert code == 0, process.output()[-3000:]
    assert any(s[0] == "udp" for s in sockets), "no UDP socket found: the check would prove nothing"
    assert started_with == "LOCALHOST", started_with
    beyond = sorted(s for s in sockets if s[1] not in LOOPBACK)
    receiving = [s for s in beyond if s[2] not in _ephemeral_ports()]
    assert not receiving, f"DDS ports beyond loopback: {receiving} (all: {sorted(sockets)})"
    assert len(beyond) <= 2, f"more send sockets beyond loopback than rmw's transport opens: {beyond}"
    assert RTPS_MULTICAST_GROUP not in groups, f"the RTPS multicast group was joined: {groups}"
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert not written, f"the node wrote under $HOME: {written}"
