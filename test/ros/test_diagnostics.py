"""The node's pure output pieces: the `~/state` byte, the /diagnostics level and sentence, the debug
picture (ros/state.py, ros/diagnostics.py, ros/debug_image.py). No DDS, no rclpy started."""

from __future__ import annotations

import numpy as np

from rgbt_tracker_ros.ros import diagnostics
from rgbt_tracker_ros.ros import state as codes
from rgbt_tracker_ros.ros.debug_image import render, thermal_display, thermal_in_visible
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE
from rgbt_tracker_ros.tracking.geometry import scaling_homography
from rgbt_tracker_ros.tracking.result import TrackState

def test_state_codes():
    assert codes.encode(codes.State.TRACKING, True, True) == 1
    assert codes.encode(codes.State.TRACKING, True, False) == 0x21
    assert codes.encode(codes.State.LOST, False, True) == 0x13
    assert codes.describe(0x21) == "tracking (visible only)" and codes.describe(0x13) == "lost (thermal only)"
    assert codes.from_track_state(TrackState.UNCERTAIN) == codes.State.UNCERTAIN
    assert codes.from_track_state(None) == codes.State.IDLE


def test_diagnostics_levels_and_messages():
    healthy = dict(seen={VISIBLE: True, THERMAL: True}, silent={VISIBLE: False, THERMAL: False},
                   input_hz={VISIBLE: 30.0, THERMAL: 30.0}, pair_hz=30.0, processed_hz=30.0, state=1, score=0.8)
    assert diagnostics.assess(diagnostics.Health(**healthy)) == (
        diagnostics.OK, "tracking, score 0.80, 30.0 Hz processed")
    level, message = diagnostics.assess(diagnostics.Health(topics={VISIBLE: "/v", THERMAL: "/t"}))
    assert level == diagnostics.ERROR and "no camera frames received yet on /v or /t" in message
    level, message = diagnostics.assess(diagnostics.Health(**{**healthy, "silent": {VISIBLE: False, THERMAL: True},
                                                              "state": 0x21}))
    assert level == diagnostics.WARN and "thermal camera silent: tracking on visible alone" in message
    level, message = diagnostics.assess(diagnostics.Health(**healthy, recent_bad_input="thermal: bad step",
                                                           latency_p95_ms=80.0))
    assert level == diagnostics.WARN and "frames rejected: thermal: bad step" in message and "latency p95 80" in message
    status = diagnostics.to_status(diagnostics.Health(**healthy), "n: tracker", "cpu")
    assert status.level == bytes([diagnostics.OK]) and {"latency p95 (ms)", "pairing skew (ms)"} <= {
        kv.key for kv in status.values}


def test_frames_without_information_in_the_state_byte_and_diagnostics():
    assert codes.describe(codes.State.UNCERTAIN | codes.VISIBLE_MISSING | codes.THERMAL_MISSING) == \
        "uncertain (no camera usable)"
    live = dict(seen={VISIBLE: True, THERMAL: True}, silent={VISIBLE: False, THERMAL: False},
                input_hz={VISIBLE: 30.0, THERMAL: 30.0}, pair_hz=30.0, processed_hz=30.0)
    frozen = diagnostics.Health(**live, state=0x21, uninformative={VISIBLE: "", THERMAL: "frozen"},
                                uninformative_s={VISIBLE: 0.0, THERMAL: 12.25}, ignored_frames={VISIBLE: 0, THERMAL: 368})
    assert diagnostics.assess(frozen) == (
        diagnostics.WARN, "thermal frames hold no information (frozen) for 12.2 s: tracking on visible alone")
    values = {kv.key: kv.value for kv in diagnostics.to_status(frozen, "n: tracker", "cpu").values}
    assert (values["thermal frame content"], values["ignored thermal frames"]) == ("frozen for 12.2 s", "368")
    # A thermal-only robot whose camera sends black frames, idle: nothing to track on, no box held.
    alone = diagnostics.Health(seen={VISIBLE: False, THERMAL: True}, silent={VISIBLE: True, THERMAL: False},
                               topics={VISIBLE: "/v", THERMAL: "/t"}, state=0x30,
                               uninformative={VISIBLE: "", THERMAL: "black"}, uninformative_s={VISIBLE: 0.0, THERMAL: 2.0})
    level, message = diagnostics.assess(alone)
    assert level == diagnostics.WARN and message.endswith(
        "thermal frames hold no information (black) for 2.0 s: ignored; no camera gives information")


def test_debug_picture():
    visible = np.full((120, 160, 3), 60, np.uint8)
    thermal = np.linspace(2900, 3100, 64 * 80).reshape(64, 80).astype(np.uint16)
    picture = render(visible, thermal, (120.0, 90.0, 30.0, 25.0), codes.State.TRACKING, 0.9)
    assert picture.shape == (120, 160, 3) and picture.dtype == np.uint8
    assert (picture[:30, :48] != 60).any() and (visible == 60).all()  # drawn on a copy; inset placed
    alone = render(None, thermal, None, codes.State.IDLE | codes.VISIBLE_MISSING, 0.0)
    assert alone.shape == (64, 80, 3)


def test_thermal_background_in_visible_pixels():
    thermal = np.linspace(2900, 3100, 64 * 80).reshape(64, 80).astype(np.uint16)
    scaled = thermal_in_visible(thermal, scaling_homography((80, 64), (160, 128)), (160, 128))
    assert scaled.shape == (128, 160, 3) and scaled.dtype == np.uint8
    np.testing.assert_array_equal(thermal_in_visible(thermal, None, (80, 64)), thermal_display(thermal))
