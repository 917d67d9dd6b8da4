"""Opening bags: a rosbag2 folder (metadata.yaml beside its storage file) or a single storage file
(`.mcap`, `.db3`), for reading; a new bag in sqlite3 or MCAP storage, for writing.

A bag written to `NAME.mcap` or `NAME.db3` is that one file (what Foxglove opens, what `ros2 bag
info` and `ros2 bag play` take on recent releases); any other name is a bag folder.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rosbags.rosbag2 import Reader, ReaderError, StoragePlugin, Writer, WriterError

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.bags.messages import TYPESTORE, deserialize, serialize

STORAGES = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
FILE_SUFFIXES = {".mcap": "mcap", ".db3": "sqlite3"}
BAG_VERSION = 9


def is_bag(path: str | Path) -> bool:
    """True for a bag folder (with metadata.yaml) or a .mcap / .db3 file."""
    path = Path(path)
    if path.is_dir():
        return (path / "metadata.yaml").is_file()
    return path.is_file() and path.suffix in FILE_SUFFIXES


@contextlib.contextmanager
def open_bag(path: str | Path) -> Iterator[Reader]:
    """A rosbags Reader, open; InputError when `path` is not a readable bag."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such bag: {path}")
    if not is_bag(path):
        raise InputError(f"{path} is not a bag: expected a rosbag2 folder with metadata.yaml, or a .mcap or "
                         ".db3 file")
    try:
        reader = Reader(path)
        reader.open()
    except (ReaderError, OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read bag {path}: {exc}") from None
    try:
        yield reader
    finally:
        reader.close()


def storage_of(output: str | Path, storage: str | None) -> str:
    """The storage of a bag to be written at `output`: its file suffix's, else `storage` (default mcap)."""
    suffix = Path(output).suffix
    if storage is not None and storage not in STORAGES:
        raise InputError(f"storage must be one of {', '.join(STORAGES)}, got {storage!r}")
    if suffix in FILE_SUFFIXES:
        if storage is not None and storage != FILE_SUFFIXES[suffix]:
            raise InputError(f"{output} names a {FILE_SUFFIXES[suffix]} file but --storage is {storage}")
        return FILE_SUFFIXES[suffix]
    return storage or "mcap"


@dataclass(frozen=True)
class Topic:
    name: str
    msgtype: str


class BagWriter:
    """A new bag at `output` (see the module docstring); topics are added first, then messages are
    written with their receive (log) times. Used as a context manager: on an error, nothing is left."""

    def __init__(self, output: str | Path, storage: str | None = None):
        self.output = Path(output)
        self.storage = storage_of(self.output, storage)
        if self.output.exists():
            raise InputError(f"{self.output} exists already; give a new name")
        if not self.output.parent.is_dir():
            raise InputError(f"folder {self.output.parent} does not exist")
        self._single_file = self.output.suffix in FILE_SUFFIXES
        self._staging = Path(tempfile.mkdtemp(prefix=".bag-", dir=self.output.parent)) if self._single_file else None
        folder = self._staging / self.output.stem if self._single_file else self.output
        self._writer = Writer(folder, version=BAG_VERSION, storage_plugin=STORAGES[self.storage])
        self._connections: dict[str, object] = {}
        self.counts: dict[str, int] = {}

    def __enter__(self) -> BagWriter:
        try:
            self._writer.open()
        except (WriterError, OSError) as exc:
            self._discard()
            raise InputError(f"cannot create bag {self.output}: {exc}") from None
        return self

    def add_topic(self, topic: Topic) -> None:
        self._connections[topic.name] = self._writer.add_connection(topic.name, topic.msgtype, typestore=TYPESTORE)
        self.counts[topic.name] = 0

    def write(self, topic: str, log_time_ns: int, message) -> None:
        self._writer.write(self._connections[topic], int(log_time_ns), serialize(message))
        self.counts[topic] += 1

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._discard()
            return
        self._writer.close()
        if self._single_file:
            folder = self._staging / self.output.stem
            shutil.move(str(folder / f"{self.output.stem}{self.output.suffix}"), self.output)
            shutil.rmtree(self._staging, ignore_errors=True)

    def _discard(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
        elif self.output.exists():
            shutil.rmtree(self.output, ignore_errors=True)


def read_messages(reader: Reader, topics: list[str]) -> Iterator[tuple[str, int, object]]:
    """(topic, receive time ns, message) of the given topics, in receive-time order."""
    connections = [c for c in reader.connections if c.topic in topics]
    if not connections:  # rosbags reads every topic for an empty selection
        return
    for connection, log_time, data in reader.messages(connections=connections):
        yield connection.topic, log_time, deserialize(data, connection.msgtype)
