"""Publish a recorded bag's two camera topics, as the vehicle's cameras sent them: `play --bag`.

Each message is published as recorded (its CDR bytes, so header stamps, frame ids and pixels are
the recording's; a CompressedImage topic goes out compressed, as recorded) on its recorded topic, at the instant its receive time falls on when the
recording is replayed from now, sped up or slowed down by `rate`. With `loop`, the recording
starts over one mean frame interval after its last message; its stamps start over too, which the
node reads as a restarted clock (docs/ros_node.md, "Pairing").
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rclpy.duration import Duration
from rclpy.node import Node
from sensor_msgs.msg import CompressedImage, Image

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.bags.messages import COMPRESSED_IMAGE, IMAGE
from rgbt_tracker_ros.data.bags.storage import open_bag
from rgbt_tracker_ros.data.bags.topics import BagTopics, find_topics
from rgbt_tracker_ros.ros_tools.player import DISCOVERY_SETTLE_S, QOS_CHOICES, PlayStats, qos_profile

# The message classes a camera topic may hold, by the bag's type name.
_MESSAGE_CLASSES = {IMAGE: Image, COMPRESSED_IMAGE: CompressedImage}


@dataclass(frozen=True)
class BagPlaySettings:
    rate: float = 1.0                        # replay speed: 2 plays twice as fast as recorded
    loop: bool = False
    visible_topic: str | None = None         # the bag's camera topics (None: found by name)
    thermal_topic: str | None = None
    qos: str = "sensor_data"
    depth: int = 5
    wait_for_subscribers_s: float = 0.0

    def __post_init__(self) -> None:
        if not 0.01 <= self.rate <= 100.0:
            raise InputError(f"--rate (the replay speed with --bag) must be in [0.01, 100], got {self.rate}")
        if self.qos not in QOS_CHOICES:
            raise InputError(f"qos must be one of {', '.join(QOS_CHOICES)}, got {self.qos!r}")
        if not 1 <= self.depth <= 1000:
            raise InputError(f"QoS depth must be in [1, 1000], got {self.depth}")


class BagPlayer:
    """Publishes a bag's camera topics on `node` until the bag (or the loop) is done or stopped."""

    def __init__(self, node: Node, path: str | Path, settings: BagPlaySettings = BagPlaySettings()):
        self.node, self.path, self.settings = node, Path(path), settings
        self.stats = PlayStats()
        with open_bag(self.path) as reader:
            types = {c.topic: c.msgtype for c in reader.connections}
            self.topics: BagTopics = find_topics(types, settings.visible_topic, settings.thermal_topic)
            counts = [sum(c.msgcount for c in reader.connections if c.topic == t) for t in self.topics.cameras]
            self.duration_s = reader.duration / 1e9
        if not any(counts):
            raise InputError(f"bag {self.path} holds no camera image on {', '.join(self.topics.cameras)}")
        self._messages = max(counts)
        self._gap_s = self.duration_s / max(1, self._messages - 1)   # mean frame interval
        qos = qos_profile(settings.qos, settings.depth)
        self.publishers = {topic: node.create_publisher(_MESSAGE_CLASSES[types[topic]], topic, qos)
                           for topic in self.topics.cameras}

    def wait_for_subscribers(self, stop: threading.Event) -> bool:
        """True once every camera topic has a subscriber (or at once when not asked to wait)."""
        deadline = time.monotonic() + self.settings.wait_for_subscribers_s
        while not stop.is_set():
            if all(p.get_subscription_count() > 0 for p in self.publishers.values()):
                stop.wait(DISCOVERY_SETTLE_S)  # the subscriber's side matches a moment later
                return True
            if time.monotonic() >= deadline:
                return self.settings.wait_for_subscribers_s <= 0.0
            stop.wait(0.05)
        return False

    def play(self, stop: threading.Event | None = None) -> PlayStats:
        stop = stop or threading.Event()
        start = time.monotonic() + 0.05
        while not stop.is_set():
            end = self._play_once(start, stop)
            if not self.settings.loop or end is None:
                break
            start = end + self._gap_s / self.settings.rate
        return self.stats

    def _play_once(self, start: float, stop: threading.Event) -> float | None:
        """One pass over the bag from `start` (monotonic s); when its last message was due, or None if stopped."""
        first, due = None, start
        with open_bag(self.path) as reader:
            connections = [c for c in reader.connections if c.topic in self.publishers]
            for connection, log_time, data in reader.messages(connections=connections):
                first = log_time if first is None else first
                due = start + (log_time - first) / 1e9 / self.settings.rate
                delay = due - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return None
                self.publishers[connection.topic].publish(bytes(data))
                self._count(due, connection.topic)
        return due

    def _count(self, due: float, topic: str) -> None:
        """Statistics: a message is late when published more than one mean frame interval after its time."""
        lateness = time.monotonic() - due
        self.stats.messages += 1
        self.stats.max_lateness_ms = max(self.stats.max_lateness_ms, lateness * 1e3)
        if lateness > self._gap_s / self.settings.rate:
            self.stats.late_messages += 1
        if topic == (self.topics.visible or self.topics.thermal):
            self.stats.pairs += 1

    def flush(self, timeout_s: float = 2.0) -> bool:
        return all(p.wait_for_all_acked(Duration(seconds=timeout_s)) for p in self.publishers.values())
