"""A Sequence written as a bag: its camera(s), its ground truth and its registration, stamped the
way `rgbt-tracker play` stamps them (data/camera_timing.py), so users and tests have bags to try.

Frame k's visible image is stamped `start + k / rate`, its thermal image that plus the thermal
offset and jitter; each message is recorded (receive time) at its own stamp, as a recorder next to
a camera driver would see it. The ground truth message of frame k carries the stamp and frame id of
the frame the box is in (the visible one; the thermal one for a thermal-only sequence).
Cameras are written raw (rgb8 / mono8 visible, mono16 / 32FC1 thermal) or, with `compressed`, as
sensor_msgs/CompressedImage on `<topic>/compressed`: jpeg visible, 16-bit png thermal (float
temperatures cannot be compressed: refused).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.bags import messages
from rgbt_tracker_ros.data.bags.storage import BagWriter, Topic
from rgbt_tracker_ros.data.bags.topics import (
    COMPRESSED_SUFFIX, GROUNDTRUTH_TOPIC, HOMOGRAPHY_TOPIC, THERMAL_TOPIC, VISIBLE_TOPIC,
)
from rgbt_tracker_ros.data.camera_images import thermal_payload, visible_payload
from rgbt_tracker_ros.data.camera_timing import CameraTiming, FrameClock
from rgbt_tracker_ros.data.sequence import Sequence

VISIBLE_FRAME_ID = "visible_camera"
THERMAL_FRAME_ID = "thermal_camera"
COMPRESSED_CODECS = {"visible": "jpeg", "thermal": "png"}


@dataclass(frozen=True)
class BagSummary:
    path: Path
    storage: str
    frames: int
    counts: dict[str, int]           # messages per topic
    first_stamp_ns: int
    duration_s: float                # first to last message


def write_sequence_bag(sequence: Sequence, output: str | Path, timing: CameraTiming = CameraTiming(),
                       storage: str | None = None, start_ns: int | None = None,
                       on_frame: Callable[[int], None] | None = None, compressed: bool = False) -> BagSummary:
    """Write `sequence` as a new bag at `output` (module docstring). start_ns: when the recording
    starts (default: now); no stamp lies before it, so a thermal camera that runs ahead (negative
    offset or jitter) moves the first visible stamp after it. on_frame(k) after each frame;
    compressed: CompressedImage topics (jpeg visible, png thermal) instead of Image."""
    if start_ns is None:
        start_ns = time.time_ns()
    if start_ns <= 0:
        raise InputError(f"the first stamp must be after 1970, got {start_ns} ns")
    # The thermal camera may run ahead of the visible one: no stamp before the bag's start.
    first_ns = int(start_ns) + int(round(timing.earliest_thermal_s * 1e9))
    clock = FrameClock(timing)
    events: list[tuple[int, int, str, int]] = []   # (stamp, order, camera, frame): recorded in stamp order
    for k in range(len(sequence)):
        visible_at, thermal_at = clock.next_frame(k)
        if sequence.visible is not None:
            events.append((first_ns + round(visible_at * 1e9), 0, "visible", k))
        if sequence.thermal is not None:
            events.append((first_ns + round(thermal_at * 1e9), 1, "thermal", k))
    heapq.heapify(events)
    reference = "visible" if sequence.visible is not None else "thermal"

    writer = BagWriter(output, storage)
    with writer:
        suffix = COMPRESSED_SUFFIX if compressed else ""
        topics = {"visible": VISIBLE_TOPIC + suffix, "thermal": THERMAL_TOPIC + suffix}
        for camera in ("visible", "thermal"):
            if getattr(sequence, camera) is not None:
                writer.add_topic(Topic(topics[camera], messages.COMPRESSED_IMAGE if compressed else messages.IMAGE))
        writer.add_topic(Topic(GROUNDTRUTH_TOPIC, messages.POLYGON_STAMPED))
        if sequence.thermal_to_visible is not None:
            writer.add_topic(Topic(HOMOGRAPHY_TOPIC, messages.FLOAT64_ARRAY))
            writer.write(HOMOGRAPHY_TOPIC, first_ns, messages.matrix_message(sequence.thermal_to_visible))
        last_ns = first_ns
        while events:
            stamp, _, camera, k = heapq.heappop(events)
            if camera == "visible":
                pixels, encoding = visible_payload(sequence.visible[k])
                frame_id = VISIBLE_FRAME_ID
            else:
                pixels, encoding = thermal_payload(sequence.thermal[k])
                frame_id = THERMAL_FRAME_ID
            if compressed:
                message = messages.compressed_image(pixels, COMPRESSED_CODECS[camera], camera, stamp, frame_id)
            else:
                message = messages.raw_image(pixels, encoding, stamp, frame_id)
            writer.write(topics[camera], stamp, message)
            if camera == reference:
                box = sequence.groundtruth[k] if k < len(sequence.groundtruth) else np.full(4, np.nan)
                writer.write(GROUNDTRUTH_TOPIC, stamp, messages.polygon_box(box, stamp, frame_id))
                if on_frame is not None:
                    on_frame(k)
            last_ns = stamp
    return BagSummary(Path(output), writer.storage, len(sequence), dict(writer.counts), first_ns,
                      (last_ns - first_ns) / 1e9)
