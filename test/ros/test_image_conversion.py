"""sensor_msgs/Image <-> numpy: every supported encoding, and every malformed message rejected clearly."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros.image_conversion import (
    THERMAL_ENCODINGS,
    VISIBLE_ENCODINGS,
    image_to_msg,
    ns_to_stamp,
    stamp_to_ns,
    thermal_from_msg,
    visible_from_msg,
)

H, W = 12, 16


def _msg(data: bytes, encoding: str, width: int = W, height: int = H, step: int | None = None,
         bigendian: bool = False, bytes_per_pixel: int = 3):
    step = width * bytes_per_pixel if step is None else step
    return SimpleNamespace(height=height, width=width, encoding=encoding, is_bigendian=int(bigendian),
                           step=step, data=data)


def _rgb() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


# ------------------------------------------------------------------------------------- visible

@pytest.mark.parametrize("encoding, make", [
    ("rgb8", lambda rgb: rgb),
    ("bgr8", lambda rgb: rgb[:, :, ::-1]),
    ("rgba8", lambda rgb: np.dstack([rgb, np.full((H, W), 7, np.uint8)])),
    ("bgra8", lambda rgb: np.dstack([rgb[:, :, ::-1], np.full((H, W), 7, np.uint8)])),
])
def test_visible_colour_encodings_become_rgb(encoding, make):
    rgb = _rgb()
    pixels = np.ascontiguousarray(make(rgb))
    out = visible_from_msg(_msg(pixels.tobytes(), encoding, bytes_per_pixel=pixels.shape[2]))
    assert out.dtype == np.uint8 and out.shape == (H, W, 3) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, rgb)


def test_visible_mono8_becomes_three_equal_channels():
    grey = _rgb()[:, :, 0].copy()
    out = visible_from_msg(_msg(grey.tobytes(), "mono8", bytes_per_pixel=1))
    assert out.shape == (H, W, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], grey)


def _yuyv_stripes(dark: int, bright: int) -> np.ndarray:
    """YUYV bytes of an image whose even columns have luma `dark` and odd columns `bright`, no chroma."""
    row = np.tile(np.array([dark, 128, bright, 128], np.uint8), W // 2)
    return np.tile(row, (H, 1))


@pytest.mark.parametrize("encoding", ["yuyv", "yuv422_yuy2"])
def test_visible_yuyv_byte_order(encoding):
    out = visible_from_msg(_msg(_yuyv_stripes(40, 200).tobytes(), encoding, bytes_per_pixel=2))
    assert out.shape == (H, W, 3)
    assert out[:, 0::2].max() < 60 and out[:, 1::2].min() > 180  # luma alternates, grey (no chroma)
    assert np.abs(out.astype(int) - out[:, :, :1].astype(int)).max() <= 2


@pytest.mark.parametrize("encoding", ["yuv422", "uyvy"])
def test_visible_uyvy_byte_order(encoding):
    row = np.tile(np.array([128, 40, 128, 200], np.uint8), W // 2)  # U Y0 V Y1
    out = visible_from_msg(_msg(np.tile(row, (H, 1)).tobytes(), encoding, bytes_per_pixel=2))
    assert out[:, 0::2].max() < 60 and out[:, 1::2].min() > 180


def test_visible_rows_with_padding_in_step():
    rgb = _rgb()
    step = W * 3 + 5
    padded = np.zeros((H, step), np.uint8)
    padded[:, : W * 3] = rgb.reshape(H, W * 3)
    padded[:, W * 3:] = 255  # padding must not leak into the image
    out = visible_from_msg(_msg(padded.tobytes(), "rgb8", step=step))
    np.testing.assert_array_equal(out, rgb)


def test_visible_reads_a_real_image_message():
    rgb = _rgb()
    msg = image_to_msg(rgb, "rgb8")
    np.testing.assert_array_equal(visible_from_msg(msg), rgb)


# ------------------------------------------------------------------------------------- thermal

@pytest.mark.parametrize("encoding", ["mono16", "16UC1"])
@pytest.mark.parametrize("bigendian", [False, True])
def test_thermal_16_bit_counts_either_byte_order(encoding, bigendian):
    counts = np.arange(H * W, dtype=np.uint16).reshape(H, W) * 251
    raw = counts.astype(">u2" if bigendian else "<u2").tobytes()
    out = thermal_from_msg(_msg(raw, encoding, bigendian=bigendian, bytes_per_pixel=2))
    assert out.dtype == np.uint16 and out.dtype.isnative and out.shape == (H, W)
    np.testing.assert_array_equal(out, counts)


@pytest.mark.parametrize("encoding", ["mono8", "8UC1"])
def test_thermal_8_bit(encoding):
    counts = (np.arange(H * W) % 256).astype(np.uint8).reshape(H, W)
    out = thermal_from_msg(_msg(counts.tobytes(), encoding, bytes_per_pixel=1))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, counts)


@pytest.mark.parametrize("bigendian", [False, True])
def test_thermal_temperatures_keep_nan(bigendian):
    temps = np.linspace(-10.0, 40.0, H * W, dtype=np.float32).reshape(H, W)
    temps[2, 3] = np.nan
    raw = temps.astype(">f4" if bigendian else "<f4").tobytes()
    out = thermal_from_msg(_msg(raw, "32FC1", bigendian=bigendian, bytes_per_pixel=4))
    assert out.dtype == np.float32 and out.dtype.isnative
    assert np.isnan(out[2, 3])
    np.testing.assert_array_equal(np.nan_to_num(out), np.nan_to_num(temps))


def test_thermal_without_any_finite_temperature_is_rejected():
    temps = np.full((H, W), np.nan, np.float32)
    temps[0, 0] = np.inf
    with pytest.raises(InputError, match="no finite temperature"):
        thermal_from_msg(_msg(temps.tobytes(), "32FC1", bytes_per_pixel=4))


@pytest.mark.parametrize("encoding, order", [("rgb8", slice(None)), ("bgr8", slice(None, None, -1))])
def test_thermal_colour_mapped_is_read_as_grey(encoding, order):
    grey = (np.arange(H * W) % 200).astype(np.uint8).reshape(H, W)
    coloured = np.dstack([grey, grey, grey])[:, :, order]
    out = thermal_from_msg(_msg(np.ascontiguousarray(coloured).tobytes(), encoding))
    assert out.shape == (H, W) and out.dtype == np.uint8
    np.testing.assert_allclose(out, grey, atol=1)


# ------------------------------------------------------------------------------------- rejections

@pytest.mark.parametrize("reader, role", [(visible_from_msg, "visible"), (thermal_from_msg, "thermal")])
@pytest.mark.parametrize("encoding", ["bayer_rggb8", "", "RGB8", "64FC1"])
def test_unknown_encoding(reader, role, encoding):
    with pytest.raises(InputError, match=f"{role} image encoding .* is not supported; use one of"):
        reader(_msg(bytes(H * W * 3), encoding))


def test_encodings_that_belong_to_the_other_camera_are_rejected():
    with pytest.raises(InputError, match="not supported"):
        visible_from_msg(_msg(bytes(H * W * 2), "mono16", bytes_per_pixel=2))
    with pytest.raises(InputError, match="not supported"):
        thermal_from_msg(_msg(bytes(H * W * 4), "rgba8", bytes_per_pixel=4))


def test_step_shorter_than_a_row():
    with pytest.raises(InputError, match=r"step 40 is shorter than one row: 16 px of rgb8 take 48 bytes"):
        visible_from_msg(_msg(bytes(H * 40), "rgb8", step=40))


def test_step_not_a_multiple_of_the_sample_size():
    with pytest.raises(InputError, match="not a multiple of the 2-byte mono16 sample"):
        thermal_from_msg(_msg(bytes(H * 33), "mono16", step=33))


def test_truncated_data():
    with pytest.raises(InputError, match=r"thermal image data is truncated: 100 bytes, but 12 rows of step 32 need 384"):
        thermal_from_msg(_msg(bytes(100), "mono16", bytes_per_pixel=2))


def test_data_longer_than_step_times_height():
    with pytest.raises(InputError, match="data is too long"):
        visible_from_msg(_msg(bytes(H * W * 3 + 1), "rgb8"))


@pytest.mark.parametrize("width, height", [(0, H), (W, 0), (0, 0)])
def test_zero_size_image(width, height):
    with pytest.raises(InputError, match="image is empty"):
        visible_from_msg(_msg(b"", "rgb8", width=width, height=height))
    with pytest.raises(InputError, match="image is empty"):
        thermal_from_msg(_msg(b"", "mono16", width=width, height=height, bytes_per_pixel=2))


def test_odd_width_yuv():
    with pytest.raises(InputError, match="odd; YUV 4:2:2 needs an even width"):
        visible_from_msg(_msg(bytes(H * 15 * 2), "yuyv", width=15, bytes_per_pixel=2))


def test_every_advertised_encoding_is_readable():
    for encoding in VISIBLE_ENCODINGS:
        bpp = {"mono8": 1, "rgba8": 4, "bgra8": 4}.get(encoding, 2 if "yu" in encoding or "uyvy" in encoding else 3)
        assert visible_from_msg(_msg(bytes(H * W * bpp), encoding, bytes_per_pixel=bpp)).shape == (H, W, 3)
    for encoding in THERMAL_ENCODINGS:
        bpp = {"mono8": 1, "8UC1": 1, "mono16": 2, "16UC1": 2, "32FC1": 4}.get(encoding, 3)
        assert thermal_from_msg(_msg(bytes(H * W * bpp), encoding, bytes_per_pixel=bpp)).shape == (H, W)


# ------------------------------------------------------------------------------------- writing

@pytest.mark.parametrize("array, encoding, step", [
    (np.zeros((H, W, 3), np.uint8), "rgb8", W * 3),
    (np.zeros((H, W, 4), np.uint8), "rgba8", W * 4),
    (np.zeros((H, W), np.uint8), "mono8", W),
    (np.zeros((H, W), np.uint16), "mono16", W * 2),
    (np.zeros((H, W), np.float32), "32FC1", W * 4),
])
def test_encoding_guessed_from_the_array(array, encoding, step):
    msg = image_to_msg(array)
    assert (msg.encoding, msg.width, msg.height, msg.step, len(msg.data)) == (encoding, W, H, step, step * H)
    assert msg.is_bigendian == int(sys.byteorder == "big" and array.dtype.itemsize > 1)


def test_round_trips_through_a_message():
    rgb = _rgb()
    counts = (np.arange(H * W, dtype=np.uint16) * 97).reshape(H, W)
    temps = np.linspace(0, 1, H * W, dtype=np.float32).reshape(H, W)
    np.testing.assert_array_equal(visible_from_msg(image_to_msg(rgb)), rgb)
    np.testing.assert_array_equal(visible_from_msg(image_to_msg(rgb[:, :, ::-1], "bgr8")), rgb)
    np.testing.assert_array_equal(thermal_from_msg(image_to_msg(counts, "16UC1")), counts)
    np.testing.assert_array_equal(thermal_from_msg(image_to_msg(counts.astype(">u2"))), counts)
    np.testing.assert_array_equal(thermal_from_msg(image_to_msg(temps)), temps)
    # A non-contiguous view is written as its pixels.
    np.testing.assert_array_equal(visible_from_msg(image_to_msg(rgb[::2, ::2])), rgb[::2, ::2])


def test_header_is_kept():
    from std_msgs.msg import Header

    header = Header(frame_id="cam", stamp=ns_to_stamp(1_500_000_123))
    msg = image_to_msg(np.zeros((H, W), np.uint8), header=header)
    assert msg.header.frame_id == "cam" and stamp_to_ns(msg.header.stamp) == 1_500_000_123


@pytest.mark.parametrize("array, encoding", [
    (np.zeros((H, W), np.uint8), "rgb8"),
    (np.zeros((H, W, 3), np.uint16), "rgb8"),
    (np.zeros((H, W), np.uint16), "32FC1"),
    (np.zeros((0, W), np.uint8), "mono8"),
    (np.zeros((H, W), np.uint8), "jpeg"),
])
def test_writing_a_mismatched_array_is_rejected(array, encoding):
    with pytest.raises(InputError):
        image_to_msg(array, encoding)


def test_no_encoding_can_be_guessed_for_odd_arrays():
    with pytest.raises(InputError, match="name one"):
        image_to_msg(np.zeros((H, W), np.int64))


def test_stamp_conversion():
    stamp = ns_to_stamp(12 * 1_000_000_000 + 345)
    assert (stamp.sec, stamp.nanosec) == (12, 345)
    assert stamp_to_ns(stamp) == 12_000_000_345
