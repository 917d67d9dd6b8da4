"""The tracker node in its own process, driven over DDS from this one: initialisation through the
service (newest and past stamps, every failure reason), reset, a camera stopping and resuming, a
non-identity homography with init_box, parameter validation, bad input, outputs and shutdown.

Behaviour only: the shipped student may be retrained at any time, so no accuracy is asserted.
Discovery stays on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST), in a domain of this
test run's own, through the shipped Fast DDS profile.
"""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import PolygonStamped  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.parameter_client import AsyncParameterClient  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from sensor_msgs.srv import SetCameraInfo  # noqa: E402
from std_msgs.msg import Float32, Header, UInt8  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

from rgbt_tracker_ros.ros import diagnostics  # noqa: E402
from rgbt_tracker_ros.ros import state as codes  # noqa: E402
from rgbt_tracker_ros.ros.image_conversion import image_to_msg, ns_to_stamp, stamp_to_ns  # noqa: E402
from rgbt_tracker_ros.ros.names import NODE_MODULE, NODE_NAME  # noqa: E402
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE  # noqa: E402
from rgbt_tracker_ros.ros_tools.spinning import BackgroundSpinner  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "config" / "fastdds_shm.xml"
VW, VH = 160, 128            # visible frames
RATE = 20.0                  # Hz, both cameras
TIMEOUT = 0.8                # camera_timeout given to the nodes
# Every node loads the shipped params file (so its types are checked), then the test's overrides.
NODE_ARGS = ["--params-file", str(REPO / "config" / "tracker.yaml"), "-p", "providers:=[cpu]", "-p", "threads:=1", "-p", f"camera_timeout:={TIMEOUT}",
             "-p", "debug_image.max_rate:=10.0", "-p", "buffer_seconds:=3.0"]


# ------------------------------------------------------------------------------------- scene

class Scene:
    """A warm bright square on a textured background in both cameras (thermal optionally smaller and
    registered to the visible image by a homography: visible = H @ thermal). The background's noise
    changes from frame to frame, as a camera's does: a repeated frame would be set aside as frozen."""

    def __init__(self, thermal_size=(VW, VH), homography=None, seed=0):
        rng = np.random.default_rng(seed)
        self.thermal_size = thermal_size
        self.h = np.eye(3) if homography is None else np.asarray(homography, float)
        self.visible_bgs = [rng.integers(40, 90, (VH, VW, 3), dtype=np.uint8) for _ in range(3)]
        tw, th = thermal_size
        self.thermal_bgs = [(2900 + rng.normal(0, 20, (th, tw))).astype(np.uint16) for _ in range(3)]

    @staticmethod
    def box(i: int) -> tuple[float, float, float, float]:
        return 60.0 + 15.0 * math.sin(i / 25.0), 50.0 + 8.0 * math.cos(i / 31.0), 24.0, 24.0

    def frames(self, i: int):
        x, y, w, h = (int(round(v)) for v in self.box(i))
        visible = self.visible_bgs[i % 3].copy()
        visible[y:y + h, x:x + w] = (230, 200, 60)
        thermal = self.thermal_bgs[i % 3].copy()
        inv = np.linalg.inv(self.h)
        corners = np.array([[x, y, 1.0], [x + w, y + h, 1.0]]) @ inv.T
        (tx0, ty0), (tx1, ty1) = (corners[:, :2] / corners[:, 2:]).round().astype(int)
        thermal[max(ty0, 0):ty1, max(tx0, 0):tx1] = 5200
        return visible, thermal


# ------------------------------------------------------------------------------------- harness

def _free_domain() -> int:
    return random.Random(os.getpid() ^ time.time_ns()).randint(1, 100)


@pytest.fixture(scope="module")
def ros(tmp_path_factory):
    """rclpy for this module: its own domain, localhost discovery, the shipped SHM profile."""
    saved = dict(os.environ)
    os.environ.update(
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
        ROS_DOMAIN_ID=str(_free_domain()),
        ROS_LOG_DIR=str(tmp_path_factory.mktemp("ros_logs")),
        FASTDDS_DEFAULT_PROFILES_FILE=str(PROFILE),
    )
    os.environ.pop("RMW_IMPLEMENTATION", None)
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)
    os.environ.clear()
    os.environ.update(saved)


def _wait(predicate, timeout: float, what: str, poll: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Harness:
    """This process's side: cameras publishing at RATE, and everything read back from one node."""

    def __init__(self, context, namespace: str, node_name: str, scene: Scene):
        self.node = rclpy.create_node(f"test_harness_{node_name}", namespace=namespace, context=context)
        self.scene = scene
        self.name = node_name
        prefix = f"{namespace.rstrip('/')}/{node_name}"
        self.status_name = f"{prefix.lstrip('/')}: tracker"
        self.lock = threading.Lock()
        self.targets: deque = deque(maxlen=400)     # (arrival, PolygonStamped)
        self.states: deque = deque(maxlen=400)      # (arrival, code)
        self.scores: deque = deque(maxlen=400)
        self.status = None                          # latest DiagnosticStatus of this node
        self.debug: deque = deque(maxlen=50)
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self.pubs = {c: self.node.create_publisher(Image, f"{c}/image", reliable) for c in (VISIBLE, THERMAL)}
        self.node.create_subscription(PolygonStamped, f"{prefix}/target", self._keep(self.targets), reliable)
        self.node.create_subscription(UInt8, f"{prefix}/state", self._keep(self.states, "data"), reliable)
        self.node.create_subscription(Float32, f"{prefix}/score", self._keep(self.scores, "data"), reliable)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, reliable)
        self.init_client = self.node.create_client(SetCameraInfo, f"{prefix}/init_target")
        self.reset_client = self.node.create_client(Trigger, f"{prefix}/reset")
        self.params = AsyncParameterClient(self.node, f"{prefix}")
        self.debug_topic = f"{prefix}/debug_image"
        self.debug_sub = None
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(self.node)
        self.spinner = BackgroundSpinner(executor, name=f"harness-{node_name}")
        # cameras
        self.on = {VISIBLE: True, THERMAL: True}
        self.black = {VISIBLE: False, THERMAL: False}  # a camera that sends black frames
        self.publishing = False
        self.injected: deque = deque()
        self.sent: deque = deque(maxlen=200)         # (stamp_ns, monotonic) of visible frames sent
        self.frame_index = 0
        self._stop = threading.Event()
        self.camera_thread = threading.Thread(target=self._cameras, daemon=True)
        self.camera_thread.start()

    # --- receiving
    def _keep(self, store, field=None):
        def callback(msg):
            with self.lock:
                store.append((time.monotonic(), getattr(msg, field) if field else msg))
        return callback

    def _on_diagnostics(self, msg):
        for status in msg.status:
            if status.name == self.status_name:
                with self.lock:
                    self.status = status

    def values(self) -> dict:
        with self.lock:
            return {} if self.status is None else {kv.key: kv.value for kv in self.status.values}

    def since(self, store, t0):
        with self.lock:
            return [v for t, v in store if t >= t0]

    def wait_diagnostics(self, predicate, timeout: float, what: str):
        """Wait for a status of this node, published after now, that satisfies predicate(status, values)."""
        with self.lock:
            self.status = None
        def check():
            with self.lock:
                status = self.status
            return status is not None and predicate(status, {kv.key: kv.value for kv in status.values}) and status
        try:
            return _wait(check, timeout, what)
        except AssertionError:
            raise AssertionError(f"{what}; last diagnostics: {self.status.message if self.status else None} "
                                 f"{self.values()}") from None

    # --- cameras
    def _cameras(self):
        period = 1.0 / RATE
        next_tick = time.monotonic()
        while not self._stop.is_set():
            if self.publishing:
                stamp_ns = self.node.get_clock().now().nanoseconds
                while self.injected:
                    camera, msg = self.injected.popleft()
                    self.pubs[camera].publish(msg)
                visible, thermal = self.scene.frames(self.frame_index)
                self.frame_index += 1
                visible = np.zeros_like(visible) if self.black[VISIBLE] else visible
                thermal = np.zeros_like(thermal) if self.black[THERMAL] else thermal
                if self.on[VISIBLE]:
                    header = Header(stamp=ns_to_stamp(stamp_ns), frame_id="test_visible")
                    self.pubs[VISIBLE].publish(image_to_msg(visible, "rgb8", header))
                    self.sent.append((stamp_ns, time.monotonic()))
                if self.on[THERMAL]:
                    header = Header(stamp=ns_to_stamp(stamp_ns + 3_000_000), frame_id="test_thermal")
                    self.pubs[THERMAL].publish(image_to_msg(thermal, "mono16", header))
            next_tick += period
            time.sleep(max(0.0, next_tick - time.monotonic()))

    def inject(self, camera: str, msg) -> None:
        self.injected.append((camera, msg))

    # --- calls
    def call(self, client, request, timeout: float = 20.0):
        assert client.wait_for_service(timeout_sec=timeout), f"service {client.srv_name} not available"
        future = client.call_async(request)
        _wait(future.done, timeout, f"a response from {client.srv_name}")
        return future.result()

    def init(self, x, y, w, h, stamp_ns: int = 0):
        request = SetCameraInfo.Request()
        request.camera_info.roi.x_offset, request.camera_info.roi.y_offset = int(x), int(y)
        request.camera_info.roi.width, request.camera_info.roi.height = int(w), int(h)
        request.camera_info.header.stamp = ns_to_stamp(stamp_ns)
        return self.call(self.init_client, request)

    def reset(self):
        return self.call(self.reset_client, Trigger.Request())

    def set_parameters(self, **values):
        assert self.params.wait_for_services(timeout_sec=20.0)
        params = [Parameter(name.replace("__", "."), value=v) for name, v in values.items()]
        future = self.params.set_parameters(params)
        _wait(future.done, 20.0, "set_parameters")
        return future.result().results

    def get_parameter(self, name):
        future = self.params.get_parameters([name])
        _wait(future.done, 20.0, "get_parameters")
        return future.result().values[0]

    def subscribe_debug(self):
        self.debug_sub = self.node.create_subscription(
            Image, self.debug_topic, self._keep(self.debug), QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE))

    def unsubscribe_debug(self):
        self.node.destroy_subscription(self.debug_sub)
        self.debug_sub = None

    def close(self):
        self._stop.set()
        self.camera_thread.join(timeout=2.0)
        assert not self.camera_thread.is_alive(), "the test's camera thread did not stop"
        assert self.spinner.stop(), "the test's executor thread did not stop"
        self.node.destroy_node()


class NodeProcess:
    """`python -m NODE_MODULE` (the node) with the test's environment, output to files."""

    def __init__(self, tmp: Path, ros_args: list[str]):
        self.log = tmp / "node.log"
        self._file = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", NODE_MODULE, "--ros-args", *ros_args],
            # faulthandler: a node that hangs on shutdown is sent SIGABRT and prints every thread's stack.
            cwd=REPO, env={**os.environ, "PYTHONFAULTHANDLER": "1"}, stdout=self._file, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        if not self._file.closed:
            self._file.flush()
        return self.log.read_text()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGABRT)
                try:
                    self.proc.wait(timeout=5.0)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self._file.close()
        return self.proc.returncode


def _start(ros, tmp: Path, namespace: str, node_name: str, scene: Scene, extra: list[str]):
    process = NodeProcess(tmp, ["-r", f"__ns:={namespace}", "-r", f"__node:={node_name}", *NODE_ARGS, *extra])
    harness = Harness(ros, namespace, node_name, scene)
    try:
        _wait(lambda: harness.init_client.service_is_ready() or not process.alive(), 60.0, "the node's services")
        assert process.alive(), f"node exited: {process.output()}"
        _wait(lambda: harness.pubs[VISIBLE].get_subscription_count() > 0
              and harness.pubs[THERMAL].get_subscription_count() > 0, 30.0, "the node's subscriptions")
    except BaseException:
        harness.close()
        process.stop()
        raise
    return process, harness


@pytest.fixture(scope="module")
def tracker(ros, tmp_path_factory):
    """One node for most tests (they run in file order and leave it reset and cameras running)."""
    # A half-resolution thermal camera: the node's default geometry scales it onto the visible size.
    scene = Scene(thermal_size=(VW // 2, VH // 2), homography=np.diag([2.0, 2.0, 1.0]))
    process, harness = _start(ros, tmp_path_factory.mktemp("node"), "/t", NODE_NAME, scene, [])
    yield process, harness
    try:
        harness.close()
    finally:
        code = process.stop(signal.SIGTERM)
    # The end of the log: the shutdown's own messages (a hung shutdown prints every thread's stack).
    assert code == 0, f"node exit code {code} on SIGTERM:\n{process.output()[-6000:]}"
    assert "Traceback" not in process.output()


def _roi_of(polygon: PolygonStamped):
    xs = [p.x for p in polygon.polygon.points]
    ys = [p.y for p in polygon.polygon.points]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def _clean_start(harness: Harness):
    harness.on = {VISIBLE: True, THERMAL: True}
    harness.black = {VISIBLE: False, THERMAL: False}
    harness.publishing = True
    harness.reset()


# ------------------------------------------------------------------------------------- the node

def test_init_without_frames_says_so(tracker):
    process, harness = tracker
    response = harness.init(60, 50, 24, 24)
    assert not response.success
    assert response.status_message.startswith("no frames yet: no camera frame has been received")
    harness.wait_diagnostics(lambda s, v: s.level == bytes([diagnostics.ERROR]), 5.0, "ERROR without input")
    assert "no camera frames received yet on /t/visible/image or /t/thermal/image" in harness.status.message


def test_idle_outputs_follow_the_visible_frames(tracker):
    _, harness = tracker
    _clean_start(harness)
    t0 = time.monotonic()
    _wait(lambda: len(harness.since(harness.targets, t0)) >= 5, 20.0, "~/target while idle")
    targets = harness.since(harness.targets, t0)
    sent = {stamp for stamp, _ in harness.sent}
    for target in targets:
        assert len(target.polygon.points) == 0
        assert target.header.frame_id == "test_visible" and stamp_to_ns(target.header.stamp) in sent
    assert set(harness.since(harness.states, t0)) == {codes.State.IDLE}
    assert set(harness.since(harness.scores, t0)) == {0.0}
    status = harness.wait_diagnostics(lambda s, v: "idle" in s.message, 5.0, "idle diagnostics")
    values = harness.values()
    assert status.level == bytes([diagnostics.OK])
    for key in ("visible rate (Hz)", "thermal rate (Hz)", "pairing skew (ms)", "unpaired visible frames",
                "dropped pairs", "execution provider", "model", "latency p50 (ms)", "latency p95 (ms)",
                "processed rate (Hz)", "state", "score"):
        assert key in values, key
    assert values["execution provider"] == "CPUExecutionProvider"
    assert float(values["visible rate (Hz)"]) > RATE / 3 and abs(float(values["pairing skew (ms)"]) - 3.0) < 0.5


@pytest.mark.parametrize("box, reason", [
    ((500, 50, 24, 24), "lies outside the 160x128 image"),
    ((60, 50, 1, 24), "is too small"),
    ((60, 50, 0, 0), "is too small"),
])
def test_init_rejects_bad_boxes(tracker, box, reason):
    _, harness = tracker
    _clean_start(harness)
    _wait(lambda: len(harness.sent) > 3, 10.0, "frames")
    response = harness.init(*box)
    assert not response.success and reason in response.status_message, response.status_message


def test_init_rejects_stamps_outside_the_buffer(tracker):
    _, harness = tracker
    _clean_start(harness)
    _wait(lambda: len(harness.sent) > 3, 10.0, "frames")
    newest = harness.sent[-1][0]
    old = harness.init(60, 50, 24, 24, stamp_ns=newest - 30 * 10**9)
    assert not old.success and "is not in the buffer" in old.status_message and "older" in old.status_message
    future = harness.init(60, 50, 24, 24, stamp_ns=newest + 30 * 10**9)
    assert not future.success and "newer than the newest pair" in future.status_message


def test_init_box_with_nan_is_rejected(tracker):
    _, harness = tracker
    (result,) = harness.set_parameters(init_box=[float("nan"), 1.0, 20.0, 20.0])
    assert not result.successful and "NaN" in result.reason


def test_init_on_the_newest_frame_then_track(tracker):
    _, harness = tracker
    _clean_start(harness)
    _wait(lambda: len(harness.sent) > 3, 10.0, "frames")
    response = harness.init(*Scene.box(harness.frame_index))
    assert response.success and response.status_message.startswith("tracking: initialised"), response.status_message
    t0 = time.monotonic()
    _wait(lambda: len(harness.since(harness.targets, t0)) >= 10, 20.0, "targets while tracking")
    states = harness.since(harness.states, t0)
    assert all(s & codes.STATE_MASK != codes.State.IDLE and not s & ~codes.STATE_MASK for s in states)
    sent = {stamp for stamp, _ in harness.sent}
    for target in harness.since(harness.targets, t0):
        assert target.header.frame_id == "test_visible" and stamp_to_ns(target.header.stamp) in sent
        if target.polygon.points:
            x, y, w, h = _roi_of(target)
            assert len(target.polygon.points) == 4 and 0 <= x and x + w <= VW and 0 <= y and y + h <= VH
    assert any(t.polygon.points for t in harness.since(harness.targets, t0))
    assert all(0.0 <= s <= 1.0 for s in harness.since(harness.scores, t0))


def test_init_on_a_past_stamp_catches_up(tracker):
    _, harness = tracker
    _clean_start(harness)
    _wait(lambda: harness.sent and time.monotonic() - harness.sent[0][1] > 1.5, 10.0, "1.5 s of frames")
    stamp, sent_at = next((s, t) for s, t in reversed(harness.sent) if time.monotonic() - t > 1.0)
    response = harness.init(60, 50, 24, 24, stamp_ns=stamp)
    assert response.success, response.status_message
    caught_up = int(response.status_message.split("caught up through ")[1].split()[0])
    assert caught_up >= RATE * 0.6, response.status_message
    t0 = time.monotonic()
    _wait(lambda: harness.since(harness.targets, t0), 5.0, "a target after the catch-up")
    assert stamp_to_ns(harness.since(harness.targets, t0)[0].header.stamp) > stamp


def test_reset_stops_tracking(tracker):
    _, harness = tracker
    _clean_start(harness)
    _wait(lambda: len(harness.sent) > 3, 10.0, "frames")
    assert harness.init(60, 50, 24, 24).success
    response = harness.reset()
    assert response.success and response.message == "tracking stopped"
    t0 = time.monotonic()
    _wait(lambda: len(harness.since(harness.states, t0)) >= 5, 10.0, "states after reset")
    assert set(harness.since(harness.states, t0)) == {codes.State.IDLE}
    assert all(not t.polygon.points for t in harness.since(harness.targets, t0))
    again = harness.reset()
    assert again.success and again.message == "was not tracking; nothing to stop"


def test_a_camera_stopping_and_resuming(tracker):
    _, harness = tracker
    _clean_start(harness)
    _wait(lambda: len(harness.sent) > 3, 10.0, "frames")
    assert harness.init(*Scene.box(harness.frame_index)).success
    for silent, flag, other_frame in ((THERMAL, codes.THERMAL_MISSING, "test_visible"),
                                      (VISIBLE, codes.VISIBLE_MISSING, "test_visible")):
        harness.on[silent] = False
        t0 = time.monotonic()
        _wait(lambda: any(s & flag for s in harness.since(harness.states, t0)), TIMEOUT + 10.0,
              f"state flag for a silent {silent} camera")
        harness.wait_diagnostics(lambda s, v: f"{silent} camera silent" in s.message, 5.0,
                                 f"diagnostics about the silent {silent} camera")
        t1 = time.monotonic()
        _wait(lambda: len(harness.since(harness.targets, t1)) >= 3, 10.0, "targets on one camera")
        for target in harness.since(harness.targets, t1):
            # Boxes stay in visible pixels, even on thermal alone (scaled by the last visible size).
            assert target.header.frame_id == other_frame
            if target.polygon.points:
                x, y, w, h = _roi_of(target)
                assert -1 <= x and x + w <= VW + 1 and -1 <= y and y + h <= VH + 1
        if silent == VISIBLE:
            # Initialised on thermal alone: the box is given and reported in visible pixels.
            box = Scene.box(harness.frame_index)
            response = harness.init(*box)
            assert response.success, response.status_message
            t3 = time.monotonic()
            _wait(lambda: harness.since(harness.targets, t3), 5.0, "a target after a thermal-only init")
            first = harness.since(harness.targets, t3)[0]
            assert first.header.frame_id == "test_visible"
            if first.polygon.points:
                x, y, w, h = _roi_of(first)
                assert -1 <= x and x + w <= VW + 1 and -1 <= y and y + h <= VH + 1
        harness.on[silent] = True
        t2 = time.monotonic() + 0.5
        _wait(lambda: len(harness.since(harness.states, t2)) >= 5, 10.0, "states after the camera resumed")
        assert not any(s & ~codes.STATE_MASK for s in harness.since(harness.states, t2)), \
            f"{silent} back, but states still flag it: {harness.since(harness.states, t2)}"


def test_a_camera_sending_black_frames(tracker):
    """Frames arrive but hold nothing: the state flags the camera, diagnostics say which, why and how long."""
    _, harness = tracker
    _clean_start(harness)
    _wait(lambda: len(harness.sent) > 3, 10.0, "frames")
    assert harness.init(*Scene.box(harness.frame_index)).success
    harness.black[THERMAL] = True
    t0 = time.monotonic()
    _wait(lambda: any(s & codes.THERMAL_MISSING for s in harness.since(harness.states, t0)), 10.0,
          "the thermal flag for black thermal frames")
    status = harness.wait_diagnostics(
        lambda s, v: "thermal frames hold no information (black)" in s.message
        and v.get("thermal frame content", "").startswith("black for") and float(v["thermal frame content"].split()[2]) >= 1.0,
        10.0, "diagnostics about the black thermal camera for a second")
    assert status.level == bytes([diagnostics.WARN]) and "tracking on visible alone" in status.message
    assert not harness.since(harness.states, time.monotonic() - 0.5)[-1] & codes.VISIBLE_MISSING
    harness.black[THERMAL] = False
    t1 = time.monotonic() + 0.5
    _wait(lambda: len(harness.since(harness.states, t1)) >= 5, 10.0, "states after the thermal camera sees again")
    assert not any(s & ~codes.STATE_MASK for s in harness.since(harness.states, t1))
    harness.wait_diagnostics(lambda s, v: v.get("thermal frame content") == "ok", 5.0, "thermal content ok again")


def test_parameter_validation(tracker):
    _, harness = tracker
    rejected = {
        "sync__slop": (-0.5, "out of range"),
        "camera_timeout": (100.0, "out of range"),
        "sync__queue_size": (0, "out of range"),
        "init_box": ([1.0, 2.0, 3.0], "needs 4 numbers"),
        "model": ("/tmp/elsewhere", "read-only"),
        "thermal_to_visible": ([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], "read-only"),
        "qos__depth": (3, "read-only"),
        "tracker__score_lost": (0.05, "read-only"),
        "buffer_seconds": ("two", "Wrong parameter type"),
    }
    for name, (value, reason) in rejected.items():
        (result,) = harness.set_parameters(**{name: value})
        assert not result.successful and reason in result.reason, (name, result.reason)
    (result,) = harness.set_parameters(sync__slop=0.03)
    assert result.successful
    assert harness.get_parameter("sync.slop").double_value == pytest.approx(0.03)
    (result,) = harness.set_parameters(sync__slop=0.02)
    assert result.successful


def test_init_box_parameter_at_run_time(tracker):
    _, harness = tracker
    _clean_start(harness)
    _wait(lambda: len(harness.sent) > 3, 10.0, "frames")
    (result,) = harness.set_parameters(init_box=list(Scene.box(harness.frame_index)))
    assert result.successful, result.reason
    t0 = time.monotonic()
    _wait(lambda: any(s != codes.State.IDLE for s in harness.since(harness.states, t0)), 10.0,
          "tracking started by init_box")
    harness.reset()


def _bad_messages(stamp_ns: int):
    header = Header(stamp=ns_to_stamp(stamp_ns), frame_id="test_visible")
    unknown = image_to_msg(np.zeros((VH, VW, 3), np.uint8), "rgb8", header)
    unknown.encoding = "bayer_rggb8"
    wrong_step = image_to_msg(np.zeros((VH, VW), np.uint16), "mono16", header)
    wrong_step.step = VW  # half a row of mono16
    truncated = image_to_msg(np.zeros((VH, VW, 3), np.uint8), "rgb8", header)
    truncated.data = truncated.data[: len(truncated.data) // 2]
    empty = Image(header=header, encoding="mono16", height=0, width=0, step=0)
    nan = image_to_msg(np.full((VH, VW), np.nan, np.float32), "32FC1", header)
    return [
        (VISIBLE, unknown, "encoding 'bayer_rggb8' is not supported"),
        (THERMAL, wrong_step, "step 160 is shorter than one row"),
        (VISIBLE, truncated, "data is truncated"),
        (THERMAL, empty, "image is empty (0x0 pixels)"),
        (THERMAL, nan, "no finite temperature"),
    ]


def test_bad_input_is_reported_and_survived(tracker):
    process, harness = tracker
    _clean_start(harness)
    _wait(lambda: len(harness.sent) > 3, 10.0, "frames")
    assert harness.init(*Scene.box(harness.frame_index)).success
    for camera, msg, reason in _bad_messages(harness.sent[-1][0]):
        before = int(harness.values().get(f"rejected {camera} frames", 0))
        harness.inject(camera, msg)
        harness.wait_diagnostics(
            lambda s, v: reason in v["last rejection"] and int(v[f"rejected {camera} frames"]) > before
            and s.level == bytes([diagnostics.WARN]) and "frames rejected" in s.message,
            10.0, f"diagnostics reporting {reason!r}")
        assert process.alive()
    # Stamps going backwards: one old thermal frame restarts the pairing, and it is reported.
    old = Header(stamp=ns_to_stamp(harness.sent[-1][0] - 10 * 10**9), frame_id="test_thermal")
    harness.inject(THERMAL, image_to_msg(np.zeros((VH, VW), np.uint16), "mono16", old))
    harness.wait_diagnostics(lambda s, v: int(v["thermal stamps backwards"]) >= 1
                             and "thermal stamps went backwards" in s.message, 10.0, "backwards stamps reported")
    t0 = time.monotonic()
    _wait(lambda: len(harness.since(harness.targets, t0)) >= 5, 10.0, "tracking goes on after bad input")
    assert process.alive()
    harness.reset()


def test_debug_image_only_while_subscribed(tracker):
    _, harness = tracker
    _clean_start(harness)
    assert harness.init(*Scene.box(harness.frame_index)).success
    harness.wait_diagnostics(lambda s, v: True, 5.0, "diagnostics")
    assert harness.values()["debug images published"] == "0"  # nobody has subscribed so far
    harness.subscribe_debug()
    _wait(lambda: len(harness.debug) >= 3, 20.0, "debug images")
    image = harness.debug[-1][1]
    assert (image.encoding, image.width, image.height) == ("rgb8", VW, VH)
    assert image.header.frame_id == "test_visible"
    harness.unsubscribe_debug()

    # Frames keep flowing (10 debug images a second while subscribed); once the node has learnt
    # that the subscription is gone, the count stands still.
    def published() -> int:
        status = harness.wait_diagnostics(lambda s, v: True, 5.0, "diagnostics")
        return int({kv.key: kv.value for kv in status.values}["debug images published"])

    counts = [published() for _ in range(3)]
    while len(set(counts[-3:])) > 1:  # three equal counts in a row: stopped
        assert len(counts) < 12, f"debug images still published after unsubscribing: {counts}"
        counts.append(published())
    assert counts[-1] > 0
    harness.reset()


# ------------------------------------------------------------------------------------- geometry

# Thermal camera at half the resolution, shifted: visible = H @ thermal.
HOMOGRAPHY = [2.0, 0.0, 6.0, 0.0, 2.0, -4.0, 0.0, 0.0, 1.0]


def test_homography_and_init_box_parameters(ros, tmp_path):
    scene = Scene(thermal_size=(VW // 2, VH // 2), homography=np.reshape(HOMOGRAPHY, (3, 3)), seed=3)
    box = Scene.box(0)
    process, harness = _start(ros, tmp_path, "/h", "rgbt_tracker_h", scene, [
        "-p", f"thermal_to_visible:={HOMOGRAPHY}", "-p", f"init_box:={list(box)}"])
    try:
        harness.publishing = True
        t0 = time.monotonic()
        _wait(lambda: len(harness.since(harness.targets, t0)) >= 5, 30.0, "targets")
        assert all(s != codes.State.IDLE for s in harness.since(harness.states, t0)), "init_box did not initialise"
        harness.wait_diagnostics(lambda s, v: v["thermal to visible"].startswith("[[2.0, 0.0, 6.0]"), 5.0,
                                 "the homography in diagnostics")
        # Thermal alone: the homography keeps the boxes in visible pixels and the visible frame.
        harness.on[VISIBLE] = False
        t1 = time.monotonic()
        _wait(lambda: sum(bool(s & codes.VISIBLE_MISSING) for s in harness.since(harness.states, t1)) >= 5,
              TIMEOUT + 10.0, "thermal-only tracking")
        thermal_only = [t for t in harness.since(harness.targets, t1) if t.header.frame_id != "test_visible"]
        assert not thermal_only, "thermal-only targets must stay in the visible frame"
        for target in harness.since(harness.targets, t1):
            if target.polygon.points:
                x, y, w, h = _roi_of(target)
                assert -1 <= x and x + w <= VW + 1 and -1 <= y and y + h <= VH + 1
    finally:
        try:
            harness.close()
        finally:
            code = process.stop(signal.SIGINT)
    assert code == 0, process.output()[-3000:]


@pytest.mark.parametrize("args, reason", [
    (["-p", "sync.slop:=-1.0"], "sync.slop out of range"),
    (["-p", "thermal_to_visible:=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]"], "singular"),
    (["-p", "init_box:=[1.0, 2.0]"], "init_box needs 4 numbers"),
    (["-p", "model:=/nonexistent/model"], "model folder /nonexistent/model does not exist"),
])
def test_bad_parameters_at_start_stop_the_node_with_a_reason(ros, tmp_path, args, reason):
    process = NodeProcess(tmp_path, args)
    try:
        code = process.proc.wait(timeout=60)
    finally:
        process.stop()
    output = process.output()
    assert code == 1 and "cannot start" in output and reason in output, output
    assert "Traceback" not in output
