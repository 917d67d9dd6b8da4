"""Issue 14, section 6, finding 2: one rule for "no finite temperature", from the message to the
crop. A 32FC1 frame with a single finite pixel passed the node's conversion and then failed inside
the tracker ("thermal image holds no finite temperature": its check looked at a grid), which ended
the track; the display stretch had a third rule (its own sample). Now every stage goes by
tracking.preprocessing.holds_finite_value: such a frame is input, and the frame check, not an
error, says it holds no information.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.session_rig import BOX, Rig
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros.image_conversion import thermal_from_msg
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE
from rgbt_tracker_ros.ros.state import THERMAL_MISSING, State
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.frame_check import FrameCheckConfig, lacks_finite_values
from rgbt_tracker_ros.tracking.preprocessing import as_thermal, holds_finite_value, thermal_stretch
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

W, H = 640, 512


class _Image:
    """The fields of a sensor_msgs/Image (no rclpy needed)."""

    def __init__(self, pixels: np.ndarray):
        self.height, self.width = pixels.shape
        self.encoding, self.is_bigendian, self.step = "32FC1", 0, pixels.shape[1] * 4
        self.data = pixels.astype("<f4").tobytes()


def _one_finite(row: int, col: int, shape=(H, W)) -> np.ndarray:
    image = np.full(shape, np.nan, np.float32)
    image[row, col] = 30.0
    return image


# (4, 4): on the frame check's old 4096-pixel grid, off the tracker's old 64x64 check grid (the
# attack's case: it ended the track); (5, 5): on no grid or sample at all.
PIXELS = [(4, 4), (5, 5), (H - 1, W - 1)]


@pytest.mark.parametrize("row, col", PIXELS)
def test_every_stage_takes_a_frame_with_one_finite_pixel(row, col):
    image = _one_finite(row, col)
    converted = thermal_from_msg(_Image(image))
    assert holds_finite_value(converted) and not lacks_finite_values(converted)
    assert as_thermal(converted) is not None
    lo, hi = thermal_stretch(converted)
    assert lo == pytest.approx(30.0) and hi == pytest.approx(31.0)


def test_and_every_stage_refuses_a_frame_without_one():
    image = np.full((H, W), np.nan, np.float32)
    image[::7, ::3] = np.inf
    with pytest.raises(InputError, match="no finite temperature"):
        thermal_from_msg(_Image(image))
    with pytest.raises(InputError, match="no finite temperature"):
        as_thermal(image)
    assert lacks_finite_values(image) and not holds_finite_value(image)


@pytest.mark.parametrize("row, col", PIXELS)
def test_mid_track_it_is_a_frame_without_information_not_the_end_of_the_track(row, col):
    visible = np.random.default_rng(0).integers(40, 140, (H, W, 3), dtype=np.uint8)
    thermal = (20.0 + np.random.default_rng(1).normal(0, 2, (H, W))).astype(np.float32)
    rig = Rig(scene=lambda i: (np.roll(visible, i, axis=1), np.roll(thermal, i, axis=1)))
    rig.frames(2)
    assert rig.session.init_target((300.0, 200.0, 40.0, 40.0), 0)[0]
    rig.frames(1, thermal_image=thermal_from_msg(_Image(_one_finite(row, col))))
    rig.work_through()
    odd = rig.outputs.results[-1]
    assert odd.code == State.TRACKING | THERMAL_MISSING and rig.session.tracking
    health = rig.health()
    assert health.uninformative[THERMAL] == "non-finite" and health.bad_frames == {VISIBLE: 0, THERMAL: 0}
    rig.frames(1)
    rig.work_through()
    assert rig.outputs.results[-1].code == State.TRACKING


def test_without_the_frame_check_the_tracker_crops_it():
    rig = Rig()
    tracker = RGBTTracker(TrackerConfig(frame_check=False), backend=rig.network,
                          frame_check=FrameCheckConfig(enabled=False))
    thermal = (20.0 + np.random.default_rng(1).normal(0, 2, (H, W))).astype(np.float32)
    visible = np.random.default_rng(0).integers(40, 140, (H, W, 3), dtype=np.uint8)
    tracker.initialize(visible, thermal, BOX)
    result = tracker.track(visible, _one_finite(5, 5))
    assert result.state.name == "TRACKING" and not result.ignored
