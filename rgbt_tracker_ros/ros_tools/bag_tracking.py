"""The node's session run over a recorded bag, offline: `rgbt-tracker track --bag`.

The frames go, in the order they were recorded, through the node's own pieces: the image
conversion (ros/image_conversion.py: raw Image or CompressedImage, by the topic's type), the pairing, the pair buffer and the session
(ros/node_session.py), with the same tracker. No DDS and no waiting: each pair is tracked as soon
as it is complete, so every pair is processed (a node drops pairs only when it falls behind), and
the session's clock is the recording's receive time of the frame at hand.

Initialisation is the node's too: a box alone is the `init_box` parameter (the first pair); a box
with a stamp is an `~/init_target` call that arrives when the pair after that stamp's pair has come
in, so the session initialises on that buffered pair and catches up through the next one, as the
node does for a call that comes one frame or more after its frame (docs/ros_node.md). Without a
box, the bag's ground truth gives it: at the stamp, or else on the first processed pair stamped
like a ground-truth box (a single-camera bag pairs nothing for its first camera_timeout).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.bags import messages
from rgbt_tracker_ros.data.bags.storage import BagWriter, Topic, open_bag, read_messages
from rgbt_tracker_ros.data.bags.topics import BagTopics, find_topics
from rgbt_tracker_ros.ros.image_conversion import CONVERTERS
from rgbt_tracker_ros.ros.names import NODE_NAME, SCORE_TOPIC, STATE_TOPIC, TARGET_TOPIC
from rgbt_tracker_ros.ros.node_session import CameraFrame, NodeSession, Output, SessionLog
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE, PairingSettings
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

Box = tuple[float, float, float, float]
# The node's outputs as a bag holds them: the default node name at the root namespace.
OUTPUT_TOPICS = {name: f"/{NODE_NAME}/{name}" for name in (TARGET_TOPIC, SCORE_TOPIC, STATE_TOPIC)}


@dataclass(frozen=True)
class BagContents:
    """What a bag holds for tracking, read before the run: topics, ground truth, registration."""

    path: Path
    topics: BagTopics
    groundtruth: dict[int, np.ndarray]      # stamp -> annotated box (frames without annotation absent)
    homography: np.ndarray | None           # thermal pixel -> visible pixel, from /thermal_to_visible
    counts: dict[str, int]                  # messages per camera topic


@dataclass(frozen=True)
class BagTrackingSettings:
    pairing: PairingSettings = PairingSettings()
    buffer_seconds: float = 2.0
    init_box: Box | None = None         # None: the ground truth at init_stamp_ns (or of the first annotated pair)
    init_stamp_ns: int | None = None    # None with a box: the first pair (the node's init_box)


@dataclass(frozen=True)
class TrackedPair:
    """One processed pair, as the node publishes it."""

    stamp_ns: int                # the outputs' header stamp (the visible frame's, else the thermal one's)
    frame_id: str
    received_ns: int             # receive time of the frame that completed the pair (the bag's log time)
    box: np.ndarray | None       # the tracker's box in visible pixels; None while idle
    target: np.ndarray | None    # what `~/target` carries; None: the empty polygon (idle, lost)
    score: float
    code: int                    # the `~/state` byte


@dataclass
class BagRun:
    contents: BagContents
    pairs: list[TrackedPair] = field(default_factory=list)
    init_index: int | None = None       # index in `pairs` of the pair the target was initialised on
    init_answer: str = ""               # what the session said (init_target's sentence)
    frames: dict[str, int] = field(default_factory=lambda: {VISIBLE: 0, THERMAL: 0})
    rejected: list[str] = field(default_factory=list)
    seconds: float = 0.0                # wall time of the run


def read_contents(path: str | Path, visible_topic: str | None = None, thermal_topic: str | None = None) -> BagContents:
    path = Path(path)
    with open_bag(path) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        topics = find_topics(types, visible_topic, thermal_topic)
        counts = {t: sum(c.msgcount for c in reader.connections if c.topic == t) for t in topics.cameras}
        groundtruth: dict[int, np.ndarray] = {}
        homography = None
        extras = [t for t in (topics.groundtruth, topics.homography) if t is not None]
        for topic, _, message in read_messages(reader, extras):
            if topic == topics.homography:
                homography = messages.matrix_of(message)
                continue
            box = messages.box_of_polygon(message)
            if np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0:
                groundtruth[messages.stamp_ns(message)] = box
    return BagContents(path, topics, groundtruth, homography, counts)


def initialisation(contents: BagContents, box: Box | None, stamp_ns: int | None) -> tuple[Box | None, int | None]:
    """(box, stamp) to initialise with: (box, None) is the first pair; a missing box comes from the
    ground truth at the stamp; (None, None) means the first processed pair that has ground truth."""
    if box is not None:
        return box, stamp_ns
    if not contents.groundtruth:
        raise InputError(f"bag {contents.path} has no ground truth (/groundtruth) to initialise from: give --init X,Y,W,H")
    if stamp_ns is None:
        return None, None
    if stamp_ns not in contents.groundtruth:
        raise InputError(f"the bag's ground truth has no box stamped {_fmt(stamp_ns)}: give --init X,Y,W,H")
    return tuple(float(v) for v in contents.groundtruth[stamp_ns]), stamp_ns


class _Collect:
    """The session's Outputs: every result as a TrackedPair (not the Output, which holds the images),
    no debug image."""

    def __init__(self, received: Callable[[], int]):
        self.pairs: list[TrackedPair] = []
        self._received = received

    def publish_result(self, output: Output) -> None:
        self.pairs.append(_tracked(self._received(), output))

    def publish_debug(self, output: Output, now: float) -> bool:
        return False


class _Log(SessionLog):
    def __init__(self, rejected: list[str]):
        self._rejected = rejected

    def rejected(self, text: str) -> None:
        self._rejected.append(text)


def track_bag(contents: BagContents, tracker: RGBTTracker, settings: BagTrackingSettings,
              on_message: Callable[[], None] | None = None) -> BagRun:
    """Run the node's session over the bag's camera topics (module docstring)."""
    box, init_stamp = initialisation(contents, settings.init_box, settings.init_stamp_ns)
    first_pair = box is not None and init_stamp is None      # the node's init_box
    from_groundtruth = box is None                             # the first pair with ground truth
    run = BagRun(contents)
    clock = {"first": None, "now": 0}
    collect = _Collect(lambda: clock["now"])
    session = NodeSession(
        tracker, collect, pairing=settings.pairing, buffer_seconds=settings.buffer_seconds,
        init_box=box if first_pair else None, log=_Log(run.rejected),
        clock=lambda: (clock["now"] - clock["first"]) / 1e9 if clock["first"] is not None else 0.0,
    )
    cameras = {contents.topics.visible: VISIBLE, contents.topics.thermal: THERMAL}
    pending_init = init_stamp
    started = time.perf_counter()
    with open_bag(contents.path) as reader:
        for topic, log_time, message in read_messages(reader, contents.topics.cameras):
            if on_message is not None:
                on_message()
            if clock["first"] is None:
                clock["first"] = log_time
            clock["now"] = log_time
            now = (log_time - clock["first"]) / 1e9
            camera = cameras[topic]
            run.frames[camera] += 1
            session.frame_received(camera)
            try:
                image = CONVERTERS[(messages.TRANSPORT_OF[message.__msgtype__], camera)](message)
            except InputError as exc:
                session.reject(camera, str(exc), now)
                continue
            work = session.add_frame(camera, messages.stamp_ns(message), CameraFrame(image, message.header.frame_id),
                                     now)
            if work is None:
                continue
            if pending_init is not None and work.pair.stamp_ns > pending_init + _tolerance(settings):
                _init_target(session, run, collect, box, pending_init)
                pending_init = None
            elif from_groundtruth and work.pair.stamp_ns in contents.groundtruth:
                # Initialised (as ~/init_target) once the next pair is in, like an explicit stamp.
                box, pending_init, from_groundtruth = tuple(contents.groundtruth[work.pair.stamp_ns]), work.pair.stamp_ns, False
            queued = session.next_work(block=False)
            if queued is not None:
                session.process(queued)
    if pending_init is not None:  # the init stamp's pair is the last one
        _init_target(session, run, collect, box, pending_init)
    if from_groundtruth:
        raise InputError(f"no processed pair of bag {contents.path} is stamped like a ground-truth box: give --init X,Y,W,H")
    run.seconds = time.perf_counter() - started
    run.pairs = collect.pairs
    if first_pair and run.pairs:
        run.init_index, run.init_answer = 0, f"initialised from init_box {list(box)} on the first pair"
    return run


def _tolerance(settings: BagTrackingSettings) -> int:
    """How far a pair's stamp may be from the init stamp and still be that stamp's pair (init_target's)."""
    return max(int(settings.pairing.slop * 1e9), 1_000_000)


def _init_target(session: NodeSession, run: BagRun, collect: _Collect, box: Box, stamp_ns: int) -> None:
    before = len(collect.pairs)
    ok, answer = session.init_target(box, stamp_ns)
    if not ok:
        raise InputError(f"cannot initialise on the pair stamped {_fmt(stamp_ns)}: {answer}")
    run.init_answer = answer
    # The init pair was processed (idle) when it came in: the output closest to the stamp before the call.
    earlier = [abs(pair.stamp_ns - stamp_ns) for pair in collect.pairs[:before]]
    run.init_index = int(np.argmin(earlier)) if earlier else None


def _tracked(received: int, output: Output) -> TrackedPair:
    box = None if output.box is None else np.asarray(output.box, dtype=np.float64).copy()
    target = output.target_box
    return TrackedPair(output.stamp_ns, output.frame_id, received, box,
                       None if target is None else np.asarray(target, dtype=np.float64).copy(),
                       float(output.score), int(output.code))


def write_boxes_with_stamps(path: str | Path, run: BagRun) -> None:
    """One line per processed pair: `stamp,x,y,w,h,score,state` (stamp in seconds with 9 decimals,
    the box NaN while idle, the state byte of `~/state`)."""
    lines = ["# stamp,x,y,w,h,score,state (one line per processed pair; box NaN while idle)\n"]
    for pair in run.pairs:
        box = pair.box if pair.box is not None else np.full(4, np.nan)
        numbers = ",".join("NaN" if not np.isfinite(v) else f"{v:.3f}" for v in box)
        lines.append(f"{_fmt(pair.stamp_ns)},{numbers},{pair.score:.4f},{pair.code}\n")
    Path(path).write_text("".join(lines))


def write_output_bag(run: BagRun, output: str | Path, storage: str | None = None) -> dict[str, int]:
    """A bag of the node's outputs for every processed pair, in the node's order (score, state,
    target), recorded at the receive time of the frame that completed the pair; messages per topic."""
    writer = BagWriter(output, storage)
    with writer:
        writer.add_topic(Topic(OUTPUT_TOPICS[TARGET_TOPIC], messages.POLYGON_STAMPED))
        writer.add_topic(Topic(OUTPUT_TOPICS[SCORE_TOPIC], messages.FLOAT32))
        writer.add_topic(Topic(OUTPUT_TOPICS[STATE_TOPIC], messages.UINT8))
        for pair in run.pairs:
            writer.write(OUTPUT_TOPICS[SCORE_TOPIC], pair.received_ns, messages.float32(pair.score))
            writer.write(OUTPUT_TOPICS[STATE_TOPIC], pair.received_ns, messages.uint8(pair.code))
            writer.write(OUTPUT_TOPICS[TARGET_TOPIC], pair.received_ns,
                         messages.polygon_box(pair.target, pair.stamp_ns, pair.frame_id))
    return dict(writer.counts)


def _fmt(stamp_ns: int) -> str:
    sec, nsec = divmod(int(stamp_ns), 1_000_000_000)
    return f"{sec}.{nsec:09d}"
