"""Publish a Sequence as the two camera topics, paced like real cameras.

Each frame k is "captured" at t0 + k / rate on a steady clock (no drift from sleeping); the visible
image is stamped with that instant, the thermal image with that instant plus an optional fixed
offset and a uniform jitter of +-jitter (independent per frame; data/camera_timing.py, the schedule
`rgbt-tracker bag` records too), and each message is published at its own stamp's instant. Stamps
are ROS time (system clock), as a camera driver would stamp them. Encodings (data/camera_images.py):
visible rgb8 (mono8 for grey sequences); thermal mono16 counts (8-bit sources scaled by 257 so
0..255 spans 0..65535), 32FC1 for float temperatures. With transport 'compressed', sensor_msgs/CompressedImage
on `<topic>/compressed` instead, as image_transport's compressed transport sends it: jpeg visible,
16-bit png thermal (float temperatures cannot be compressed). A recorded bag is played by bag_player.py.
"""

from __future__ import annotations

import array
import contextlib
import heapq
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import rclpy
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from rgbt_tracker_ros.common.compressed_images import encode as compress
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.camera_images import parse_size  # noqa: F401 (where `demo` imports it from)
from rgbt_tracker_ros.data.camera_images import thermal_payload, visible_payload
from rgbt_tracker_ros.data.camera_timing import CameraTiming, FrameClock
from rgbt_tracker_ros.data.readers import load_sequence
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.ros.image_conversion import TRANSPORTS, compressed_to_msg, image_to_msg, ns_to_stamp
from rgbt_tracker_ros.ros.names import COMPRESSED_SUFFIX, INPUT_TOPICS
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE
from rgbt_tracker_ros.ros.parameters import TRANSPORT_PARAMETERS
from rgbt_tracker_ros.tracking.geometry import default_thermal_to_visible, scaling_homography

QOS_CHOICES = ("sensor_data", "reliable")
COMPRESSED_CODECS = {VISIBLE: "jpeg", THERMAL: "png"}
# Compressed frames are encoded on a thread of their own this many frame periods ahead of their
# time (a 640x512 16-bit png takes 13 ms or more): the publishing loop never waits for an encoder.
ENCODE_AHEAD_PERIODS = 4
DISCOVERY_SETTLE_S = 0.3


@dataclass(frozen=True)
class PlayerSettings:
    """How a sequence is played. Times in milliseconds unless named otherwise."""

    rate_hz: float = 30.0
    loop: bool = False
    max_pairs: int | None = None            # stop after this many pairs (None: the sequence, once or looped forever)
    thermal_offset_ms: float = 0.0          # thermal stamp minus visible stamp
    jitter_ms: float = 0.0                  # extra thermal offset, uniform in [-jitter, +jitter] per frame
    thermal_size: tuple[int, int] | None = None  # (width, height) the thermal frames are resized to
    qos: str = "sensor_data"                # 'sensor_data' (best effort, depth 5) or 'reliable'
    depth: int = 5
    visible_topic: str = INPUT_TOPICS[VISIBLE]
    thermal_topic: str = INPUT_TOPICS[THERMAL]
    visible_frame_id: str = "visible_camera"
    thermal_frame_id: str = "thermal_camera"
    seed: int = 0                           # of the jitter
    wait_for_subscribers_s: float = 0.0     # wait this long for a subscriber on both topics first
    transport: str = "raw"                  # 'raw' (Image) or 'compressed' (CompressedImage on <topic>/compressed)
    encode_first: bool = False              # compressed: encode every frame before playing, kept in memory

    def __post_init__(self) -> None:
        self.timing  # checks rate, offset and jitter
        if self.transport not in TRANSPORTS:
            raise InputError(f"transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}")
        if self.max_pairs is not None and self.max_pairs < 1:
            raise InputError(f"max_pairs must be at least 1, got {self.max_pairs}")
        if self.qos not in QOS_CHOICES:
            raise InputError(f"qos must be one of {', '.join(QOS_CHOICES)}, got {self.qos!r}")
        if not 1 <= self.depth <= 1000:
            raise InputError(f"QoS depth must be in [1, 1000], got {self.depth}")
        if self.thermal_size is not None and min(self.thermal_size) < 8:
            raise InputError(f"thermal size must be at least 8x8, got {self.thermal_size}")

    @property
    def timing(self) -> CameraTiming:
        return CameraTiming(self.rate_hz, self.thermal_offset_ms, self.jitter_ms, self.seed)

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz

    def topic(self, camera: str) -> str:
        """The topic a camera is published on: its image topic, or that topic's compressed form."""
        base = self.visible_topic if camera == VISIBLE else self.thermal_topic
        return base + COMPRESSED_SUFFIX if self.transport == "compressed" else base


@dataclass
class PlayStats:
    pairs: int = 0                 # visible+thermal pairs published
    messages: int = 0
    late_messages: int = 0         # published more than one period after their stamp's instant
    max_lateness_ms: float = 0.0


def qos_profile(name: str, depth: int) -> QoSProfile:
    reliability = ReliabilityPolicy.BEST_EFFORT if name == "sensor_data" else ReliabilityPolicy.RELIABLE
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=reliability,
                      durability=DurabilityPolicy.VOLATILE)


def transport_arguments(transport: str) -> list[str]:
    """The node's --ros-args items that make it read both cameras as the player publishes them."""
    return [item for name in TRANSPORT_PARAMETERS.values() for item in ("-p", f"{name}:={transport}")]


def thermal_homography(sequence: Sequence, thermal_size: tuple[int, int] | None) -> np.ndarray:
    """Thermal-to-visible homography of the frames as played (after resizing to thermal_size)."""
    visible, thermal = sequence.frame(0)
    if visible is None or thermal is None:
        raise InputError(f"sequence {sequence.name} needs both cameras to be played")
    native = (thermal.shape[1], thermal.shape[0])
    base = default_thermal_to_visible(native, (visible.shape[1], visible.shape[0]), sequence.thermal_to_visible)
    base = np.eye(3) if base is None else np.asarray(base, dtype=np.float64)  # None: the same pixels
    if thermal_size is None or tuple(thermal_size) == native:
        return base
    # played pixel -> native thermal pixel -> visible pixel
    return base @ scaling_homography(tuple(thermal_size), native)


def played_sequence(folder: Path | None = None, layout: str | None = None, synthetic: int | None = None,
                    length: int = 300, size: tuple[int, int] = (640, 480),
                    thermal_size: tuple[int, int] | None = None) -> Sequence:
    """The sequence to play: the folder (in `layout`, default detected), or else the synthetic sequence
    of seed `synthetic`, `length` frames of visible `size` with its thermal rendered at `thermal_size`."""
    if synthetic is None:
        return load_sequence(folder, layout)
    config = SyntheticConfig(width=size[0], height=size[1], length=length, thermal_size=thermal_size)
    return make_sequence(synthetic, config)


@contextlib.contextmanager
def player_node(name: str) -> Iterator[Node]:
    """rclpy (without its signal handlers: the caller stops the player) and a node to publish from;
    both gone on the way out. Call apply_ros_environment() first."""
    rclpy.init(args=[], signal_handler_options=SignalHandlerOptions.NO)
    try:
        node = rclpy.create_node(name)
        yield node
        node.destroy_node()
    finally:
        rclpy.try_shutdown()


@dataclass(frozen=True)
class Published:
    """One image as published: for matching a tracker's output (stamped like its input) to frames."""

    pair: int                     # running count of pairs, grows across loops
    frame: int                    # index in the sequence
    camera: str                   # 'visible' or 'thermal'
    stamp_ns: int


@dataclass(order=True)
class _Event:
    due: float                    # monotonic seconds
    order: int                    # tie-break: visible before thermal at equal times
    camera: str
    pair: int                     # running count of pairs, grows across loops
    frame: int                    # index in the sequence
    stamp_ns: int
    message: Image | Future = field(compare=False)   # Future: a CompressedImage being encoded


class Player:
    """Publishes a sequence on `node`'s two image topics until done or stopped."""

    def __init__(self, node: Node, sequence: Sequence, settings: PlayerSettings = PlayerSettings(),
                 on_publish: Callable[[Published], None] | None = None):
        if sequence.visible is None or sequence.thermal is None:
            raise InputError(f"sequence {sequence.name} needs both cameras to be played")
        self.node = node
        self.sequence = sequence
        self.settings = settings
        self.on_publish = on_publish
        self.stats = PlayStats()
        self.homography = thermal_homography(sequence, settings.thermal_size)
        compressed = settings.transport == "compressed"
        if compressed and thermal_payload(sequence.thermal[0])[1] == "32FC1":
            raise InputError(f"sequence {sequence.name} has float thermal frames (temperatures): jpeg and png "
                             "cannot carry them; play it with --transport raw")
        kind = CompressedImage if compressed else Image
        qos = qos_profile(settings.qos, settings.depth)
        self.visible_pub = node.create_publisher(kind, settings.topic(VISIBLE), qos)
        self.thermal_pub = node.create_publisher(kind, settings.topic(THERMAL), qos)
        self._encoder = ThreadPoolExecutor(1, thread_name_prefix="player-encoder") if compressed else None
        self._encoded: dict[tuple[str, int], tuple[str, array.array]] = {}   # (camera, frame) -> format, data
        self._clock = FrameClock(settings.timing)

    def encode_frames(self, stop: threading.Event | None = None) -> None:
        """With encode_first: compress every frame now (so playing costs no encoding: a benchmark's
        player then keeps its pace on a loaded machine)."""
        if not (self.settings.encode_first and self._encoder is not None):
            return
        for frame in range(len(self.sequence)):
            if stop is not None and stop.is_set():
                return
            visible, thermal = self.sequence.frame(frame)
            for camera, (pixels, _) in ((VISIBLE, visible_payload(visible)),
                                        (THERMAL, thermal_payload(thermal, self.settings.thermal_size))):
                format_text, data = compress(pixels, COMPRESSED_CODECS[camera], camera)
                payload = array.array("B")
                payload.frombytes(data)
                self._encoded[(camera, frame)] = (format_text, payload)

    @property
    def total_pairs(self) -> int | None:
        if self.settings.max_pairs is not None:
            return self.settings.max_pairs if self.settings.loop else min(self.settings.max_pairs, len(self.sequence))
        return None if self.settings.loop else len(self.sequence)

    def wait_for_subscribers(self, stop: threading.Event) -> bool:
        """True once both topics have a subscriber (or at once when not asked to wait)."""
        deadline = time.monotonic() + self.settings.wait_for_subscribers_s
        while not stop.is_set():
            if self.visible_pub.get_subscription_count() > 0 and self.thermal_pub.get_subscription_count() > 0:
                # Matching is seen on this side first; give the subscriber's side time to match too,
                # or the first reliable messages can still be lost.
                stop.wait(DISCOVERY_SETTLE_S)
                return True
            if time.monotonic() >= deadline:
                return self.settings.wait_for_subscribers_s <= 0.0
            stop.wait(0.05)
        return False

    def _events_of(self, pair: int, start_mono: float, start_ns: int) -> list[_Event]:
        s = self.settings
        frame = pair % len(self.sequence)
        visible_at, thermal_at = self._clock.next_frame(pair)
        encoded = (VISIBLE, frame) in self._encoded
        images = (None, None) if encoded else self.sequence.frame(frame)   # encode_frames did the work
        events = []
        for order, camera, image, frame_id, at in ((0, VISIBLE, images[0], s.visible_frame_id, visible_at),
                                                   (1, THERMAL, images[1], s.thermal_frame_id, thermal_at)):
            stamp_ns = start_ns + int(round(at * 1e9))
            header = Header(stamp=ns_to_stamp(stamp_ns), frame_id=frame_id)
            if encoded:
                format_text, data = self._encoded[(camera, frame)]
                message = CompressedImage(header=header, format=format_text, data=data)
            else:
                pixels, encoding = (visible_payload(image) if camera == VISIBLE
                                    else thermal_payload(image, s.thermal_size))
                if self._encoder is not None:
                    message = self._encoder.submit(compressed_to_msg, pixels, COMPRESSED_CODECS[camera], camera,
                                                   header)
                else:
                    message = image_to_msg(pixels, encoding, header)
            events.append(_Event(start_mono + at, order, camera, pair, frame, stamp_ns, message))
        return events

    def play(self, stop: threading.Event | None = None) -> PlayStats:
        """Publish until the sequence (or max_pairs) is done or `stop` is set; returns what was done."""
        s = self.settings
        stop = stop or threading.Event()
        # Frames are rendered once their capture instant is this close, so earlier thermal events
        # (negative offset or jitter) are in the queue in time.
        lookahead = abs(s.thermal_offset_ms) / 1e3 + s.jitter_ms / 1e3 + s.period_s * (
            ENCODE_AHEAD_PERIODS if self._encoder is not None else 1)
        start_mono = time.monotonic() + 0.05
        start_ns = self.node.get_clock().now().nanoseconds + 50_000_000
        # The first stamp may not lie before start_mono: shift everything if the thermal camera runs ahead.
        lead = s.timing.earliest_thermal_s
        start_mono += lead
        start_ns += int(lead * 1e9)
        queue: list[_Event] = []
        next_pair, total = 0, self.total_pairs
        published_by_pair: dict[int, int] = {}
        while not stop.is_set():
            while (total is None or next_pair < total) and (
                    not queue or start_mono + next_pair * s.period_s - lookahead <= queue[0].due):
                for event in self._events_of(next_pair, start_mono, start_ns):
                    heapq.heappush(queue, event)
                next_pair += 1
            if not queue:
                break
            event = queue[0]
            delay = event.due - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            heapq.heappop(queue)
            message = event.message.result() if isinstance(event.message, Future) else event.message
            (self.visible_pub if event.camera == "visible" else self.thermal_pub).publish(message)
            self._count(event, published_by_pair)
        return self.stats

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait until reliable subscribers acknowledged everything published (True) or the timeout."""
        return all(pub.wait_for_all_acked(Duration(seconds=timeout_s)) for pub in (self.visible_pub, self.thermal_pub))

    def close(self) -> None:
        """Remove the publishers from the node (the node stays)."""
        self.node.destroy_publisher(self.visible_pub)
        self.node.destroy_publisher(self.thermal_pub)
        if self._encoder is not None:
            self._encoder.shutdown(wait=True, cancel_futures=True)

    def _count(self, event: _Event, published_by_pair: dict[int, int]) -> None:
        lateness = time.monotonic() - event.due
        self.stats.messages += 1
        self.stats.max_lateness_ms = max(self.stats.max_lateness_ms, lateness * 1e3)
        if lateness > self.settings.period_s:
            self.stats.late_messages += 1
        published_by_pair[event.pair] = published_by_pair.get(event.pair, 0) + 1
        if published_by_pair[event.pair] == 2:
            del published_by_pair[event.pair]
            self.stats.pairs += 1
        if self.on_publish is not None:
            self.on_publish(Published(event.pair, event.frame, event.camera, event.stamp_ns))


class StampLog:
    """Writes `pair,frame,camera,stamp_ns` per published image, a line at a time (read_stamp_log reads it)."""

    def __init__(self, path: str | Path):
        self.file = open(path, "w")

    def __call__(self, image: Published) -> None:
        self.file.write(f"{image.pair},{image.frame},{image.camera},{image.stamp_ns}\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_stamp_log(path: str | Path) -> dict[str, dict[int, int]]:
    """{'visible': {stamp_ns: frame}, 'thermal': {...}} from a player's stamp log (missing file: empty)."""
    stamps: dict[str, dict[int, int]] = {"visible": {}, "thermal": {}}
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return stamps
    for line in text.split("\n")[:-1]:  # the last piece is empty or a line still being written
        parts = line.split(",")
        if len(parts) == 4 and parts[2] in stamps:
            stamps[parts[2]][int(parts[3])] = int(parts[1])
    return stamps
