"""Cameras that misbehave on purpose, over DDS: helpers.live_node's client whose two cameras send
what a test's plan says for each frame (another image, another encoding, another stamp, nothing),
and that records /diagnostics, so the node's answer to each fault can be checked from outside.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from helpers.live_node import (
    NODE_ARGS, RELIABLE, LiveClient, NodeProcess, box_at, running_node, scene, stamp_ns_of, wait_for,
)
from rgbt_tracker_ros.common.boxes import iou
from rgbt_tracker_ros.ros.image_conversion import image_to_msg, ns_to_stamp
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE

THERMAL_LAG_NS = 2_000_000  # the thermal frame is stamped 2 ms after the visible one, as live_node's


@dataclass(frozen=True)
class Shot:
    """What one camera sends for one frame: an image (None: the scene's), its encoding (None: guessed),
    a stamp (None: the frame's own), or nothing at all (`send=False`)."""

    image: np.ndarray | None = None
    encoding: str | None = None
    stamp_ns: int | None = None
    send: bool = True


# plan(frame index, the frame's visible stamp) -> {camera: Shot} for the cameras that deviate
Plan = Callable[[int, int], dict]


class FaultyCameras(LiveClient):
    """helpers.live_node.LiveClient with a `plan`; `stamps` maps each visible stamp sent to its frame
    index (for the truth: live_node.box_at(index)); `diagnostics` holds the node's statuses."""

    def __init__(self, context, plan: Plan | None = None, **kwargs):
        self.plan: Plan = plan or (lambda index, stamp_ns: {})
        self.stamps: dict[int, int] = {}
        super().__init__(context, **kwargs)
        self.diagnostics: list = []
        self.subscribe(DiagnosticArray, "/diagnostics", self.diagnostics)

    def _publish_cameras(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            if self.publishing:
                self._send_frame()
            next_tick += 1.0 / self.rate
            time.sleep(max(0.0, next_tick - time.monotonic()))

    def _send_frame(self) -> None:
        stamp_ns = self.node.get_clock().now().nanoseconds
        index = self.frame_index
        self.frame_index += 1
        visible, thermal = scene(index, self._rng)
        shots = self.plan(index, stamp_ns)
        for camera, image, encoding, own_stamp in ((VISIBLE, visible, "rgb8", stamp_ns),
                                                   (THERMAL, thermal, "mono16", stamp_ns + THERMAL_LAG_NS)):
            shot = shots.get(camera, Shot())
            if not shot.send:
                continue
            if shot.image is not None:
                image, encoding = shot.image, shot.encoding
            stamp = own_stamp if shot.stamp_ns is None else shot.stamp_ns
            header = Header(stamp=ns_to_stamp(stamp), frame_id=f"cam_{camera}")
            self.pubs[camera].publish(image_to_msg(image, encoding, header))
        with self.lock:
            self.stamps[stamp_ns] = index
        self.sent.append(stamp_ns)

    def restart_cameras(self, gap_s: float) -> None:
        """The camera driver gone (its publishers destroyed) for `gap_s`, then back with new ones."""
        self.publishing = False
        time.sleep(2.0 / self.rate)  # the camera thread is past its last send
        for publisher in self.pubs.values():
            self.node.destroy_publisher(publisher)
        time.sleep(gap_s)
        self.pubs = {c: self.node.create_publisher(Image, f"{c}/image", RELIABLE) for c in (VISIBLE, THERMAL)}
        self.publishing = True

    def truth(self, stamp_ns: int) -> np.ndarray | None:
        """The target's box on the visible frame stamped `stamp_ns` (None: not a frame sent here)."""
        with self.lock:
            index = self.stamps.get(stamp_ns)
        return None if index is None else np.array(box_at(index))

    def track_target(self) -> None:
        """Initialise at its true box on the newest frame the node has put out (so it is in the
        node's buffer: a frame just sent may still be on its way or being decoded), then wait
        until the node tracks."""
        assert self.reset().success
        t0 = time.monotonic()
        wait_for(lambda: any(self.truth(stamp_ns_of(m)) is not None for m in self.since(self.targets, t0)),
                 10.0, "an output after the reset")
        stamp = [s for s in map(stamp_ns_of, self.since(self.targets, t0)) if self.truth(s) is not None][-1]
        answer = self.init(tuple(float(v) for v in self.truth(stamp)), stamp_ns=stamp)
        assert answer.success, answer.status_message
        t0 = time.monotonic()
        wait_for(lambda: any(s & 0x0F == 1 for s in self.since(self.states, t0)), 10.0, "tracking")

    def ious(self, t0: float) -> list[float]:
        """IoU with the truth of every ~/target since t0 (0 for an empty polygon)."""
        out = []
        for msg in self.since(self.targets, t0):
            truth, box = self.truth(stamp_ns_of(msg)), polygon_box(msg)
            if truth is not None:
                out.append(0.0 if box is None else float(iou(box, truth)[0]))
        return out

    def status_values(self) -> dict[str, str]:
        """The key/values of the node's latest diagnostics status ({} before the first)."""
        with self.lock:
            latest = self.diagnostics[-1][1] if self.diagnostics else None
        return {} if latest is None else {kv.key: kv.value for kv in latest.status[0].values}

    def latest_message(self) -> str:
        with self.lock:
            return self.diagnostics[-1][1].status[0].message if self.diagnostics else ""


def polygon_box(msg) -> np.ndarray | None:
    """x, y, w, h of a ~/target polygon; None for an empty one."""
    xs = [p.x for p in msg.polygon.points]
    ys = [p.y for p in msg.polygon.points]
    return np.array([min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]) if xs else None


@contextmanager
def faulty_node(log: Path, node_args: list[str] = NODE_ARGS,
                cameras: type[FaultyCameras] = FaultyCameras) -> Iterator[tuple[NodeProcess, FaultyCameras]]:
    """A node in its own process fed by FaultyCameras (or a subclass: `cameras`), both running and
    publishing; the node's exit code is checked (0) when the block ends."""
    with running_node(log, node_args, cameras) as (process, client):
        client.wait_outputs(5)
        wait_for(client.status_values, 10.0, "the node's /diagnostics")
        yield process, client
