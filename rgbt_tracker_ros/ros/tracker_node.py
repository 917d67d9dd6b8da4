"""The RGB-T tracker node: a thin ROS 2 adapter over `tracking.RGBTTracker` (docs/ros_node.md).

Threads: the image callbacks (one mutually exclusive group) only convert, pair and buffer; a worker
thread tracks the newest pair, so no backlog builds up; the services and the diagnostics timer run
on the same single-threaded executor as the callbacks (see `main`). `_lock` guards the input side and the
statistics (short sections only); `_tracker_lock` guards the tracker (held through an inference).
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Point32, PolygonStamped
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rcl_interfaces.msg import SetParametersResult
from sensor_msgs.msg import Image
from sensor_msgs.srv import SetCameraInfo
from std_msgs.msg import Float32, Header, UInt8
from std_srvs.srv import Trigger

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros import diagnostics, parameters
from rgbt_tracker_ros.ros import state as state_codes
from rgbt_tracker_ros.ros.debug_image import render, thermal_display
from rgbt_tracker_ros.ros.image_conversion import (
    image_to_msg, ns_to_stamp, stamp_to_ns, thermal_from_msg, visible_from_msg,
)
from rgbt_tracker_ros.ros.pair_buffer import PairBuffer, StampNotBuffered
from rgbt_tracker_ros.ros.pairing import CAMERAS, THERMAL, VISIBLE, ApproximateTimePairer, Pair
from rgbt_tracker_ros.tracking.geometry import scaling_homography
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

NODE_NAME = "rgbt_tracker"
# Controllers and rviz use reliable subscriptions by default; a reliable writer serves both kinds.
OUTPUT_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)
DEBUG_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)
INPUT_TOPICS = {VISIBLE: "visible/image", THERMAL: "thermal/image"}  # relative: namespace + remapping
_CONVERT = {VISIBLE: visible_from_msg, THERMAL: thermal_from_msg}


@dataclass(frozen=True)
class _Input:
    """A converted frame: what the pairer carries for the node."""

    image: np.ndarray
    header: Header


@dataclass
class _Target:
    """What the node (not the tracker) keeps about the current target."""

    cameras: tuple[bool, bool]                   # (visible, thermal) present at initialisation
    to_visible: tuple[float, float] | None       # tracker box (thermal px) -> visible px scale, if needed
    in_visible_pixels: bool                      # False only on a thermal-only robot


class TrackerNode(Node):
    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        # First, so that destroy_node() works on a node whose construction failed half-way.
        self._wake = threading.Condition()
        self._stopping = False
        self._worker: threading.Thread | None = None
        parameters.declare(self)
        self._startup, self._runtime = parameters.read(self)
        self._log_bridge = _RosLogBridge(self.get_logger())
        logging.getLogger("rgbt_tracker_ros").addHandler(self._log_bridge)
        config = self._startup.tracker_config()
        self._tracker = RGBTTracker(config)  # InputError: main() reports it
        self._homography = config.thermal_to_visible_matrix()

        now = time.monotonic()
        self._lock = threading.Lock()
        self._tracker_lock = threading.Lock()
        self._pairer = ApproximateTimePairer(self._runtime.pairing, now)
        self._buffer = PairBuffer(self._runtime.buffer_seconds)
        self._pending: tuple[int, Pair] | None = None  # newest pair not yet taken by the worker
        self._epoch = 0                                 # bumped when time goes back
        self._target: _Target | None = None
        self._init_request = self._runtime.init_box    # init_box: applied to the next pair
        self._last_done: tuple[int, int] | None = None  # (epoch, stamp) of the last tracked pair
        self._visible_geometry: tuple[tuple[int, int], str] | None = None  # ((w, h), frame_id)
        self._stats = diagnostics.Counters(now)
        self._last_debug = 0.0

        self._target_pub = self.create_publisher(PolygonStamped, "~/target", OUTPUT_QOS)
        self._score_pub = self.create_publisher(Float32, "~/score", OUTPUT_QOS)
        self._state_pub = self.create_publisher(UInt8, "~/state", OUTPUT_QOS)
        self._debug_pub = self.create_publisher(Image, "~/debug_image", DEBUG_QOS)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", OUTPUT_QOS)

        input_qos = QoSProfile(
            depth=self._startup.depth, history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE,
            reliability=(ReliabilityPolicy.RELIABLE if self._startup.reliability == "reliable"
                         else ReliabilityPolicy.BEST_EFFORT),
        )
        inputs = MutuallyExclusiveCallbackGroup()
        self._subscriptions_by_camera = {
            camera: self.create_subscription(Image, INPUT_TOPICS[camera], partial(self._on_image, camera),
                                             input_qos, callback_group=inputs)
            for camera in CAMERAS
        }
        services = MutuallyExclusiveCallbackGroup()
        self.create_service(SetCameraInfo, "~/init_target", self._on_init_target, callback_group=services)
        self.create_service(Trigger, "~/reset", self._on_reset, callback_group=services)
        self.create_timer(1.0, self._publish_diagnostics, callback_group=MutuallyExclusiveCallbackGroup())
        self.add_on_set_parameters_callback(self._validate_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)

        self._worker = threading.Thread(target=self._work, name="rgbt_tracker_worker", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"tracking with model {self._tracker.name} on {self._tracker.provider}; inputs "
            f"{self._subscriptions_by_camera[VISIBLE].topic_name} and "
            f"{self._subscriptions_by_camera[THERMAL].topic_name} ({self._startup.reliability}, "
            f"depth {self._startup.depth})"
        )

    def destroy_node(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._worker is not None and self._worker.is_alive():
            self._worker.join(timeout=5.0)
        if getattr(self, "_log_bridge", None) is not None:
            logging.getLogger("rgbt_tracker_ros").removeHandler(self._log_bridge)
        super().destroy_node()

    # ------------------------------------------------------------------ inputs

    def _on_image(self, camera: str, msg: Image) -> None:
        received = time.monotonic()
        with self._lock:
            self._stats.received[camera] += 1
        try:
            image = _CONVERT[camera](msg)
        except InputError as exc:
            self._reject(camera, str(exc), received)
            return
        with self._lock:
            backwards = self._pairer.stats.backwards[camera]
            pair = self._pairer.add(camera, stamp_to_ns(msg.header.stamp), _Input(image, msg.header), received)
            if self._pairer.stats.backwards[camera] != backwards:
                self._time_went_back(camera, received)
            if camera == VISIBLE:
                self._visible_geometry = ((image.shape[1], image.shape[0]), msg.header.frame_id)
            newest = self._buffer.newest()
            if pair is None:
                return
            if newest is not None and pair.stamp_ns <= newest.stamp_ns:
                # Only when a camera drops out or comes back (the pair's stamp switches camera): skip it.
                self._stats.dropped += 1
                return
            self._buffer.push(pair)
            if pair.complete:
                self._stats.skew_sum_ms += pair.skew_ns / 1e6
                self._stats.skew_count += 1
            work = (self._epoch, pair)
        with self._wake:
            if self._pending is not None:
                with self._lock:
                    self._stats.dropped += 1
            self._pending = work
            self._wake.notify()

    def _reject(self, camera: str, reason: str, now: float) -> None:
        with self._lock:
            self._stats.rejected[camera] += 1
            self._stats.last_rejection = (now, f"{camera}: {reason}")
        self.get_logger().warning(f"{camera} frame rejected: {reason}", throttle_duration_sec=5.0)

    def _time_went_back(self, camera: str, now: float) -> None:
        """Called under _lock: the pairer has restarted; the history belongs to the old timeline."""
        self._buffer.clear()
        self._epoch += 1
        self._stats.last_backwards = (now, camera)
        self.get_logger().warning(f"{camera} stamps went backwards: pairing and the pair buffer restarted")

    # ------------------------------------------------------------------ tracking (worker thread)

    def _work(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                epoch, pair = self._pending
                self._pending = None
            try:
                self._process(epoch, pair)
            except Exception as exc:  # keep the worker alive; a bug shows in the log, not as silence
                if not self.context.ok():
                    return  # shutting down (SIGINT/SIGTERM): the publishers are gone
                self.get_logger().error(f"tracking failed: {type(exc).__name__}: {exc}")

    def _process(self, epoch: int, pair: Pair) -> None:
        with self._tracker_lock:
            if self._last_done is not None and (epoch, pair.stamp_ns) <= self._last_done:
                return  # already tracked during a catch-up
            self._last_done = (epoch, pair.stamp_ns)
            if self._init_request is not None:
                box, self._init_request = self._init_request, None
                try:
                    self._start(pair, box)
                    self.get_logger().info(f"initialised from init_box {list(box)}")
                except InputError as exc:
                    self.get_logger().error(f"init_box {list(box)} rejected: {exc}")
            if self._target is None:
                self._publish(pair, None, 0.0, state_codes.State.IDLE)
                return
            try:
                box, score, state = self._track(pair)
            except InputError as exc:  # e.g. a camera changed its resolution: this target is over
                self._target = None
                self._reject(VISIBLE if pair.visible is not None else THERMAL, str(exc), time.monotonic())
                self.get_logger().error(f"tracking stopped: {exc}; initialise again")
                box, score, state = None, 0.0, state_codes.State.IDLE
            self._publish(pair, box, score, state)

    def _start(self, pair: Pair, box) -> None:
        """Initialise on `pair` with `box` in visible pixels (called under _tracker_lock)."""
        visible, thermal = _images(pair)
        to_visible = self._thermal_only_scale(thermal) if visible is None else None
        tracker_box = np.asarray(box, dtype=np.float64)
        if to_visible is not None:
            tracker_box = tracker_box / np.array([*to_visible, *to_visible])
        self._tracker.initialize(visible, thermal, tracker_box)
        self._target = _Target(
            cameras=(visible is not None, thermal is not None), to_visible=to_visible,
            in_visible_pixels=visible is not None or to_visible is not None or self._homography is not None,
        )

    def _track(self, pair: Pair) -> tuple[np.ndarray, float, state_codes.State]:
        """One frame through the tracker; box in visible pixels (called under _tracker_lock)."""
        visible, thermal = _images(pair)
        target = self._target
        result = self._tracker.track(visible, thermal)
        box = result.box
        if target.to_visible is not None:
            box = box * np.array([*target.to_visible, *target.to_visible])
        state = state_codes.from_track_state(result.state)
        # A camera absent at initialisation is ignored by the tracker: while confident, start over
        # on the current box with both, so a camera that comes back is used again.
        if pair.complete and not all(target.cameras) and state == state_codes.State.TRACKING:
            self._start(pair, box)
        return box, result.score, state

    def _thermal_only_scale(self, thermal: np.ndarray) -> tuple[float, float] | None:
        """Scale from the tracker's thermal-pixel boxes to visible pixels, for thermal-only frames
        without a configured homography (with one, the tracker already works in visible pixels)."""
        with self._lock:
            geometry = self._visible_geometry
        if self._homography is not None or geometry is None:
            return None  # no visible camera seen: boxes are in thermal pixels (docs/design.md)
        (vw, vh), _ = geometry
        return vw / thermal.shape[1], vh / thermal.shape[0]

    # ------------------------------------------------------------------ outputs

    def _publish(self, pair: Pair, box, score: float, state: state_codes.State) -> None:
        code = state_codes.encode(state, pair.visible is not None, pair.thermal is not None)
        header = self._header(pair)
        reliable = state in (state_codes.State.TRACKING, state_codes.State.UNCERTAIN)
        # score and state first: a controller that reacts to ~/target has them already.
        self._score_pub.publish(Float32(data=float(score)))
        self._state_pub.publish(UInt8(data=code))
        target = PolygonStamped(header=header)
        if reliable and box is not None:
            x, y, w, h = (float(v) for v in box)
            target.polygon.points = [Point32(x=x, y=y), Point32(x=x + w, y=y),
                                     Point32(x=x + w, y=y + h), Point32(x=x, y=y + h)]
        self._target_pub.publish(target)
        now = time.monotonic()
        with self._lock:
            self._stats.processed += 1
            self._stats.latency.add(1000.0 * (now - _received(pair)))
            self._stats.state, self._stats.score = code, float(score)
        self._maybe_publish_debug(pair, box, score, code, header, now)

    def _header(self, pair: Pair) -> Header:
        if pair.visible is not None:
            return pair.visible.payload.header
        with self._lock:
            geometry = self._visible_geometry
        target = self._target
        in_visible_pixels = geometry is not None and (target is None or target.in_visible_pixels)
        frame_id = geometry[1] if in_visible_pixels else pair.thermal.payload.header.frame_id
        return Header(stamp=ns_to_stamp(pair.thermal.stamp_ns), frame_id=frame_id)

    def _maybe_publish_debug(self, pair: Pair, box, score: float, code: int, header: Header, now: float) -> None:
        rate = self._runtime.debug_max_rate
        if rate <= 0.0 or now - self._last_debug < 1.0 / rate or self._debug_pub.get_subscription_count() == 0:
            return
        self._last_debug = now
        visible, thermal = _images(pair)
        background = visible
        if visible is None:
            with self._lock:
                geometry = self._visible_geometry
            if geometry is not None:  # show the thermal frame in the visible frame's pixels
                size = geometry[0]
                matrix = self._homography if self._homography is not None else scaling_homography(
                    (thermal.shape[1], thermal.shape[0]), size)
                background = cv2.warpPerspective(thermal_display(thermal), matrix, size)
        shown = box if code & state_codes.STATE_MASK != state_codes.State.LOST else None
        self._debug_pub.publish(image_to_msg(render(background, thermal, shown, code, score), "rgb8", header))
        with self._lock:
            self._stats.debug_images += 1

    def _publish_diagnostics(self) -> None:
        now = time.monotonic()
        with self._lock:
            health = self._stats.health(now, self._pairer, self._runtime.latency_warn_ms)
        health.model = f"{self._tracker.name} {self._tracker.model.version} ({self._tracker.model.directory})"
        health.provider = self._tracker.provider
        health.homography = ("default (scaling onto the visible size)" if self._homography is None
                             else str(np.round(self._homography, 6).tolist()))
        health.topics = {c: s.topic_name for c, s in self._subscriptions_by_camera.items()}
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        name = f"{self.get_fully_qualified_name().lstrip('/')}: tracker"  # e.g. "drone1/rgbt_tracker: tracker"
        array.status = [diagnostics.to_status(health, name, self._tracker.provider)]
        self._diagnostics_pub.publish(array)

    # ------------------------------------------------------------------ services

    def _on_init_target(self, request: SetCameraInfo.Request, response: SetCameraInfo.Response):
        roi = request.camera_info.roi
        box = (float(roi.x_offset), float(roi.y_offset), float(roi.width), float(roi.height))
        stamp_ns = stamp_to_ns(request.camera_info.header.stamp)
        response.success, response.status_message = self._init_from_request(box, stamp_ns)
        text = f"init_target {list(box)}: {response.status_message}"
        if response.success:
            self.get_logger().info(text)
        else:
            self.get_logger().warning(text)
        return response

    def _init_from_request(self, box, stamp_ns: int) -> tuple[bool, str]:
        with self._lock:
            if len(self._buffer) == 0:
                return False, "no frames yet: " + self._why_no_pairs()
            try:
                tolerance = max(int(self._runtime.pairing.slop * 1e9), 1_000_000)
                pair = self._buffer.find(stamp_ns, tolerance) if stamp_ns else self._buffer.newest()
            except StampNotBuffered as exc:
                return False, str(exc)
            epoch, newest = self._epoch, self._buffer.newest()
        started = time.monotonic()
        with self._tracker_lock:
            try:
                self._start(pair, box)
            except InputError as exc:
                return False, f"rejected: {exc}"
            self._init_request = None
            last, result, steps = pair, None, 0
            try:
                while steps < 10 * self._buffer.max_pairs:  # catch up through the pairs after the box's one
                    with self._lock:
                        following = self._buffer.after(last.stamp_ns) if self._epoch == epoch else []
                    if not following:
                        break
                    for later in following:
                        result, last, steps = self._track(later), later, steps + 1
                if result is None:
                    result = self._track(pair)
            except InputError as exc:
                self._target = None
                return False, f"initialised, but catching up failed after {steps} pairs: {exc}"
            self._last_done = (epoch, last.stamp_ns)
            self._publish(last, *result)
        lag = (newest.stamp_ns - pair.stamp_ns) / 1e9
        return True, (
            f"tracking: initialised on the pair stamped {pair.stamp_ns / 1e9:.3f} ({lag:.3f} s before the newest), "
            f"caught up through {steps} buffered pairs in {time.monotonic() - started:.2f} s; "
            f"state {result[2].name.lower()}, score {result[1]:.2f}"
        )

    def _why_no_pairs(self) -> str:
        """Called under _lock."""
        seen = {c: self._pairer.seen(c) for c in CAMERAS}
        if not any(seen.values()):
            rejected = sum(self._stats.rejected.values())
            extra = f" ({rejected} frames rejected, see /diagnostics)" if rejected else ""
            return f"no camera frame has been received{extra}"
        missing = [c for c in CAMERAS if not seen[c]]
        if missing:
            present = VISIBLE if missing[0] == THERMAL else THERMAL
            return (f"only {present} frames so far, nothing on {self._subscriptions_by_camera[missing[0]].topic_name}; "
                    f"tracking on {present} alone starts once {missing[0]} has been silent for "
                    f"{self._runtime.pairing.camera_timeout:g} s")
        return "frames arrive from both cameras but none has paired yet (stamps further apart than sync.slop?)"

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response):
        with self._tracker_lock:
            was_tracking = self._target is not None
            self._target, self._init_request = None, None
        response.success = True
        response.message = "tracking stopped" if was_tracking else "was not tracking; nothing to stop"
        self.get_logger().info(f"reset: {response.message}")
        return response

    # ------------------------------------------------------------------ parameters

    def _candidate_settings(self, changed):
        values = {spec.name: self.get_parameter_or(spec.name).value for spec in parameters.SPECS}
        values.update({p.name: p.value for p in changed})
        return parameters.settings_from(values)

    def _validate_parameters(self, changed) -> SetParametersResult:
        try:
            self._candidate_settings(changed)
        except (InputError, ValueError) as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, changed) -> None:
        _, runtime = self._candidate_settings([])
        with self._lock:
            self._runtime = runtime
            self._pairer.update(runtime.pairing)
            self._buffer.resize(runtime.buffer_seconds)
        if any(p.name == "init_box" for p in changed) and runtime.init_box is not None:
            with self._tracker_lock:
                self._init_request = runtime.init_box


class _RosLogBridge(logging.Handler):
    """Sends the tracking core's Python log records (provider fallbacks, ...) to the node's ROS log."""

    def __init__(self, ros_logger):
        super().__init__()
        self._ros_logger = ros_logger

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        # One call site per severity: rclpy refuses a call site whose severity changes.
        if record.levelno >= logging.ERROR:
            self._ros_logger.error(text)
        elif record.levelno >= logging.WARNING:
            self._ros_logger.warning(text)
        else:
            self._ros_logger.info(text)


def _images(pair: Pair) -> tuple[np.ndarray | None, np.ndarray | None]:
    return (pair.visible.payload.image if pair.visible is not None else None,
            pair.thermal.payload.image if pair.thermal is not None else None)


def _received(pair: Pair) -> float:
    """When the pair became complete: the later arrival of its frames (monotonic seconds)."""
    return max(f.received for f in (pair.visible, pair.thermal) if f is not None)


SHUTDOWN_GRACE_S = 10.0  # from the end of spinning to the process's exit


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    try:
        node = TrackerNode()
    except (InputError, ParameterException) as exc:
        rclpy.logging.get_logger(NODE_NAME).fatal(f"cannot start: {exc}")
        rclpy.try_shutdown()
        return 1
    # One executor thread for the callbacks (they only convert, pair and buffer; the tracking runs on
    # the node's own worker thread). rclpy's MultiThreadedExecutor spent most of the GIL on its own
    # bookkeeping here: node-bench at 30 Hz processed 15 Hz with p95 150 ms, against 30 Hz and p95
    # 16 ms with this one. An init_target catch-up runs in its service callback and delays image
    # callbacks by that long (a few ms per buffered pair); the newest frame still wins afterwards.
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        # A stopped node must exit, not wait for SIGKILL: if the teardown below or the interpreter's
        # own (DDS participants, ONNX Runtime threads) hangs, print every thread's stack and exit 1.
        faulthandler.dump_traceback_later(SHUTDOWN_GRACE_S, exit=True)
        executor.shutdown(timeout_sec=SHUTDOWN_GRACE_S / 2)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
