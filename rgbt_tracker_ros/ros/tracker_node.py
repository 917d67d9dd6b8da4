"""The RGB-T tracker node: a thin ROS 2 adapter over `tracking.RGBTTracker` (docs/ros_node.md).

The decisions (pairing, catch-up, the camera-return policy, coordinate frames, the service
answers) are `ros.node_session.NodeSession`'s, which needs no rclpy; this module declares the
parameters, turns messages into frames and `Output`s into messages, and runs the threads.
It is a lifecycle node: configure builds the tracker and the session, activate subscribes to the
cameras, deactivate unsubscribes (the session stays), cleanup frees it; `autostart` (the default)
runs configure and activate at start, so it starts like an unmanaged node.
Threads: the image callbacks (one mutually exclusive group) only convert, pair and buffer (a
compressed camera's callback only stores the message: a decoder thread per camera decodes the newest
one, ros/newest_decoder.py); a worker
thread tracks the newest pair, so no backlog builds up; the service callbacks, on the same
single-threaded executor as the image callbacks and the diagnostics timer (see `main`), hand their
request to a request thread (`ros.request_worker`) and await its answer, so the executor never
waits for the tracker.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import time
from functools import partial

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point32, PolygonStamped
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecyclePublisher, LifecycleState, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.service import Service
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future
from rclpy.timer import Timer
from rcl_interfaces.msg import SetParametersResult
from sensor_msgs.msg import CompressedImage, Image
from sensor_msgs.srv import SetCameraInfo
from std_msgs.msg import Float32, Header, UInt8
from std_srvs.srv import Trigger

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros import diagnostics, parameters
from rgbt_tracker_ros.ros.dds_profile import apply_shipped_profile, profile_problem
from rgbt_tracker_ros.ros.debug_image import render, thermal_in_visible
from rgbt_tracker_ros.ros.image_conversion import CONVERTERS, image_to_msg, ns_to_stamp, stamp_to_ns
from rgbt_tracker_ros.ros.init_box_topic import InitBoxReport, box_from_corners, ignored_while_followed
from rgbt_tracker_ros.ros.names import (
    COMPRESSED_SUFFIX, DEBUG_IMAGE_TOPIC, DIAGNOSTICS_TOPIC, INIT_BOX_TOPIC, INIT_TARGET_SERVICE, INPUT_TOPICS,
    NODE_NAME, RESET_SERVICE, RESULT_TOPIC, SCORE_TOPIC, STATE_TOPIC, TARGET_TOPIC, private,
)
from rgbt_tracker_ros.ros.newest_decoder import NewestDecoder
from rgbt_tracker_ros.ros.node_session import CameraFrame, NodeSession, Output, SessionLog
from rgbt_tracker_ros.ros.pairing import CAMERAS, THERMAL, VISIBLE
from rgbt_tracker_ros.ros.qos import DEBUG_QOS, OUTPUT_QOS, SERVICE_QOS, init_box_qos
from rgbt_tracker_ros.ros.request_worker import Request, RequestWorker
from rgbt_tracker_ros.ros.result_message import result_message
from rgbt_tracker_ros.ros.stale_shm import NOT_INSTALLED, CleanResult, clean_stale_segments
from rgbt_tracker_ros.ros.stop_signals import StopSignals
from rgbt_tracker_ros.tracking.geometry import Size, mapped_extent
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

SUPERSEDED = "superseded: a later init_target request arrived before this one was handled; that one is used"


class TrackerNode(LifecycleNode):
    """A managed node (docs/ros_node.md, "Lifecycle"): constructed unconfigured, with only its
    parameters declared; configure builds the tracker, the session and the outputs, activate
    subscribes to the cameras. main() runs configure and activate at once when `autostart` is set."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        # First, so that destroy_node() works on a node whose construction failed half-way.
        self._session: NodeSession | None = None
        self._worker: threading.Thread | None = None
        self._requests: RequestWorker | None = None
        self._tracker: RGBTTracker | None = None
        self._log_bridge = None
        self._decoders: dict[str, NewestDecoder] = {}  # per compressed camera, while active
        self._subscriptions_by_camera: dict = {}        # while active
        self._configured: list = []                     # what configure created and cleanup destroys
        self.failure = ""                                # why the last transition failed
        self.finished = False                            # shut down: main() exits
        parameters.declare(self)  # ParameterException (a value of the wrong type): main() reports it
        self.autostart = bool(self.get_parameter("autostart").value)
        self._startup, self._runtime = None, None
        self._log_bridge = _RosLogBridge(self.get_logger())
        logging.getLogger("rgbt_tracker_ros").addHandler(self._log_bridge)
        self._status_prefix = self.get_fully_qualified_name().lstrip("/")  # e.g. "drone1/rgbt_tracker"
        self._init_box_report = InitBoxReport()
        self.add_on_set_parameters_callback(self._validate_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)

    # ------------------------------------------------------------------ lifecycle

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Read and check the parameters, load and probe the model, create the outputs, services and
        threads. A bad parameter or model fails the transition with the reason in the log (and in
        `failure`); the node stays unconfigured and up."""
        try:
            self._configure()
        except Exception as exc:  # rclpy would turn it into ERROR without a word: say why, stay up
            self._release()
            self.failure = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
            self.get_logger().error(f"configure failed: {self.failure}")
            return TransitionCallbackReturn.FAILURE
        self.failure = ""
        return super().on_configure(state)

    def _configure(self) -> None:
        self._startup, self._runtime = parameters.read(self)
        self._tracker = RGBTTracker(self._startup.tracker_config())
        self._last_debug = 0.0
        self._last_code = 0  # the ~/state byte last published (~/init_box only_when_lost reads it)
        self._frame_sizes: dict[str, Size] = {}  # (width, height) of each camera's last converted frame
        publisher = self._configured_publisher
        self._target_pub = publisher(PolygonStamped, private(TARGET_TOPIC), OUTPUT_QOS)
        self._score_pub = publisher(Float32, private(SCORE_TOPIC), OUTPUT_QOS)
        self._state_pub = publisher(UInt8, private(STATE_TOPIC), OUTPUT_QOS)
        self._result_pub = publisher(DiagnosticArray, private(RESULT_TOPIC), OUTPUT_QOS)
        self._debug_pub = publisher(Image, private(DEBUG_IMAGE_TOPIC), DEBUG_QOS)
        self._diagnostics_pub = publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, OUTPUT_QOS)
        self._session = NodeSession(
            self._tracker, self, pairing=self._runtime.pairing, buffer_seconds=self._runtime.buffer_seconds,
            buffer_megabytes=self._runtime.buffer_megabytes,
            init_box=self._runtime.init_box, log=_RosSessionLog(self.get_logger()),
            topics={camera: self._input_topic(camera) for camera in CAMERAS},
        )
        # Reentrant: every waiting request is taken at once and queued on the request thread (an
        # exclusive group would take the next only after the previous one's answer).
        self._requests = RequestWorker(self._request_failed)
        services = ReentrantCallbackGroup()
        self._configured += [
            self.create_service(SetCameraInfo, private(INIT_TARGET_SERVICE), self._on_init_target,
                                qos_profile=SERVICE_QOS, callback_group=services),
            self.create_service(Trigger, private(RESET_SERVICE), self._on_reset, qos_profile=SERVICE_QOS,
                                callback_group=services),
            self.create_subscription(PolygonStamped, private(INIT_BOX_TOPIC), self._on_init_box,
                                     init_box_qos(self._startup.init_box_reliability),
                                     callback_group=services),
            self.create_timer(1.0, self._publish_diagnostics, callback_group=MutuallyExclusiveCallbackGroup()),
        ]
        self._worker = threading.Thread(target=self._work, name="rgbt_tracker_worker", daemon=True)
        self._worker.start()
        self.get_logger().info(f"configured: model {self._tracker.name} on {self._tracker.provider}")

    def _configured_publisher(self, msg_type, topic: str, qos):
        """A lifecycle publisher: it publishes only while the node is active."""
        publisher = self.create_lifecycle_publisher(msg_type, topic, qos)
        self._configured.append(publisher)
        return publisher

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to the cameras and publish."""
        self._subscriptions_by_camera = self._create_camera_subscriptions()
        self.get_logger().info(
            f"tracking with model {self._tracker.name} on {self._tracker.provider}; inputs "
            f"{self._input_topic(VISIBLE)} and {self._input_topic(THERMAL)} ({self._startup.reliability}, "
            f"depth {self._startup.depth})"
        )
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop publishing and drop the camera subscriptions; the session (target, buffered pairs) stays."""
        result = super().on_deactivate(state)
        self._drop_camera_subscriptions()
        self.get_logger().info("deactivated: cameras unsubscribed, outputs stopped; the session is kept")
        return result

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Free the tracker's sessions, the pair buffer and the outputs: back to unconfigured."""
        self._release()
        self.get_logger().info("cleaned up: tracker, buffers and outputs freed")
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """From any state: release everything; main() then exits 0."""
        self._drop_camera_subscriptions()
        self._release()
        self.finished = True
        self.get_logger().info("shut down")
        return super().on_shutdown(state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """A transition raised: release what was built and go back to unconfigured."""
        self._drop_camera_subscriptions()
        self._release()
        self.get_logger().error(f"a lifecycle transition from {state.label} failed; the node is unconfigured")
        return super().on_error(state)

    def _release(self) -> None:
        """Stop the threads, then destroy what configure created (the worker publishes: it goes first)."""
        if self._requests is not None:
            self._requests.stop()
        if self._session is not None:
            self._session.stop()
        if self._worker is not None and self._worker.is_alive():
            self._worker.join(timeout=5.0)
        for entity in reversed(self._configured):
            self._destroy(entity)
        self._configured = []
        self._session = self._worker = self._requests = self._tracker = None

    def _destroy(self, entity) -> None:
        if isinstance(entity, LifecyclePublisher):
            self.destroy_lifecycle_publisher(entity)
        elif isinstance(entity, Service):
            self.destroy_service(entity)
        elif isinstance(entity, Timer):
            self.destroy_timer(entity)
        else:
            self.destroy_subscription(entity)

    def destroy_node(self) -> None:
        self._drop_camera_subscriptions()
        self._release()
        if getattr(self, "_log_bridge", None) is not None:
            logging.getLogger("rgbt_tracker_ros").removeHandler(self._log_bridge)
        super().destroy_node()

    # ------------------------------------------------------------------ inputs

    def _create_camera_subscriptions(self) -> dict:
        """{camera: subscription}, in one mutually exclusive group."""
        input_qos = QoSProfile(
            depth=self._startup.depth, history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE,
            reliability=(ReliabilityPolicy.RELIABLE if self._startup.reliability == "reliable"
                         else ReliabilityPolicy.BEST_EFFORT),
        )
        inputs = MutuallyExclusiveCallbackGroup()
        return {camera: self._subscribe(camera, input_qos, inputs) for camera in CAMERAS}

    def _drop_camera_subscriptions(self) -> None:
        for subscription in getattr(self, "_subscriptions_by_camera", {}).values():
            self.destroy_subscription(subscription)
        self._subscriptions_by_camera = {}
        for decoder in getattr(self, "_decoders", {}).values():
            decoder.stop()
        self._decoders = {}

    def _input_topic(self, camera: str) -> str:
        """The camera's topic, resolved (namespace, remapping); with `<camera>.transport` compressed,
        `<topic>/compressed` (image_transport's name: the remapped topic, then /compressed)."""
        topic = self.resolve_topic_name(INPUT_TOPICS[camera])
        return topic + COMPRESSED_SUFFIX if self._startup.transports[camera] == "compressed" else topic

    def _subscribe(self, camera: str, qos: QoSProfile, group):
        """Image on the camera's topic; with `<camera>.transport` compressed, CompressedImage on
        `<topic>/compressed`, decoded on the camera's decoder thread."""
        if self._startup.transports[camera] == "raw":
            return self.create_subscription(Image, INPUT_TOPICS[camera], partial(self._on_image, camera), qos,
                                            callback_group=group)
        self._decoders[camera] = NewestDecoder(
            f"rgbt_tracker_decode_{camera}", CONVERTERS[("compressed", camera)], partial(self._use_frame, camera),
            partial(self._reject, camera), self._decoding_failed)
        return self.create_subscription(CompressedImage, self._input_topic(camera),
                                        partial(self._on_compressed, camera), qos, callback_group=group)

    def _on_image(self, camera: str, msg: Image) -> None:
        received = time.monotonic()
        self._session.frame_received(camera)
        try:
            image = CONVERTERS[("raw", camera)](msg)
        except InputError as exc:
            self._session.reject(camera, str(exc), received)
            return
        self._use_frame(camera, msg, image, received)

    def _on_compressed(self, camera: str, msg: CompressedImage) -> None:
        """Stores the message only: the camera's decoder thread decodes the newest one."""
        self._session.frame_received(camera)
        if self._decoders[camera].put(msg, time.monotonic()):
            self.get_logger().warning(
                f"{camera} compressed frame replaced by a newer one before it was decoded (decoding falls behind; "
                f"{self._decoders[camera].superseded} so far)", throttle_duration_sec=5.0)

    def _use_frame(self, camera: str, msg, image: np.ndarray, received: float) -> None:
        self._frame_sizes[camera] = (int(image.shape[1]), int(image.shape[0]))
        self._session.add_frame(camera, stamp_to_ns(msg.header.stamp), CameraFrame(image, msg.header.frame_id),
                                received)

    def _reject(self, camera: str, reason: str, received: float) -> None:
        self._session.reject(camera, reason, received)

    def _decoding_failed(self, exc: Exception) -> None:
        self.get_logger().error(f"decoding a compressed image failed: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ tracking (worker thread)

    def _work(self) -> None:
        while True:
            work = self._session.next_work()
            if work is None:
                return
            try:
                self._session.process(work)
            except Exception as exc:  # keep the worker alive; a bug shows in the log, not as silence
                if not self.context.ok():
                    return  # shutting down (SIGINT/SIGTERM): the publishers are gone
                self.get_logger().error(f"tracking failed: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ outputs (session.Outputs)

    def publish_result(self, output: Output) -> None:
        # score and state first: a controller that reacts to ~/target has them already.
        self._score_pub.publish(Float32(data=output.score))
        self._state_pub.publish(UInt8(data=output.code))
        self._last_code = output.code
        box = output.target_box
        self._result_pub.publish(result_message(output.stamp_ns, output.frame_id, box, output.score, output.code,
                                                self._status_prefix))
        target = PolygonStamped(header=_header(output))
        if box is not None:
            x, y, w, h = (float(v) for v in box)
            target.polygon.points = [Point32(x=x, y=y), Point32(x=x + w, y=y),
                                     Point32(x=x + w, y=y + h), Point32(x=x, y=y + h)]
        self._target_pub.publish(target)

    def publish_debug(self, output: Output, now: float) -> bool:
        rate = self._runtime.debug_max_rate
        if rate <= 0.0 or now - self._last_debug < 1.0 / rate or self._debug_pub.get_subscription_count() == 0:
            return False
        self._last_debug = now
        visible, thermal = output.images
        background = visible
        if visible is None:
            view = self._session.thermal_view(thermal)
            if view is not None:  # show the thermal frame in the visible frame's pixels
                background = thermal_in_visible(thermal, *view)
        picture = render(background, thermal, output.shown_box, output.code, output.score)
        self._debug_pub.publish(image_to_msg(picture, "rgb8", _header(output)))
        return True

    def _publish_diagnostics(self) -> None:
        health = self._session.health(time.monotonic(), self._runtime.latency_warn_ms)
        homography = self._tracker.config.thermal_to_visible_matrix()
        health.model = f"{self._tracker.name} {self._tracker.model.version} ({self._tracker.model.directory})"
        health.provider = self._tracker.provider
        health.homography = ("default (scaling onto the visible size)" if homography is None
                             else str(np.round(homography, 6).tolist()))
        health.topics = {camera: self._input_topic(camera) for camera in CAMERAS}
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        name = f"{self._status_prefix}: tracker"  # e.g. "drone1/rgbt_tracker: tracker"
        status = diagnostics.to_status(health, name, self._tracker.provider)
        self._add_init_box_report(status, time.monotonic())
        # Compressed cameras only, counted since the node was activated.
        status.values.extend(KeyValue(key=f"{camera} compressed frames replaced before decoding",
                                      value=str(decoder.superseded)) for camera, decoder in self._decoders.items())
        array.status = [status]
        self._diagnostics_pub.publish(array)

    def _add_init_box_report(self, status: DiagnosticStatus, now: float) -> None:
        """The ~/init_box counts, and a recent refusal as a warning (a topic has no response)."""
        status.values.extend(KeyValue(key=k, value=v) for k, v in self._init_box_report.values(now))
        refusal = self._init_box_report.recent_refusal(now)
        if refusal:
            status.level = max(status.level, DiagnosticStatus.WARN)
            status.message = f"{status.message}; ~/init_box refused: {refusal}"

    # ------------------------------------------------------------------ services

    async def _on_init_target(self, request: SetCameraInfo.Request, response: SetCameraInfo.Response):
        roi = request.camera_info.roi
        box = (float(roi.x_offset), float(roi.y_offset), float(roi.width), float(roi.height))
        stamp_ns = stamp_to_ns(request.camera_info.header.stamp)
        answer = await self._request(partial(self._session.init_target, box, stamp_ns), key=INIT_TARGET_SERVICE,
                                     superseded=lambda: (False, SUPERSEDED))
        if isinstance(answer, Exception):
            answer = (False, f"failed: {type(answer).__name__}: {answer}")
        response.success, response.status_message = answer
        text = f"init_target {list(box)}: {response.status_message}"
        if response.success:
            self.get_logger().info(text)
        else:
            self.get_logger().warning(text)
        return response

    async def _on_reset(self, request: Trigger.Request, response: Trigger.Response):
        answer = await self._request(self._session.reset)
        response.success = not isinstance(answer, Exception)
        response.message = str(answer) if response.success else f"failed: {type(answer).__name__}: {answer}"
        self.get_logger().info(f"reset: {response.message}")
        return response

    # ------------------------------------------------------------------ ~/init_box (ros/init_box_topic.py)

    def _on_init_box(self, msg: PolygonStamped) -> None:
        """Executor thread: read the box, hand it to the request thread (a newer box supersedes it)."""
        self._init_box_report.count("received")
        try:
            box = box_from_corners(msg.polygon.points)
        except InputError as exc:
            self._refuse_init_box([(p.x, p.y) for p in msg.polygon.points], str(exc))
            return
        run = partial(self._init_from_box, box, stamp_to_ns(msg.header.stamp))
        self._requests.submit(Request(run, key=INIT_BOX_TOPIC,
                                      superseded=partial(self._init_box_report.count, "superseded")))

    def _init_from_box(self, box, stamp_ns: int) -> None:
        """Request thread: the init_target service's checks and catch-up, for a box from the topic."""
        only_when_lost = self._runtime.init_box_only_when_lost
        if ignored_while_followed(self._session.tracking, self._last_code, only_when_lost):
            self._init_box_report.count("ignored")
            return
        reason = parameters.init_box_problem(box, self._box_frame_size(), self._tracker.config.min_box)
        if reason is not None:
            self._refuse_init_box(list(box), reason)
            return
        ok, message = self._session.init_target(box, stamp_ns)
        if not ok:
            self._refuse_init_box(list(box), message)
            return
        self._init_box_report.count("used")
        self.get_logger().info(f"~/init_box {[round(v, 1) for v in box]}: {message}")

    def _refuse_init_box(self, box, reason: str) -> None:
        self._init_box_report.refused(reason, time.monotonic())
        self.get_logger().warning(f"~/init_box {box} refused: {reason}")

    def _request(self, run, key: str | None = None, superseded=None) -> Future:
        """`run` on the request thread; a future the service coroutine awaits (the executor thread goes
        on serving callbacks meanwhile) and that wakes the executor when the answer is there."""
        executor = self.executor
        future = Future(executor=executor)

        def answer(result) -> None:
            future.set_result(result)
            if executor is not None:
                executor.wake()

        if not self._requests.submit(Request(run, answer, key, superseded)):
            future.set_result(RuntimeError("the node is shutting down"))
        return future

    def _request_failed(self, request: Request, exc: Exception) -> None:
        self.get_logger().error(f"request failed: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ parameters

    def _candidate_settings(self, changed):
        values = {spec.name: self.get_parameter_or(spec.name).value for spec in parameters.SPECS}
        values.update({p.name: p.value for p in changed})
        return parameters.settings_from(values)

    def _validate_parameters(self, changed) -> SetParametersResult:
        try:
            _, runtime = self._candidate_settings(changed)
        except (InputError, ValueError) as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        if any(p.name == "init_box" for p in changed) and runtime.init_box is not None and self._tracker is not None:
            reason = parameters.init_box_problem(runtime.init_box, self._box_frame_size(),
                                                 self._tracker.config.min_box)
            if reason is not None:
                return SetParametersResult(successful=False, reason=f"parameter {reason}")
        return SetParametersResult(successful=True)

    def _box_frame_size(self) -> Size | None:
        """The size of the image boxes are given in, from the last frames: the visible camera's, else
        the thermal camera's (mapped by thermal_to_visible when it is set); None before any frame."""
        if VISIBLE in self._frame_sizes:
            return self._frame_sizes[VISIBLE]
        thermal = self._frame_sizes.get(THERMAL)
        homography = self._tracker.config.thermal_to_visible_matrix()
        if thermal is None or homography is None:
            return thermal
        return mapped_extent(homography, thermal)

    def _apply_parameters(self, changed) -> None:
        _, runtime = self._candidate_settings([])
        self._runtime = runtime
        if self._session is None:
            return  # unconfigured: configure reads them
        self._session.update(runtime.pairing, runtime.buffer_seconds, runtime.buffer_megabytes)
        if any(p.name == "init_box" for p in changed) and runtime.init_box is not None:
            # On the request thread: request_init waits for the tracker, the executor must not.
            self._requests.submit(Request(partial(self._session.request_init, runtime.init_box)))


class _RosSessionLog(SessionLog):
    """The session's messages in the node's ROS log; rejected frames at most every 5 s."""

    def __init__(self, ros_logger):
        self._ros_logger = ros_logger

    def info(self, text: str) -> None:
        self._ros_logger.info(text)

    def warning(self, text: str) -> None:
        self._ros_logger.warning(text)

    def error(self, text: str) -> None:
        self._ros_logger.error(text)

    def rejected(self, text: str) -> None:
        self._ros_logger.warning(text, throttle_duration_sec=5.0)


def _header(output: Output) -> Header:
    return Header(stamp=ns_to_stamp(output.stamp_ns), frame_id=output.frame_id)


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


def _log_cleaning(cleaned: CleanResult) -> None:
    logger = rclpy.logging.get_logger(NODE_NAME)
    if cleaned.segments or cleaned.ports:
        logger.info(f"removed the shared-memory files of dead Fast DDS participants: {cleaned.segments} "
                    f"segments, {cleaned.ports} ports")
    elif not cleaned.ran and cleaned.detail != NOT_INSTALLED:
        logger.warning(f"fastdds shm clean failed: {cleaned.detail}")


SHUTDOWN_GRACE_S = 10.0  # from the end of spinning to the process's exit


def _start(node: TrackerNode) -> bool:
    """autostart: configure and activate, as an unmanaged node starts (False: configure failed)."""
    if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
        node.failure = node.failure or "configure failed (see the log)"
        return False
    if node.trigger_activate() != TransitionCallbackReturn.SUCCESS:
        node.failure = "activate failed (see the log)"
        return False
    return True


def main(args: list[str] | None = None) -> int:
    stop = StopSignals()  # before rclpy starts any thread: SIGINT/SIGTERM become a stop request
    # Every way of starting the node (launch, the tracker_node executable, python -m) gets the shipped
    # profile and keeps DDS on loopback; rcl reads these variables in rclpy.init.
    apply_shipped_profile(os.environ)
    # A killed predecessor (launch respawn=True) left its segments in /dev/shm; before ours exist.
    cleaned = clean_stale_segments()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    _log_cleaning(cleaned)
    if (problem := profile_problem(os.environ)) is not None:
        rclpy.logging.get_logger(NODE_NAME).warning(problem)
    try:
        node = TrackerNode()
    except ParameterException as exc:  # a value of the wrong type, refused when it is declared
        rclpy.logging.get_logger(NODE_NAME).fatal(f"cannot start: {exc}")
        rclpy.try_shutdown()
        return 1
    if node.autostart and not _start(node):
        rclpy.logging.get_logger(NODE_NAME).fatal(f"cannot start: {node.failure}")
        node.destroy_node()
        rclpy.try_shutdown()
        return 1
    # One executor thread for the callbacks (they only convert, pair and buffer; the tracking runs on
    # the node's own worker thread, the service requests on the request thread). rclpy's
    # MultiThreadedExecutor spent most of the GIL on its own bookkeeping here: node-bench at 30 Hz
    # processed 15 Hz with p95 150 ms, against 30 Hz and p95 16 ms with this one.
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    wake = node.create_guard_condition(lambda: None)  # a stop signal ends the wait of spin_once
    stop.on_stop(wake.trigger)
    try:
        while not stop.requested and not node.finished:  # finished: the shutdown transition
            executor.spin_once()
    except ExternalShutdownException:  # the context was shut down by someone else
        pass
    finally:
        stop.on_stop(None)
        # A stopped node must exit, not wait for SIGKILL: if the teardown below or the interpreter's
        # own (DDS participants, ONNX Runtime threads) hangs, print every thread's stack and exit 1.
        faulthandler.dump_traceback_later(SHUTDOWN_GRACE_S, exit=True)
        executor.shutdown(timeout_sec=SHUTDOWN_GRACE_S / 2)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
