"""This process's side of a running tracker node: its services, and its published results, recorded.

TrackerClient subscribes to `~/score`, `~/state` and `~/target` (each target recorded with the
score and state published just before it, and the time it arrived here) and calls `~/init_target`
and `~/reset`. connected_client() brings rclpy up around a client of a node started as a child
process; status_line() is the live one-line summary of what has arrived. Used by `demo` and
`node-bench`.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import rclpy
from geometry_msgs.msg import PolygonStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.srv import SetCameraInfo
from std_msgs.msg import Float32, UInt8
from std_srvs.srv import Trigger

from rgbt_tracker_ros.ros.names import (
    INIT_TARGET_SERVICE, NODE_NAME, RESET_SERVICE, SCORE_TOPIC, STATE_TOPIC, TARGET_TOPIC,
)
from rgbt_tracker_ros.ros.qos import SERVICE_QOS
from rgbt_tracker_ros.ros.state import describe
from rgbt_tracker_ros.ros_tools.processes import NodeFailed
from rgbt_tracker_ros.ros_tools.spinning import BackgroundSpinner


# A request not answered within RESEND_EVERY_S is sent again while a newly started server settles.
RESEND_EVERY_S = 0.5
RESEND_WINDOW_S = 5.0


@dataclass(frozen=True)
class TargetRecord:
    """One `~/target` message as received here."""

    stamp_ns: int                 # header stamp: the visible frame it was computed on
    received_ns: int              # system clock, the clock the stamps are on
    box: np.ndarray | None        # x, y, w, h (bounding box of the polygon); None for an empty polygon
    score: float                  # the score published for that frame (NaN when unknown)
    state: str                    # the state published for that frame ('' when unknown)

    @property
    def latency_ms(self) -> float:
        return (self.received_ns - self.stamp_ns) / 1e6


def polygon_box(points) -> np.ndarray | None:
    if len(points) == 0:
        return None
    xs = np.array([p.x for p in points], dtype=np.float64)
    ys = np.array([p.y for p in points], dtype=np.float64)
    return np.array([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])


def percentile_ms(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


@dataclass(frozen=True)
class NodeTopics:
    """Absolute names of the tracker node's interface, for a node named node_name in the root namespace."""

    node_name: str = NODE_NAME

    @property
    def base(self) -> str:
        return "/" + self.node_name.strip("/")

    @property
    def target(self) -> str:
        return f"{self.base}/{TARGET_TOPIC}"

    @property
    def score(self) -> str:
        return f"{self.base}/{SCORE_TOPIC}"

    @property
    def state(self) -> str:
        return f"{self.base}/{STATE_TOPIC}"

    @property
    def init_target(self) -> str:
        return f"{self.base}/{INIT_TARGET_SERVICE}"

    @property
    def reset(self) -> str:
        return f"{self.base}/{RESET_SERVICE}"


class TrackerClient:
    """This process's view of a running tracker node: its outputs, recorded, and its services.

    Spins its own rclpy node in a background thread; rclpy must be initialised first.
    """

    def __init__(self, node_name: str = NODE_NAME, client_name: str = "rgbt_tracker_client"):
        self.topics = NodeTopics(node_name)
        self.node = rclpy.create_node(f"{client_name}_{os.getpid()}")
        self._lock = threading.Lock()
        self.records: list[TargetRecord] = []
        self._score = math.nan
        self._state = ""
        # The node publishes its outputs reliably: a reliable reader here loses none of them.
        self._qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        # The node publishes score and state just before ~/target, and the executor serves ready
        # subscriptions in creation order: so each target is recorded with its own score and state.
        self._subscribe_score_state()
        self.node.create_subscription(PolygonStamped, self.topics.target, self._on_target, self._qos)
        self.init_client = self.node.create_client(SetCameraInfo, self.topics.init_target, qos_profile=SERVICE_QOS)
        self.reset_client = self.node.create_client(Trigger, self.topics.reset, qos_profile=SERVICE_QOS)
        executor = SingleThreadedExecutor()
        executor.add_node(self.node)
        self._spinner = BackgroundSpinner(executor, name="tracker-client")

    def _subscribe_score_state(self) -> None:
        self.node.create_subscription(Float32, self.topics.score, self._on_score, self._qos)
        self.node.create_subscription(UInt8, self.topics.state, self._on_state, self._qos)

    def _on_score(self, msg) -> None:
        self._score = float(msg.data)

    def _on_state(self, msg) -> None:
        try:
            self._state = describe(int(msg.data))
        except ValueError:
            self._state = f"state {int(msg.data)}"

    def _on_target(self, msg) -> None:
        received = time.time_ns()
        stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
        record = TargetRecord(stamp, received, polygon_box(msg.polygon.points), self._score, self._state)
        with self._lock:
            self.records.append(record)

    def snapshot(self) -> list[TargetRecord]:
        with self._lock:
            return list(self.records)

    def wait_until_ready(self, process: subprocess.Popen | None, timeout_s: float) -> None:
        """Block until the node's init service is there; NodeFailed if the node exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        while not self.init_client.wait_for_service(timeout_sec=0.25):
            if process is not None and process.poll() is not None:
                raise NodeFailed(f"the tracker node exited with code {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise NodeFailed(f"the tracker node offered no {self.topics.init_target} service within {timeout_s:g} s")

    def init_target(self, box, stamp_ns: int, timeout_s: float = 10.0) -> tuple[bool, str]:
        """Call `~/init_target` with box (x, y, w, h, visible pixels) drawn on the frame stamped stamp_ns."""
        request = SetCameraInfo.Request()
        sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
        request.camera_info.header.stamp.sec, request.camera_info.header.stamp.nanosec = sec, nanosec
        x, y, w, h = (float(v) for v in box)
        roi = request.camera_info.roi
        roi.x_offset, roi.y_offset = max(0, round(x)), max(0, round(y))
        roi.width, roi.height = max(1, round(w)), max(1, round(h))
        return self._call(self.init_client, request, timeout_s)

    def reset(self, timeout_s: float = 5.0) -> tuple[bool, str]:
        return self._call(self.reset_client, Trigger.Request(), timeout_s)

    def _servers(self) -> frozenset[bytes]:
        """The endpoints publishing the node's ~/state: a new one means a node (re)started."""
        publishers = self.node.get_publishers_info_by_topic(self.topics.state)
        return frozenset(bytes(info.endpoint_gid) for info in publishers)

    def _call(self, client, request, timeout_s: float) -> tuple[bool, str]:
        """Send `request`; its answer, or (False, 'no answer ...') after timeout_s.

        A node killed and respawned (launch respawn=True) stays in the graph for its lease (Fast DDS:
        20 s), so the service looks ready and a request sent then may reach only the dead server.
        When a server appears that was not there when the request went out, the request is sent
        again (every RESEND_EVERY_S for RESEND_WINDOW_S, until its endpoints have matched ours);
        the first answer is taken. Both requests are safe to repeat (init_target: the same box and
        stamp again, the earlier one answered 'superseded'; reset).
        """
        done = threading.Event()
        deadline = time.monotonic() + timeout_s
        futures = []

        def send() -> None:
            future = client.call_async(request)
            future.add_done_callback(lambda _: done.set())
            futures.append(future)

        known = self._servers()
        resend_until = 0.0
        send()
        while True:
            now = time.monotonic()
            if done.wait(max(0.0, min(RESEND_EVERY_S, deadline - now))):
                break
            now = time.monotonic()
            if now >= deadline:
                for future in futures:
                    client.remove_pending_request(future)
                return False, f"no answer from {client.srv_name} within {timeout_s:g} s"
            current = self._servers()
            if current - known:
                resend_until = now + RESEND_WINDOW_S
            known = current
            if now < resend_until:
                send()
        answered = next(f for f in futures if f.done())
        for future in futures:
            if future is not answered and not future.done():
                client.remove_pending_request(future)
        response = answered.result()
        return bool(response.success), str(response.status_message if hasattr(response, "status_message")
                                            else response.message)

    def close(self) -> None:
        if self._spinner.stop():
            self.node.destroy_node()


@contextlib.contextmanager
def connected_client(node: subprocess.Popen, node_name: str, startup_timeout_s: float,
                     client_name: str = "rgbt_tracker_client") -> Iterator[TrackerClient]:
    """rclpy started in this process and a TrackerClient of the node (a child process), once the node
    is ready (NodeFailed if it exits or time runs out first); on the way out the client is closed and
    rclpy shut down. Call apply_ros_environment() before starting the node."""
    rclpy.init(args=[], signal_handler_options=SignalHandlerOptions.NO)
    client = None
    try:
        client = TrackerClient(node_name, client_name)
        client.wait_until_ready(node, startup_timeout_s)
        yield client
    finally:
        if client is not None:
            client.close()
        rclpy.try_shutdown()


def status_line(records: list[TargetRecord], published: int, total: int) -> str:
    """'frame 123/300 | 29.8 Hz | latency 12 ms (p95 20) | score 0.81 | tracking'."""
    now = time.time_ns()
    recent = [r for r in records if now - r.received_ns <= 1_000_000_000]
    latencies = [r.latency_ms for r in recent]
    last = records[-1] if records else None
    score = f"{last.score:.2f}" if last is not None and math.isfinite(last.score) else "-"
    state = (last.state or "-") if last is not None else "waiting"
    latency = (f"{percentile_ms(latencies, 50):.0f} ms (p95 {percentile_ms(latencies, 95):.0f})"
               if latencies else "-")
    return (f"frame {published}/{total} | {len(recent):d} Hz | latency {latency} | score {score} | {state}")
