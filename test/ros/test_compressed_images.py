"""sensor_msgs/CompressedImage <-> numpy (common/compressed_images.py through ros/image_conversion.py):
jpeg visible and 16-bit png thermal round trips, image_transport's format strings, and every kind of
bad compressed data refused with its reason; the newest-message decoder thread (ros/newest_decoder.py)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from rgbt_tracker_ros.common import compressed_images
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros import parameters
from rgbt_tracker_ros.ros.image_conversion import (
    CONVERTERS, compressed_to_msg, thermal_from_compressed, visible_from_compressed,
)
from rgbt_tracker_ros.ros.newest_decoder import NewestDecoder

H, W = 48, 64


def _smooth_rgb() -> np.ndarray:
    """A camera-like image (smooth gradients: jpeg keeps it within a few counts)."""
    y, x = np.mgrid[0:H, 0:W]
    return np.dstack([x * 4, y * 5, (x + y) * 2]).clip(0, 255).astype(np.uint8)


def _counts() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 65536, (H, W), dtype=np.uint16)


def _msg(format_text: str, data: bytes):
    return SimpleNamespace(format=format_text, data=data)


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def _jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_visible_jpeg_round_trip_is_rgb_within_jpeg_loss():
    rgb = _smooth_rgb()
    msg = compressed_to_msg(rgb, "jpeg", "visible")
    assert msg.format == "rgb8; jpeg compressed bgr8"
    out = visible_from_compressed(msg)
    assert out.dtype == np.uint8 and out.shape == (H, W, 3) and out.flags.c_contiguous
    assert np.abs(out.astype(int) - rgb).mean() < 3.0   # channel order kept: a swap would be ~60


def test_thermal_16_bit_png_round_trip_is_exact():
    counts = _counts()
    msg = compressed_to_msg(counts, "png", "thermal")
    assert msg.format == "mono16; png compressed "       # image_transport's spelling, trailing space
    out = thermal_from_compressed(msg)
    assert out.dtype == np.uint16 and out.shape == (H, W)
    np.testing.assert_array_equal(out, counts)


@pytest.mark.parametrize("format_text", ["bgr8; jpeg compressed bgr8", "rgb8; jpeg compressed bgr8", "jpeg", "jpg",
                                         "rgba8; jpeg compressed bgr8"])
def test_visible_formats_drivers_send(format_text):
    rgb = _smooth_rgb()
    out = visible_from_compressed(_msg(format_text, _jpeg(rgb[:, :, ::-1].copy())))
    assert np.abs(out.astype(int) - rgb).mean() < 3.0


@pytest.mark.parametrize("format_text", ["mono16; png compressed ", "16UC1; png compressed", "png"])
def test_thermal_16_bit_formats(format_text):
    counts = _counts()
    np.testing.assert_array_equal(thermal_from_compressed(_msg(format_text, _png(counts))), counts)


def test_grey_visible_and_colour_mapped_thermal():
    grey = _smooth_rgb()[:, :, 1].copy()
    visible = visible_from_compressed(_msg("mono8; png compressed ", _png(grey)))
    assert visible.shape == (H, W, 3) and (visible == grey[:, :, None]).all()
    bgr = _smooth_rgb()[:, :, ::-1].copy()
    thermal = thermal_from_compressed(_msg("bgr8; png compressed bgr8", _png(bgr)))
    np.testing.assert_array_equal(thermal, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))


@pytest.mark.parametrize("role, format_text, data, reason", [
    ("visible", "rgb8; jpeg compressed bgr8", b"", "visible compressed image holds no data (0 bytes)"),
    ("thermal", "mono16; png compressed", b"\x00garbage bytes\x01\x02", "says png, but the data is not a png "
     "(it starts with 00 67 61 72)"),
    ("visible", "rgb8; jpeg compressed bgr8", "png-data", "says jpeg, but the data is a png"),
    ("visible", "rgb8; jpeg compressed bgr8", "truncated-jpeg", "visible jpeg image is truncated"),
    ("thermal", "mono16; png compressed", "truncated-png", "thermal png image is truncated"),
    ("thermal", "mono16; png compressed", "8-bit-png", "thermal png image holds 8-bit samples but the format "
     "says mono16"),
    ("thermal", "mono8; png compressed", "png-data", "thermal png image holds 16-bit samples but the format says mono8"),
    ("visible", "png", "png-data", "visible png image holds 16-bit samples but the visible camera takes 8 bits"),
    ("thermal", "mono16; jpeg compressed", "png-data", "jpeg holds 8-bit samples, not mono16"),
    ("visible", "", "png-data", "format (empty) names no codec"),
    ("visible", "rgb8; h264 compressed", "png-data", "is not '<encoding>; jpeg|png compressed ...'"),
    ("thermal", "16UC1; compressedDepth png", "png-data", "is compressedDepth (depth images)"),
    ("visible", "mono16; png compressed", "png-data", "encoding 'mono16' is not a visible encoding"),
    ("thermal", "32FC1; png compressed", "png-data", "encoding '32FC1' is not a thermal encoding"),
    ("thermal", "tiff", "png-data", "format 'tiff' names no codec"),
])
def test_bad_compressed_data_is_refused_with_its_reason(role, format_text, data, reason):
    png16 = _png(_counts())
    jpeg = _jpeg(_smooth_rgb())
    payloads = {"png-data": png16, "truncated-jpeg": jpeg[: len(jpeg) * 2 // 3],
                "truncated-png": png16[: len(png16) // 2], "8-bit-png": _png((_counts() >> 8).astype(np.uint8))}
    with pytest.raises(InputError) as error:
        CONVERTERS[("compressed", role)](_msg(format_text, payloads.get(data, data)))
    assert reason in str(error.value)
    assert str(error.value).startswith(role)


@pytest.mark.parametrize("codec, role", [("png", "thermal"), ("jpeg", "visible")])
def test_an_image_too_large_to_decode_is_refused_from_its_header(codec, role):
    """A few kB of png or jpeg can declare a huge image of zeros: the size is read before decoding."""
    data = cv2.imencode(f".{'jpg' if codec == 'jpeg' else 'png'}", np.zeros((16, 9000), np.uint8))[1].tobytes()
    assert len(data) < 20_000
    with pytest.raises(InputError, match=f"{role} {codec} image declares 9000x16 pixels; at most 8192 on a side"):
        CONVERTERS[("compressed", role)](_msg(codec, data))
    fits = cv2.imencode(f".{'jpg' if codec == 'jpeg' else 'png'}", np.zeros((16, 8192), np.uint8))[1].tobytes()
    assert CONVERTERS[("compressed", role)](_msg(codec, fits)).shape[:2] == (16, 8192)


def test_a_header_without_a_size_is_refused():
    jpeg = _jpeg(_smooth_rgb())
    no_frame = jpeg[:2] + b"\xff\xd9"          # start and end markers, nothing between
    with pytest.raises(InputError, match="has no readable size in its header"):
        visible_from_compressed(_msg("jpeg", no_frame))


def test_a_jpeg_cut_after_its_header_is_refused():
    jpeg = _jpeg(_smooth_rgb())
    with pytest.raises(InputError, match="truncated"):
        visible_from_compressed(_msg("jpeg", jpeg[:300]))


@pytest.mark.parametrize("image, codec, role, reason", [
    (np.zeros((H, W), np.float32), "png", "thermal", "cannot be compressed"),
    (np.zeros((H, W), np.uint16), "jpeg", "thermal", "travels as png"),
    (np.zeros((H, W, 3), np.uint16), "png", "visible", "visible images are 8-bit"),
    (np.zeros((H, W, 2), np.uint8), "png", "visible", "cannot be compressed"),
    (np.zeros((H, W), np.uint8), "webp", "visible", "codec must be one of jpeg, png"),
])
def test_what_cannot_be_compressed_is_refused(image, codec, role, reason):
    with pytest.raises(InputError, match=reason):
        compressed_images.encode(image, codec, role)


def test_transport_parameters_are_validated():
    assert parameters.check("visible.transport", "compressed") is None
    assert parameters.check("thermal.transport", "raw") is None
    assert parameters.check("thermal.transport", "theora") == \
        "thermal.transport must be one of raw, compressed, got 'theora'"
    values = {s.name: s.default for s in parameters.SPECS}
    startup, _ = parameters.settings_from({**values, "visible.transport": "compressed"})
    assert startup.transports == {"visible": "compressed", "thermal": "raw"}
    assert parameters.SPEC_BY_NAME["visible.transport"].read_only


# ------------------------------------------------------------------------------ the decoder thread

class _Sink:
    def __init__(self):
        self.delivered, self.rejected, self.failed = [], [], []
        self.done = threading.Event()

    def deliver(self, message, image, received):
        self.delivered.append((message, received))
        self.done.set()

    def reject(self, reason, received):
        self.rejected.append((reason, received))
        self.done.set()


def _wait(condition, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_decoder_hands_on_frames_and_rejections_with_their_receive_times():
    sink = _Sink()
    decoder = NewestDecoder("test", lambda m: CONVERTERS[("compressed", "thermal")](m), sink.deliver, sink.reject,
                            sink.failed.append)
    try:
        good = compressed_to_msg(_counts(), "png", "thermal")
        decoder.put(good, 1.0)
        _wait(lambda: len(sink.delivered) == 1)
        decoder.put(_msg("png", b"\x89PNG\r\n\x1a\n cut"), 2.0)
        _wait(lambda: len(sink.rejected) == 1)
        decoder.put(good, 3.0)
        _wait(lambda: len(sink.delivered) == 2)
    finally:
        decoder.stop()
    assert [r for _, r in sink.delivered] == [1.0, 3.0]
    assert sink.rejected[0][1] == 2.0 and "truncated" in sink.rejected[0][0]
    assert not sink.failed


def test_newest_message_wins_over_a_backlog_and_put_never_waits():
    release = threading.Event()
    sink = _Sink()

    def slow_decode(message):
        release.wait(10.0)
        return np.zeros((8, 8), np.uint8)

    decoder = NewestDecoder("test", slow_decode, sink.deliver, sink.reject, sink.failed.append)
    try:
        assert not decoder.put("first", 0.0)
        _wait(lambda: decoder._slot is None)       # the thread is inside the (blocked) decode
        started = time.perf_counter()
        replaced = [decoder.put(f"m{k}", float(k)) for k in range(1, 50)]
        assert time.perf_counter() - started < 0.05   # the callback side never waits for a decode
        assert replaced == [False] + [True] * 48      # each put after the first one replaced the waiting one
        release.set()
        _wait(lambda: len(sink.delivered) == 2)
        time.sleep(0.05)
    finally:
        decoder.stop()
    assert [m for m, _ in sink.delivered] == ["first", "m49"]
    assert decoder.superseded == 48


def test_a_decoder_bug_is_reported_and_the_thread_goes_on():
    sink = _Sink()
    calls = []

    def decode(message):
        calls.append(message)
        if message == "bug":
            raise ZeroDivisionError("boom")
        return np.zeros((8, 8), np.uint8)

    decoder = NewestDecoder("test", decode, sink.deliver, sink.reject, sink.failed.append)
    try:
        decoder.put("bug", 0.0)
        _wait(lambda: len(sink.failed) == 1)
        decoder.put("ok", 1.0)
        _wait(lambda: len(sink.delivered) == 1)
    finally:
        decoder.stop()
    assert isinstance(sink.failed[0], ZeroDivisionError)
