"""Issue 14, section 4, over DDS: the node (its own process, the shipped model) with
`visible.transport` and `thermal.transport` compressed reads sensor_msgs/CompressedImage on
`<topic>/compressed` (jpeg visible, 16-bit png thermal), tracks, and survives bad compressed data:
each bad message rejected with its reason and counted under its camera, the track going on with the
next good frames (the demo sequence played compressed scores like raw: test_node_compressed_demo.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from sensor_msgs.msg import CompressedImage  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from helpers.faulty_cameras import THERMAL_LAG_NS, FaultyCameras, faulty_node  # noqa: E402
from helpers.live_node import NODE_ARGS, RELIABLE, scene, start_that_fails, wait_for  # noqa: E402
from helpers.ros_processes import ros_test_environment  # noqa: E402
from rgbt_tracker_ros.common import compressed_images  # noqa: E402
from rgbt_tracker_ros.ros.image_conversion import compressed_to_msg, ns_to_stamp  # noqa: E402
from rgbt_tracker_ros.ros.names import COMPRESSED_SUFFIX  # noqa: E402
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

COMPRESSED_ARGS = [*NODE_ARGS, "-p", "visible.transport:=compressed", "-p", "thermal.transport:=compressed"]
CODECS = {VISIBLE: "jpeg", THERMAL: "png"}


@dataclass(frozen=True)
class Payload:
    """What one compressed camera sends for one frame instead of the scene: a format and bytes."""

    format: str
    data: bytes


class CompressedCameras(FaultyCameras):
    """FaultyCameras sending CompressedImage on <camera>/image/compressed; a plan's value for a camera
    is a Payload (sent as it is) instead of a Shot."""

    def __init__(self, context, **kwargs):
        self.compressed_pubs = None
        super().__init__(context, **kwargs)
        self.compressed_pubs = {c: self.node.create_publisher(CompressedImage, f"{c}/image{COMPRESSED_SUFFIX}",
                                                              RELIABLE) for c in (VISIBLE, THERMAL)}
        self.pubs = self.compressed_pubs     # what wait_ready waits on

    def _send_frame(self) -> None:
        if self.compressed_pubs is None:
            return
        stamp_ns = self.node.get_clock().now().nanoseconds
        index = self.frame_index
        self.frame_index += 1
        visible, thermal = scene(index, self._rng)
        shots = self.plan(index, stamp_ns)
        for camera, image, own_stamp in ((VISIBLE, visible, stamp_ns), (THERMAL, thermal, stamp_ns + THERMAL_LAG_NS)):
            header = Header(stamp=ns_to_stamp(own_stamp), frame_id=f"cam_{camera}")
            message = compressed_to_msg(image, CODECS[camera], camera, header)
            payload = shots.get(camera)
            if payload is not None:
                message.format, message.data = payload.format, payload.data
            self.compressed_pubs[camera].publish(message)
        with self.lock:
            self.stamps[stamp_ns] = index
        self.sent.append(stamp_ns)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    log = tmp_path_factory.mktemp("compressed") / "node.log"
    with faulty_node(log, COMPRESSED_ARGS, CompressedCameras) as running:
        yield running


def _bad_payloads() -> dict[str, tuple[str, Payload, str]]:
    """name -> (camera, what is sent, the reason the node must give)."""
    visible, thermal = scene(0, np.random.default_rng(5))
    jpeg_format, jpeg = compressed_images.encode(visible, "jpeg", VISIBLE)
    eight_bit = compressed_images.encode((thermal >> 8).astype(np.uint8), "png", THERMAL)[1]
    return {
        "truncated jpeg": (VISIBLE, Payload(jpeg_format, jpeg[: len(jpeg) // 2]), "visible jpeg image is truncated"),
        "wrong format": (VISIBLE, Payload("rgb8; h264 compressed bgr8", jpeg),
                         "visible compressed image format 'rgb8; h264 compressed bgr8' is not"),
        "8-bit png said mono16": (THERMAL, Payload("mono16; png compressed ", eight_bit),
                                  "thermal png image holds 8-bit samples but the format says mono16"),
        "empty": (THERMAL, Payload("mono16; png compressed ", b""), "thermal compressed image holds no data"),
        "garbage": (VISIBLE, Payload("jpeg", b"\x00\x01garbage, not an image" * 10),
                    "says jpeg, but the data is not a jpeg"),
        "huge png": (THERMAL, Payload("mono16; png compressed ", compressed_images.encode(
            np.zeros((16, 20000), np.uint16), "png", THERMAL)[1]), "thermal png image declares 20000x16 pixels"),
    }


def test_compressed_cameras_are_tracked(node):
    process, client = node
    client.track_target()
    t0 = time.monotonic()
    wait_for(lambda: len(client.since(client.states, t0)) >= 30, 20.0, "30 states")
    states = client.since(client.states, t0)
    assert sum(s == 1 for s in states) >= len(states) - 2, states   # tracking on both cameras
    ious = client.ious(t0)
    assert np.mean(ious) > 0.7, ious
    values = client.status_values()
    assert values["thermal resolution"] == "160x128" and values["visible resolution"] == "160x128"
    for camera in ("visible", "thermal"):  # decoding falling behind shows in /diagnostics, not only the log
        assert int(values[f"{camera} compressed frames replaced before decoding"]) >= 0, values
    assert "/visible/image/compressed and /thermal/image/compressed" in process.output()


@pytest.mark.parametrize("name", list(_bad_payloads()))
def test_bad_compressed_data_is_rejected_counted_and_tracking_goes_on(node, name):
    process, client = node
    camera, payload, reason = _bad_payloads()[name]
    client.track_target()
    key = f"rejected {camera} frames"
    before = int(client.status_values()[key])
    bad = {}
    client.plan = lambda index, stamp_ns: {camera: payload} if index in bad.get("frames", ()) else {}
    bad["frames"] = {client.frame_index + 10}
    t0 = time.monotonic()
    try:
        wait_for(lambda: client.frame_index > max(bad["frames"]) + 25, 10.0, "frames after the bad one")
        wait_for(lambda: int(client.status_values().get(key, 0)) > before, 5.0, "the rejection in /diagnostics")
    finally:
        client.plan = lambda index, stamp_ns: {}
    values = client.status_values()
    assert int(values[key]) == before + 1
    assert reason in values["last rejection"], values["last rejection"]
    states = client.since(client.states, t0)
    assert len(states) >= 30 and states[-10:] == [1] * 10, states        # the track goes on
    assert sum(s & 0x0F == 1 for s in states) >= len(states) - 2, states
    ious = client.ious(t0)
    assert np.mean(ious) > 0.7 and min(ious[-10:]) > 0.5, ious
    assert process.alive()


def test_an_unknown_transport_stops_the_node_at_start_with_the_reason(tmp_path):
    with ros_test_environment():
        code, output = start_that_fails(tmp_path / "node.log", [*NODE_ARGS, "-p", "thermal.transport:=theora"])
    assert code == 1 and "cannot start: " in output, output
    assert "thermal.transport must be one of raw, compressed, got 'theora'" in output and "Traceback" not in output
