"""The tracker node's session logic, without rclpy: what happens to each frame, pair and request.

`NodeSession` owns the pairer, the pair buffer, the diagnostics counters and the tracker's target,
and makes every decision the node takes (docs/ros_node.md); ros/tracker_node.py converts messages,
calls it from its callbacks and worker thread, and publishes the `Output`s it hands back.

- Catch-up: only the newest pair is tracked. A pair that arrives while the worker is busy replaces
  the waiting one (counted as dropped), so no backlog builds up; `init_target` initialises on a
  buffered pair and tracks through the buffered pairs after it to reach the present, and the worker
  skips the pairs that catch-up already tracked.
- Stamps: a stamp earlier than its camera's previous one restarts the pairing and the pair buffer
  (a new epoch: work from the old timeline is not confused with the new); a repeated stamp is
  dropped by the pairer; a pair not newer than the newest buffered one (the pair's stamp switches
  camera when one drops out or comes back) is dropped.
- Camera return: the tracker ignores a camera absent at initialisation; the first time a complete
  pair is tracked confidently, the target is initialised again on both cameras at its current box
  (unless the returning camera's frame holds no information).
- Frames without information (black, saturated, uniform, frozen, non-finite: tracking/frame_check.py):
  the tracker sets such a camera aside for the frame; the session says so in the `~/state` flags
  (the same as a missing camera) and in /diagnostics (which camera, why, since how long). While
  idle, the session runs the same check itself, so diagnostics tell before initialisation.
- Frames the tracker cannot take: each frame goes through the tracker's own image checks
  (tracking.preprocessing) as it arrives, so a frame they refuse is rejected under its own camera and
  never reaches the tracker; it still pairs (CameraFrame.problem), and that pair is tracked on the
  other camera. A tracker error on a pair is reported and the pair's box held: it never ends the target.
- Frame sizes (ros/camera_resolution.py): a frame of another size than its camera's is not used
  (rejected, counted under its camera; the pair is tracked on the other camera); a camera that keeps
  sending a new size has changed its resolution: the target is initialised again on the current
  box, mapped into the new pixels when they are the boxes' pixels, and /diagnostics says so.
- Coordinate frames: boxes come in and go out in visible pixels. The tracker says whose pixels it
  works in (`RGBTTracker.box_camera`, `target_frame`); a target initialised on thermal alone without
  a configured homography is in thermal pixels there, and is mapped to the last visible frame's
  pixels through the default scaling (`tracking.geometry`), unless no visible frame was ever seen.
  The output's frame id is the visible camera's whenever the box is in visible pixels.

Threads: `_lock` guards the input side and the statistics (short sections only); `_tracker_lock`
guards the tracker (held through an inference); `_wake` hands the newest pair to the worker.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.common.native_memory import release_free_heap
from rgbt_tracker_ros.ros import diagnostics
from rgbt_tracker_ros.ros.camera_resolution import CameraResolution, ResolutionChange, scale_box
from rgbt_tracker_ros.ros.pair_buffer import DEFAULT_MAX_BYTES, PairBuffer, StampNotBuffered
from rgbt_tracker_ros.ros.pairing import CAMERAS, THERMAL, VISIBLE, ApproximateTimePairer, Pair, PairingSettings
from rgbt_tracker_ros.ros.state import State, encode, from_track_state
from rgbt_tracker_ros.tracking.frame_check import FrameCheck
from rgbt_tracker_ros.tracking.geometry import Size, default_thermal_to_visible, map_box
from rgbt_tracker_ros.tracking.preprocessing import as_thermal, as_visible_rgb
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

Box = tuple[float, float, float, float]
_MB = 1024 * 1024
# Freed heap memory beyond FREE_HEAP_KEPT_BYTES goes back to the system, checked by the worker every
# FREE_HEAP_CHECK_S, so the resident memory follows the frames held through and after a flood
# (common/native_memory.py). Not every frame mapped on its own (mallopt): at 1920x1080 that took the
# node from 13 to 65 ms per pair (page faults of each 6 MB frame).
FREE_HEAP_KEPT_BYTES = 32 * _MB
FREE_HEAP_CHECK_S = 1.0  # more often only re-faults the pages of the next frames (same flood peak at 0.25 s)
# What the tracker takes from each camera (the checks it runs itself), applied as frames arrive.
_TRACKER_INPUT = {VISIBLE: as_visible_rgb, THERMAL: as_thermal}


@dataclass(frozen=True)
class CameraFrame:
    """A converted camera frame: what the pairer carries for the node."""

    image: np.ndarray
    frame_id: str
    problem: str | None = None   # why the frame is not used (it still pairs, so the other camera's goes on)


@dataclass(frozen=True)
class Work:
    """A pair for the worker, with the epoch (timeline) it was paired in."""

    epoch: int
    pair: Pair


@dataclass(frozen=True)
class Output:
    """One processed pair, as the node publishes it (score, state, target; maybe a debug image)."""

    pair: Pair
    box: np.ndarray | None   # x, y, w, h in visible pixels (thermal pixels on a thermal-only robot); None: idle
    score: float
    state: State
    code: int                # the ~/state byte: state and missing-camera flags
    stamp_ns: int            # header stamp: the visible frame's, else the thermal frame's
    frame_id: str            # header frame_id (see NodeSession.output_frame)

    @property
    def target_box(self) -> np.ndarray | None:
        """The box for `~/target`; None (an empty polygon) unless tracking or uncertain."""
        reliable = self.state in (State.TRACKING, State.UNCERTAIN)
        return self.box if reliable and self.box is not None else None

    @property
    def shown_box(self) -> np.ndarray | None:
        """The box drawn on the debug image: any but a lost one."""
        return self.box if self.state != State.LOST else None

    @property
    def images(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        return images(self.pair)


class Outputs(Protocol):
    """Where the session's results go (the node: its publishers)."""

    def publish_result(self, output: Output) -> None:
        """Publish score, state and target, in this order."""

    def publish_debug(self, output: Output, now: float) -> bool:
        """Publish a debug image if one is due; True if one was published."""


class SessionLog:
    """Where the session's messages go (the node: its ROS logger); this one drops them."""

    def info(self, text: str) -> None:
        pass

    def warning(self, text: str) -> None:
        pass

    def error(self, text: str) -> None:
        pass

    def rejected(self, text: str) -> None:
        """A frame was rejected (may come at the camera's rate: the node throttles it)."""
        self.warning(text)


@dataclass(frozen=True)
class _Target:
    """What the session (not the tracker) keeps about the current target."""

    to_visible: np.ndarray | None   # tracker box -> visible pixels, for a thermal-pixel target (None: as is)
    in_visible_pixels: bool         # False only on a thermal-only robot
    cameras: tuple[bool, bool]      # (visible, thermal) present at initialisation
    sizes: dict[str, Size]          # the frame sizes the target's geometry holds for, per camera it depends on

    @property
    def box_camera(self) -> str:
        """Whose pixels the session's boxes are in."""
        return VISIBLE if self.in_visible_pixels else THERMAL


class NodeSession:
    """The node's decisions, in plain Python: see the module docstring. Thread-safe."""

    def __init__(self, tracker: RGBTTracker, outputs: Outputs, *, pairing: PairingSettings,
                 buffer_seconds: float, buffer_megabytes: float = DEFAULT_MAX_BYTES / _MB,
                 init_box: Box | None = None, topics: dict[str, str] | None = None,
                 log: SessionLog | None = None, clock: Callable[[], float] = time.monotonic):
        self._tracker = tracker
        self._outputs = outputs
        self._log = log or SessionLog()
        self._clock = clock
        self._topics = dict(topics or {camera: camera for camera in CAMERAS})
        now = clock()
        self._lock = threading.Lock()
        self._tracker_lock = threading.Lock()
        self._wake = threading.Condition()
        self._stopping = False
        self._pairer = ApproximateTimePairer(pairing, now)
        self._buffer = PairBuffer(buffer_seconds, max_bytes=round(buffer_megabytes * _MB))
        self._heap_checked = now
        self._pending: Work | None = None              # newest pair not yet taken by the worker
        self._epoch = 0                                  # bumped when time goes back
        self._target: _Target | None = None
        self._init_request: Box | None = init_box        # init_box: applied to the next pair
        self._last_done: tuple[int, int] | None = None   # (epoch, stamp) of the last tracked pair
        self._visible_geometry: tuple[Size, str] | None = None  # ((w, h), frame_id) of the last visible frame
        follow = tracker.config.thermal_to_visible is None  # a calibration holds for the sizes it was made at
        self._resolutions = {camera: CameraResolution(camera, follow) for camera in CAMERAS}
        self._last: tuple[np.ndarray, State] | None = None  # the last box published for the target, its state
        self._stats = diagnostics.Counters(now)
        self._idle_check = FrameCheck(tracker.frame_check.config)  # the tracker's check while there is no target

    # ------------------------------------------------------------------ inputs (callbacks)

    def frame_received(self, camera: str) -> None:
        """Count a message as it arrives, before it is converted."""
        with self._lock:
            self._stats.received[camera] += 1

    def reject(self, camera: str, reason: str, now: float) -> None:
        """A frame that could not be used: counted, reported in diagnostics for a while, logged."""
        with self._lock:
            self._count_rejection(camera, reason, now)
        self._log.rejected(f"{camera} frame rejected: {reason}")

    def _count_rejection(self, camera: str, reason: str, now: float) -> None:
        """Called under _lock."""
        self._stats.rejected[camera] += 1
        self._stats.last_rejection = (now, reason if reason.startswith(camera) else f"{camera}: {reason}")

    def add_frame(self, camera: str, stamp_ns: int, frame: CameraFrame, received: float) -> Work | None:
        """Pair a converted frame; a new pair is buffered and becomes the worker's next work (returned)."""
        admission = None
        try:
            frame = CameraFrame(_TRACKER_INPUT[camera](frame.image), frame.frame_id)
            problem = None
        except InputError as exc:
            problem = str(exc)
        with self._lock:
            if problem is None:
                admission = self._resolutions[camera].admit(_size(frame.image))
                problem = admission.problem
            if problem is not None:
                frame = CameraFrame(frame.image, frame.frame_id, problem)
                self._count_rejection(camera, problem, received)
            if admission is not None and admission.change is not None:
                self._stats.last_resolution_change = (received, str(admission.change))
            work = self._pair(camera, stamp_ns, frame, received)
        if problem is not None:
            self._log.rejected(f"{camera} frame rejected: {problem}")
        if admission is not None and admission.change is not None:
            self._log.warning(f"{admission.change}: followed")
        if work is None:
            return None
        with self._wake:
            if self._pending is not None:  # the newest pair wins: the waiting one is dropped
                with self._lock:
                    self._stats.dropped += 1
            self._pending = work
            self._wake.notify()
        return work

    def _pair(self, camera: str, stamp_ns: int, frame: CameraFrame, received: float) -> Work | None:
        """Called under _lock: the frame into the pairer; a new pair into the buffer, as work."""
        backwards = self._pairer.stats.backwards[camera]
        pair = self._pairer.add(camera, stamp_ns, frame, received)
        if self._pairer.stats.backwards[camera] != backwards:
            self._time_went_back(camera, received)
        if camera == VISIBLE and frame.problem is None:
            self._visible_geometry = (_size(frame.image), frame.frame_id)
        if pair is None:
            return None
        newest = self._buffer.newest()
        if newest is not None and pair.stamp_ns <= newest.stamp_ns:
            # Only when a camera drops out or comes back (the pair's stamp switches camera): skip it.
            self._stats.dropped += 1
            return None
        self._buffer.push(pair)
        if pair.complete:
            self._stats.skew_sum_ms += pair.skew_ns / 1e6
            self._stats.skew_count += 1
        return Work(self._epoch, pair)

    def _time_went_back(self, camera: str, now: float) -> None:
        """Called under _lock: the pairer has restarted; the history belongs to the old timeline."""
        self._buffer.clear()
        self._epoch += 1
        self._stats.last_backwards = (now, camera)
        self._log.warning(f"{camera} stamps went backwards: pairing and the pair buffer restarted")

    # ------------------------------------------------------------------ tracking (worker thread)

    def next_work(self, block: bool = True) -> Work | None:
        """The newest pair not yet taken, waiting for one if `block`; None once stopped (or none waiting)."""
        with self._wake:
            while block and self._pending is None and not self._stopping:
                self._wake.wait()
            if self._stopping:
                return None
            work, self._pending = self._pending, None
            return work

    def stop(self) -> None:
        """Wake the worker for good: next_work() returns None from now on."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()

    def process(self, work: Work) -> None:
        """Track one pair (or publish idle), unless a catch-up already tracked it."""
        pair = work.pair
        with self._tracker_lock:
            if self._last_done is not None and (work.epoch, pair.stamp_ns) <= self._last_done:
                return  # already tracked during a catch-up
            self._last_done = (work.epoch, pair.stamp_ns)
            if self._init_request is not None:
                box, self._init_request = self._init_request, None
                try:
                    self._start(pair, box)
                    self._log.info(f"initialised from init_box {list(box)}")
                except InputError as exc:
                    self._log.error(f"init_box {list(box)} rejected: {exc}")
            if self._target is None:
                self._publish(pair, None, 0.0, State.IDLE, self._idle_content(pair))
            else:
                self._publish(pair, *self._track(pair))
        self._release_free_heap()

    def _release_free_heap(self) -> None:
        """Every FREE_HEAP_CHECK_S, on the worker thread (never on the camera callbacks')."""
        now = self._clock()
        if now - self._heap_checked >= FREE_HEAP_CHECK_S:
            self._heap_checked = now
            release_free_heap(FREE_HEAP_KEPT_BYTES)

    def _start(self, pair: Pair, box) -> dict[str, str]:
        """Initialise on `pair` with `box` in visible pixels (called under _tracker_lock); the cameras
        of the pair the tracker left out because their frame holds no information, with why."""
        visible, thermal = images(pair)
        mapped, to_visible = False, None
        if self._tracker.box_camera(visible is not None) == THERMAL:
            with self._lock:
                geometry = self._visible_geometry
            if geometry is not None:  # a visible camera was seen: keep the boxes in its pixels
                mapped, to_visible = True, default_thermal_to_visible(_size(thermal), geometry[0])
        tracker_box = np.asarray(box, dtype=np.float64)
        if to_visible is not None:
            tracker_box = map_box(tracker_box, np.linalg.inv(to_visible))
        self._tracker.initialize(visible, thermal, tracker_box)
        frame = self._tracker.target_frame
        sizes = {camera: _size(image) for camera, image, used in
                 ((VISIBLE, visible, frame.visible), (THERMAL, thermal, frame.thermal)) if used}
        if to_visible is not None:
            sizes[VISIBLE] = geometry[0]
        self._target = _Target(to_visible=to_visible, in_visible_pixels=frame.camera == VISIBLE or mapped,
                               cameras=(frame.visible, frame.thermal), sizes=sizes)
        self._last = (np.asarray(box, dtype=np.float64), State.TRACKING)
        return self._unused_content(visible, thermal, self._target)

    def _track(self, pair: Pair) -> tuple[np.ndarray | None, float, State, dict[str, str]]:
        """One frame through the tracker: box in visible pixels, score, state and the cameras whose
        frame held no information, with why (called under _tracker_lock). Never raises for the
        frame's content: what the tracker refuses is reported and the box held."""
        try:
            return self._track_frame(pair)
        except InputError as exc:  # the checks at input let nothing through that the tracker refuses
            camera = next((c for c in CAMERAS if str(exc).startswith(c)), None)
            text = f"tracking this pair failed: {exc}; the box is held"
            with self._lock:
                if camera is not None:
                    self._count_rejection(camera, str(exc), self._clock())
                else:
                    self._stats.last_rejection = (self._clock(), f"tracker: {exc}")
            self._log.error(text)
            return self._held()

    def _held(self) -> tuple[np.ndarray | None, float, State, dict[str, str]]:
        """No usable frame for the target: its last box, not to be trusted (a lost target stays lost)."""
        if self._target is None or self._last is None:
            return None, 0.0, State.IDLE, {}
        box, state = self._last
        return box.copy(), 0.0, State.LOST if state == State.LOST else State.UNCERTAIN, {}

    def _track_frame(self, pair: Pair) -> tuple[np.ndarray | None, float, State, dict[str, str]]:
        if self._target is None:  # ended by a resolution change during a catch-up
            return None, 0.0, State.IDLE, {}
        visible, thermal = images(pair)
        if not any(image is not None and known for image, known in zip((visible, thermal), self._target.cameras)):
            return self._held()  # no usable frame of a camera the target was initialised with
        if not self._follow_resolution(pair):
            return None, 0.0, State.IDLE, {}
        target = self._target
        result = self._tracker.track(visible, thermal)
        box = result.box if target.to_visible is None else map_box(result.box, target.to_visible)
        state = from_track_state(result.state)
        ignored = {**self._unused_content(visible, thermal, target), **result.ignored}
        # A camera absent at initialisation is ignored by the tracker: while confident, start over
        # on the current box with both, so a camera that comes back (with information) is used again.
        if visible is not None and thermal is not None and not all(target.cameras) and state == State.TRACKING \
                and not ignored:
            self._start(pair, box)
        self._last = (box, state)
        return box, result.score, state, ignored

    def _follow_resolution(self, pair: Pair) -> bool:
        """A camera whose frames now come at another size (camera_resolution confirmed it): initialise
        again on the current box, mapped into the new pixels when they are the boxes' pixels. False
        when that ends the target instead (it was lost: its box is not where it is)."""
        target = self._target
        changes = [ResolutionChange(camera, target.sizes[camera], _size(image))
                   for camera, image in zip(CAMERAS, images(pair))
                   if image is not None and camera in target.sizes and _size(image) != target.sizes[camera]]
        if camera_geometry := self._visible_geometry_change(target):
            changes.append(camera_geometry)
        if not changes:
            return True
        said = "; ".join(map(str, changes))
        box, state = self._last
        if state == State.LOST:
            self._target = None
            self._log.error(f"{said} while the target was lost: tracking stopped; initialise again")
            return False
        for change in changes:
            if change.camera == target.box_camera:
                box = np.asarray(scale_box(box, change.old, change.new))
        self._start(pair, box)
        self._log.warning(f"{said}: the target is initialised again on its box {np.round(box, 1).tolist()}")
        return True

    def _visible_geometry_change(self, target: _Target) -> ResolutionChange | None:
        """The visible camera's new size, for a thermal target whose boxes are mapped onto it."""
        if target.to_visible is None:
            return None
        with self._lock:
            geometry = self._visible_geometry
        if geometry is None or geometry[0] == target.sizes[VISIBLE]:
            return None
        return ResolutionChange(VISIBLE, target.sizes[VISIBLE], geometry[0])

    def _unused_content(self, visible, thermal, target: _Target) -> dict[str, str]:
        """Why the frames of cameras the target does not use hold no information (the tracker does
        not look at them), so diagnostics and the camera-return policy know."""
        if not self._tracker.frame_check.enabled:
            return {}
        unused = ((VISIBLE, visible, target.cameras[0]), (THERMAL, thermal, target.cameras[1]))
        return {camera: reason.value for camera, image, used in unused
                if image is not None and not used and (reason := self._tracker.frame_check.content(image)) is not None}

    def _idle_content(self, pair: Pair) -> dict[str, str]:
        """Without a target: the frame check on the pair's frames, for the flags and diagnostics."""
        if not self._idle_check.enabled:
            return {}
        looks = [self._idle_check.look(camera, image)
                 for camera, image in zip(CAMERAS, images(pair)) if image is not None]
        self._idle_check.remember(looks)
        return {look.camera: look.reason.value for look in looks if look.reason is not None}

    # ------------------------------------------------------------------ outputs

    def _publish(self, pair: Pair, box, score: float, state: State, ignored: dict[str, str]) -> None:
        """`ignored`: the pair's cameras whose frame held no information, with why."""
        cameras = self._target.cameras if self._target is not None else (True, True)
        present = tuple(image is not None for image in images(pair))
        used = [here and camera not in ignored and known for camera, here, known in zip(CAMERAS, present, cameras)]
        code = encode(state, *used)
        stamp_ns, frame_id = self.output_frame(pair)
        output = Output(pair, box, float(score), state, code, stamp_ns, frame_id)
        self._outputs.publish_result(output)
        now = self._clock()
        with self._lock:
            for camera, here in zip(CAMERAS, present):
                if here:
                    self._stats.content(camera, ignored.get(camera), now)
            self._stats.processed += 1
            self._stats.latency.add(1000.0 * (now - completed_at(pair)))
            self._stats.state, self._stats.score = code, float(score)
        if self._outputs.publish_debug(output, now):
            with self._lock:
                self._stats.debug_images += 1

    def output_frame(self, pair: Pair) -> tuple[int, str]:
        """(stamp, frame_id) of the outputs for `pair`: the visible frame's; without one the thermal
        stamp, and the visible camera's frame id while the box is in visible pixels."""
        if pair.visible is not None:
            return pair.visible.stamp_ns, pair.visible.payload.frame_id
        with self._lock:
            geometry = self._visible_geometry
        target = self._target
        in_visible_pixels = geometry is not None and (target is None or target.in_visible_pixels)
        return pair.thermal.stamp_ns, geometry[1] if in_visible_pixels else pair.thermal.payload.frame_id

    def thermal_view(self, thermal: np.ndarray) -> tuple[np.ndarray | None, Size] | None:
        """How a thermal frame is shown in the last visible frame's pixels: (homography, or None for
        the same pixels; visible size); None when no visible frame was seen."""
        with self._lock:
            geometry = self._visible_geometry
        if geometry is None:
            return None
        size = geometry[0]
        return default_thermal_to_visible(_size(thermal), size, self._tracker.config.thermal_to_visible_matrix()), size

    def health(self, now: float, latency_warn_ms: float) -> diagnostics.Health:
        """The diagnostics snapshot of this tick (the node adds model, provider, homography, topics)."""
        with self._lock:
            health = self._stats.health(now, self._pairer, latency_warn_ms,
                                        {camera: r.size for camera, r in self._resolutions.items()})
            health.pair_buffer = (len(self._buffer), self._buffer.span_s(), self._buffer.nbytes / _MB)
            return health

    # ------------------------------------------------------------------ requests (services, parameters)

    def init_target(self, box: Box, stamp_ns: int) -> tuple[bool, str]:
        """Initialise on the buffered pair stamped `stamp_ns` (0: the newest) and catch up through the
        pairs after it; (success, the sentence `~/init_target` answers with)."""
        with self._lock:
            if len(self._buffer) == 0:
                return False, "no frames yet: " + self._why_no_pairs()
            try:
                tolerance = max(int(self._pairer.settings.slop * 1e9), 1_000_000)
                pair = self._buffer.find(stamp_ns, tolerance) if stamp_ns else self._buffer.newest()
            except StampNotBuffered as exc:
                return False, str(exc)
            epoch, newest = self._epoch, self._buffer.newest()
            # Pairs that arrive during the catch-up are tracked too, but no more than twice the
            # buffer's pairs: a tracker slower than the cameras (a loaded CPU) would chase the present
            # for ever; the worker goes on from the newest pair.
            most_steps = 2 * len(self._buffer)
        started = self._clock()
        with self._tracker_lock:
            try:
                left_out = self._start(pair, box)
            except InputError as exc:
                return False, f"rejected: {exc}"
            self._init_request = None
            last, result, steps = pair, None, 0
            while steps < most_steps:  # catch up through the pairs after the box's one
                with self._lock:
                    following = self._buffer.after(last.stamp_ns) if self._epoch == epoch else []
                if not following:
                    break
                for later in following[:most_steps - steps]:
                    result, last, steps = self._track(later), later, steps + 1
            if result is None:
                result = self._track(pair)
            self._last_done = (epoch, last.stamp_ns)
            self._publish(last, *result)
        lag = (newest.stamp_ns - pair.stamp_ns) / 1e9
        without = "".join(f"; without the {camera} camera: its frame is {reason}" for camera, reason in left_out.items())
        return True, (
            f"tracking: initialised on the pair stamped {pair.stamp_ns / 1e9:.3f} ({lag:.3f} s before the newest), "
            f"caught up through {steps} buffered pairs in {self._clock() - started:.2f} s; "
            f"state {result[2].name.lower()}, score {result[1]:.2f}{without}"
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
            return (f"only {present} frames so far, nothing on {self._topics[missing[0]]}; "
                    f"tracking on {present} alone starts once {missing[0]} has been silent for "
                    f"{self._pairer.settings.camera_timeout:g} s")
        offset = self._pairer.measured_thermal_offset()
        measured = "" if offset is None else (f"; by their arrival times the thermal stamps are {offset:+.3f} s "
                                              "off the visible ones (sync.thermal_offset)")
        return f"frames arrive from both cameras but none has paired yet (stamps further apart than sync.slop?){measured}"

    def reset(self) -> str:
        """Stop tracking and cancel a pending init_box; what `~/reset` answers."""
        with self._tracker_lock:
            was_tracking = self._target is not None
            self._target, self._init_request = None, None
        return "tracking stopped" if was_tracking else "was not tracking; nothing to stop"

    def request_init(self, box: Box) -> None:
        """Initialise on the next pair with `box` (visible pixels): the init_box parameter."""
        with self._tracker_lock:
            self._init_request = box

    def update(self, pairing: PairingSettings, buffer_seconds: float, buffer_megabytes: float | None = None) -> None:
        """New run-time settings of the pairing and the pair buffer (`buffer_megabytes` None: unchanged)."""
        with self._lock:
            changed = pairing != self._pairer.settings  # a camera set aside gets a new chance to pair
            self._pairer.update(pairing, self._clock() if changed else None)
            self._buffer.resize(buffer_seconds, None if buffer_megabytes is None else round(buffer_megabytes * _MB))

    @property
    def tracking(self) -> bool:
        """True while there is a target."""
        return self._target is not None


def images(pair: Pair) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(visible, thermal) images of a pair of CameraFrames; None for a missing camera or a frame that is
    not used (CameraFrame.problem)."""
    return tuple(None if frame is None or frame.payload.problem is not None else frame.payload.image
                 for frame in (pair.visible, pair.thermal))


def completed_at(pair: Pair) -> float:
    """When the pair became complete: the later arrival of its frames (monotonic seconds)."""
    return max(f.received for f in (pair.visible, pair.thermal) if f is not None)


def _size(image: np.ndarray) -> Size:
    return int(image.shape[1]), int(image.shape[0])
