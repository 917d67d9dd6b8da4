"""A recorded bag as a Sequence (`eval --sequences BAG`, `track`'s scoring, training sources).

The sequence's frames are the messages of the reference camera (visible, else thermal) in stamp
order; each gets the other camera's message nearest in stamp, so a bag written by `rgbt-tracker
bag` reads back frame for frame. This is a reader's alignment of a whole recording, not the node's
live pairing (ros/pairing.py: `track --bag` runs that one). Ground truth: the /groundtruth message
whose stamp equals the frame's (an empty polygon, or none, is an unannotated frame); the
registration: the /thermal_to_visible message, if any. Frames are read when asked for, in order
fastest; the bag is indexed once (headers only) when the sequence is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.bags import messages
from rgbt_tracker_ros.data.bags.storage import is_bag, open_bag, read_messages
from rgbt_tracker_ros.data.bags.topics import BagTopics, find_topics
from rgbt_tracker_ros.data.sequence import Sequence

PROTOCOL = "otb"


def looks_like(path: Path) -> bool:
    return is_bag(path)


def bag_name(path: Path) -> str:
    """The sequence name of a bag: its folder's name, or its file's without the suffix."""
    return path.name if path.is_dir() else path.stem


class BagFrames:
    """One camera topic's images, in a given order of its messages (index -> message ordinal)."""

    def __init__(self, path: Path, topic: str, log_times: list[int], order: list[int], colour: bool):
        self.path, self.topic, self.colour = path, topic, colour
        self._log_times = log_times          # per message ordinal, ascending (the bag's order)
        self._order = order                  # frame index -> message ordinal
        self._cursor = None                  # (next ordinal, open bag context, message iterator)

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, index: int) -> np.ndarray:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return messages.image_array(self._message(self._order[index]), self.colour)

    def _message(self, ordinal: int):
        if self._cursor is None or self._cursor[0] > ordinal or ordinal - self._cursor[0] > 8:
            self._open_at(ordinal)
        position, _, iterator = self._cursor
        while True:
            try:
                _, _, message = next(iterator)
            except StopIteration:
                raise InputError(f"bag {self.path}: topic {self.topic} ended before message {ordinal}") from None
            position += 1
            if position - 1 == ordinal:
                self._cursor = (position, self._cursor[1], iterator)
                return message

    def _open_at(self, ordinal: int) -> None:
        self.close()
        context = open_bag(self.path)
        reader = context.__enter__()
        start = self._log_times[ordinal]
        first = self._log_times.index(start)  # messages with the same receive time come in bag order
        self._cursor = (first, context, _from(reader, self.topic, start))

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor[2].close()   # first the running query, or sqlite3 refuses to close ('database is locked')
            self._cursor[1].__exit__(None, None, None)
            self._cursor = None

    def __del__(self) -> None:
        self.close()


def _from(reader, topic: str, start: int):
    connections = [c for c in reader.connections if c.topic == topic]
    recorded = reader.messages(connections=connections, start=start)
    try:
        for connection, log_time, data in recorded:
            yield connection.topic, log_time, messages.deserialize(data, connection.msgtype)
    finally:
        recorded.close()


def read(path: Path, visible_topic: str | None = None, thermal_topic: str | None = None) -> Sequence:
    path = Path(path)
    with open_bag(path) as reader:
        topics = find_topics({c.topic: c.msgtype for c in reader.connections}, visible_topic, thermal_topic)
        index = _index(reader, topics)
    reference = topics.visible if topics.visible is not None else topics.thermal
    stamps, log_times = index[reference]
    if not stamps:
        raise InputError(f"bag {path}: topic {reference} holds no image")
    frames = np.argsort(np.asarray(stamps, dtype=np.int64), kind="stable").tolist()
    frame_stamps = np.asarray(stamps, dtype=np.int64)[frames]
    sources = {reference: BagFrames(path, reference, log_times, frames, colour=reference == topics.visible)}
    other = topics.thermal if reference == topics.visible else None
    if other is not None:
        other_stamps, other_logs = index[other]
        if not other_stamps:
            raise InputError(f"bag {path}: topic {other} holds no image")
        sources[other] = BagFrames(path, other, other_logs, _nearest(other_stamps, frame_stamps), colour=False)
    groundtruth = np.full((len(frames), 4), np.nan)
    boxes = index.get("groundtruth", {})
    for row, stamp in enumerate(frame_stamps.tolist()):
        if stamp in boxes:
            groundtruth[row] = boxes[stamp]
    return Sequence(
        name=bag_name(path), visible=sources.get(topics.visible), thermal=sources.get(topics.thermal),
        groundtruth=groundtruth, protocol=PROTOCOL, thermal_to_visible=index.get("homography"),
    )


def _index(reader, topics: BagTopics) -> dict:
    """{camera topic: (header stamps, receive times) per message}, 'groundtruth': {stamp: box},
    'homography': the matrix (or absent). Image messages are not decoded: only their stamps are read."""
    index: dict = {topic: ([], []) for topic in topics.cameras}
    boxes: dict[int, np.ndarray] = {}
    connections = [c for c in reader.connections if c.topic in topics.cameras]
    for connection, log_time, data in reader.messages(connections=connections):
        index[connection.topic][0].append(messages.cdr_header_stamp_ns(data))
        index[connection.topic][1].append(log_time)
    extras = [t for t in (topics.groundtruth, topics.homography) if t is not None]
    for topic, _, message in read_messages(reader, extras):
        if topic == topics.groundtruth:
            box = messages.box_of_polygon(message)
            if np.all(np.isfinite(box)):
                boxes[messages.stamp_ns(message)] = box
        else:
            index["homography"] = messages.matrix_of(message)
    index["groundtruth"] = boxes
    return index


def _nearest(stamps: list[int], targets: np.ndarray) -> list[int]:
    """For each target stamp, the ordinal of the message whose stamp is nearest (ties: the earlier)."""
    values = np.asarray(stamps, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    right = np.clip(np.searchsorted(ordered, targets), 0, len(ordered) - 1)
    left = np.clip(right - 1, 0, len(ordered) - 1)
    take_left = np.abs(targets - ordered[left]) <= np.abs(ordered[right] - targets)
    return order[np.where(take_left, left, right)].tolist()
