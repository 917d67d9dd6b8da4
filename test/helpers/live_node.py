"""A tracker node in a child process and this process's side of it, for tests over DDS: the node
started with the test environment (localhost discovery, the shipped Fast DDS profile), two cameras
publishing a moving warm square from here, and a client that records the node's outputs and calls
its services with deep request queues.

Lighter than test/ros/test_tracker_node.py's harness: what the tests of issue 14's node findings
(service bursts, signals, model probing, respawn, the stamped result) need, nothing else.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Iterator

import numpy as np
import rclpy
from geometry_msgs.msg import PolygonStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from sensor_msgs.srv import SetCameraInfo
from std_msgs.msg import Float32, Header, UInt8
from std_srvs.srv import Trigger

from helpers.paths import REPO
from helpers.ros_processes import ros_test_environment
from rgbt_tracker_ros.ros.image_conversion import image_to_msg, ns_to_stamp, stamp_to_ns
from rgbt_tracker_ros.ros.names import NODE_MODULE, NODE_NAME
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE
from rgbt_tracker_ros.ros.qos import SERVICE_QOS
from rgbt_tracker_ros.ros_tools.processes import ros_environment
from rgbt_tracker_ros.ros_tools.spinning import BackgroundSpinner

W, H = 160, 128
RATE = 20.0
NODE_ARGS = ["--params-file", str(REPO / "config" / "tracker.yaml"), "-p", "providers:=[cpu]", "-p", "threads:=1",
             "-p", "camera_timeout:=0.8"]
RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


def wait_for(predicate, timeout: float, what: str, poll: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def box_at(i: int) -> tuple[float, float, float, float]:
    return 60.0 + 15.0 * math.sin(i / 25.0), 50.0 + 8.0 * math.cos(i / 31.0), 24.0, 24.0


def scene(i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A warm bright square on a noisy background (fresh noise per frame: not a frozen camera)."""
    x, y, w, h = (int(round(v)) for v in box_at(i))
    visible = rng.integers(40, 90, (H, W, 3), dtype=np.uint8)
    visible[y:y + h, x:x + w] = (230, 200, 60)
    thermal = (2900 + rng.normal(0, 20, (H, W))).astype(np.uint16)
    thermal[y:y + h, x:x + w] = 5200
    return visible, thermal


class NodeProcess:
    """`python -m NODE_MODULE --ros-args ...` with the test's ROS environment; output to a file."""

    def __init__(self, log: Path, ros_args: list[str], env: dict[str, str] | None = None):
        self.log = log
        self._file = open(log, "ab")
        environment = ros_environment() if env is None else env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", NODE_MODULE, "--ros-args", *ros_args], cwd=REPO,
            env={**environment, "PYTHONFAULTHANDLER": "1"}, stdout=self._file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)

    def output(self) -> str:
        if not self._file.closed:
            self._file.flush()
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send `sig` and wait; SIGKILL if it does not exit within `timeout` (exit code then -9)."""
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._file.close()
        return self.proc.returncode


def start_that_fails(log: Path, ros_args: list[str], timeout: float = 60.0) -> tuple[int, str]:
    """Start the node with `ros_args` (under the caller's ROS test environment), wait for it to exit
    by itself; its exit code and output (stopped after `timeout` if it keeps running)."""
    process = NodeProcess(log, ros_args)
    try:
        code = process.proc.wait(timeout=timeout)
    finally:
        process.stop()
    return code, process.output()


class LiveClient:
    """This process's side of one node: cameras at RATE, the outputs recorded, deep service clients."""

    def __init__(self, context, node_name: str = NODE_NAME, namespace: str = "/", rate: float = RATE):
        self.node = rclpy.create_node(f"live_client_{os.getpid()}_{node_name}", namespace=namespace,
                                      context=context)
        prefix = f"{namespace.rstrip('/')}/{node_name}"
        self.prefix = prefix
        self.lock = threading.Lock()
        self.targets: deque = deque(maxlen=2000)   # (arrival, PolygonStamped)
        self.states: deque = deque(maxlen=2000)    # (arrival, code)
        self.scores: deque = deque(maxlen=2000)    # (arrival, score)
        self.pubs = {c: self.node.create_publisher(Image, f"{c}/image", RELIABLE) for c in (VISIBLE, THERMAL)}
        self.node.create_subscription(PolygonStamped, f"{prefix}/target", self._keep(self.targets), RELIABLE)
        self.node.create_subscription(UInt8, f"{prefix}/state", self._keep(self.states, "data"), RELIABLE)
        self.node.create_subscription(Float32, f"{prefix}/score", self._keep(self.scores, "data"), RELIABLE)
        self.init_client = self.node.create_client(SetCameraInfo, f"{prefix}/init_target", qos_profile=SERVICE_QOS)
        self.reset_client = self.node.create_client(Trigger, f"{prefix}/reset", qos_profile=SERVICE_QOS)
        self.sent: deque = deque(maxlen=400)        # stamps of the visible frames sent
        self.frame_at: dict[int, int] = {}           # visible stamp -> frame index (box_at(index) is its truth)
        self.frame_index = 0
        self.publishing = True
        self.rate = rate
        self._rng = np.random.default_rng(0)
        self._stop = threading.Event()
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(self.node)
        self.spinner = BackgroundSpinner(executor, name=f"live-client-{node_name}")
        self._cameras = threading.Thread(target=self._publish_cameras, daemon=True)
        self._cameras.start()

    def subscribe(self, msg_type, topic: str, store: deque, qos=RELIABLE) -> None:
        """Record another of the node's topics (arrival, message) in `store`."""
        self.node.create_subscription(msg_type, topic, self._keep(store), qos)

    def _keep(self, store, field=None):
        def callback(msg):
            with self.lock:
                store.append((time.monotonic(), getattr(msg, field) if field else msg))
        return callback

    def since(self, store, t0: float) -> list:
        with self.lock:
            return [v for t, v in store if t >= t0]

    def _publish_cameras(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            period = 1.0 / self.rate
            if self.publishing:
                stamp_ns = self.node.get_clock().now().nanoseconds
                visible, thermal = scene(self.frame_index, self._rng)
                self.frame_index += 1
                self.pubs[VISIBLE].publish(image_to_msg(visible, "rgb8", Header(stamp=ns_to_stamp(stamp_ns),
                                                                                  frame_id="cam_visible")))
                self.pubs[THERMAL].publish(image_to_msg(thermal, "mono16", Header(stamp=ns_to_stamp(stamp_ns + 2_000_000),
                                                                                    frame_id="cam_thermal")))
                self.sent.append(stamp_ns)
                self.frame_at[stamp_ns] = self.frame_index - 1
                if len(self.frame_at) > 2000:
                    del self.frame_at[next(iter(self.frame_at))]
            next_tick += period
            time.sleep(max(0.0, next_tick - time.monotonic()))

    def wait_ready(self, process: NodeProcess | None, timeout: float = 60.0) -> None:
        """Until the node's services and subscriptions are there (AssertionError if it exits first)."""
        wait_for(lambda: (self.init_client.service_is_ready() and self.reset_client.service_is_ready())
                 or (process is not None and not process.alive()), timeout, "the node's services")
        if process is not None:
            assert process.alive(), f"node exited:\n{process.output()[-3000:]}"
        wait_for(lambda: all(p.get_subscription_count() > 0 for p in self.pubs.values()), 30.0,
                 "the node's subscriptions")

    def wait_outputs(self, count: int = 3, timeout: float = 20.0) -> None:
        """Until `count` states published after now have arrived: the node is pairing our frames."""
        t0 = time.monotonic()
        wait_for(lambda: len(self.since(self.states, t0)) >= count, timeout, f"{count} states from the node")

    def init_request(self, box, stamp_ns: int = 0) -> SetCameraInfo.Request:
        request = SetCameraInfo.Request()
        roi = request.camera_info.roi
        roi.x_offset, roi.y_offset, roi.width, roi.height = (int(round(v)) for v in box)
        request.camera_info.header.stamp = ns_to_stamp(stamp_ns)
        return request

    def call(self, client, request, timeout: float = 20.0):
        assert client.wait_for_service(timeout_sec=timeout), f"service {client.srv_name} not available"
        future = client.call_async(request)
        wait_for(future.done, timeout, f"a response from {client.srv_name}")
        return future.result()

    def init(self, box, stamp_ns: int = 0):
        return self.call(self.init_client, self.init_request(box, stamp_ns))

    def reset(self):
        return self.call(self.reset_client, Trigger.Request())

    def close(self) -> None:
        self._stop.set()
        self._cameras.join(timeout=2.0)
        assert self.spinner.stop(), "the client's executor thread did not stop"
        self.node.destroy_node()


def stamp_ns_of(msg) -> int:
    return stamp_to_ns(msg.header.stamp)


@contextlib.contextmanager
def running_node(log: Path, ros_args: list[str] = NODE_ARGS,
                 client_class: type[LiveClient] = LiveClient) -> Iterator[tuple[NodeProcess, LiveClient]]:
    """A node in a child process (the test's ROS environment, its own rclpy context here) and this
    process's LiveClient (or `client_class`) of it, once its services and subscriptions are there.
    On the way out both are stopped, and a body that succeeded also needs the node to have exited 0
    (SIGTERM)."""
    with ros_test_environment():
        context = rclpy.Context()
        rclpy.init(args=[], context=context)
        process = NodeProcess(log, ros_args)
        client = client_class(context)
        try:
            client.wait_ready(process)
            yield process, client
        finally:
            client.close()
            code = process.stop()
            rclpy.try_shutdown(context=context)
    assert code == 0, process.output()[-3000:]
