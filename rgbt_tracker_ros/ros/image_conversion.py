"""sensor_msgs/Image and CompressedImage <-> numpy (cv_bridge is not installable here), strict about what it accepts.

Each message is checked before any pixel is read: a known encoding, non-zero width and height, a
`step` that holds a row, data exactly `step * height` bytes long, an even width for YUV 4:2:2. Every
failure is an InputError whose message names the camera and the problem. The readers accept any
object with the Image fields (`height`, `width`, `encoding`, `is_bigendian`, `step`, `data`), so
this module is usable and testable without a node. CompressedImage (jpeg, png; the `format`
strings of image_transport's compressed transport) is decoded by common/compressed_images.py, with
the same results: visible uint8 RGB, thermal 2-D.
"""

from __future__ import annotations

import array
import sys

import cv2
import numpy as np

from rgbt_tracker_ros.common import compressed_images
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.preprocessing import NO_FINITE_TEMPERATURE, holds_finite_value

# encoding -> (channels, numpy dtype of one channel)
_LAYOUTS: dict[str, tuple[int, str]] = {
    "rgb8": (3, "u1"),
    "bgr8": (3, "u1"),
    "rgba8": (4, "u1"),
    "bgra8": (4, "u1"),
    "mono8": (1, "u1"),
    "8UC1": (1, "u1"),
    "mono16": (1, "u2"),
    "16UC1": (1, "u2"),
    "32FC1": (1, "f4"),
    # YUV 4:2:2, two bytes per pixel. ROS's "yuv422" is UYVY byte order, "yuv422_yuy2" is YUYV.
    "yuv422": (2, "u1"),
    "uyvy": (2, "u1"),
    "yuyv": (2, "u1"),
    "yuv422_yuy2": (2, "u1"),
}

_VISIBLE_TO_RGB = {
    "rgb8": None,
    "bgr8": cv2.COLOR_BGR2RGB,
    "rgba8": cv2.COLOR_RGBA2RGB,
    "bgra8": cv2.COLOR_BGRA2RGB,
    "mono8": cv2.COLOR_GRAY2RGB,
    "yuv422": cv2.COLOR_YUV2RGB_UYVY,
    "uyvy": cv2.COLOR_YUV2RGB_UYVY,
    "yuyv": cv2.COLOR_YUV2RGB_YUYV,
    "yuv422_yuy2": cv2.COLOR_YUV2RGB_YUYV,
}
# Colour-mapped thermal (a false-colour palette) is read as its luminance.
_THERMAL_COLOUR_TO_GREY = {"rgb8": cv2.COLOR_RGB2GRAY, "bgr8": cv2.COLOR_BGR2GRAY}

VISIBLE_ENCODINGS = tuple(_VISIBLE_TO_RGB)
THERMAL_ENCODINGS = ("mono8", "8UC1", "mono16", "16UC1", "32FC1", "rgb8", "bgr8")


def visible_from_msg(msg) -> np.ndarray:
    """A visible-camera Image as contiguous uint8 RGB, H x W x 3."""
    encoding = _encoding(msg, VISIBLE_ENCODINGS, "visible")
    pixels = _pixels(msg, encoding, "visible")
    code = _VISIBLE_TO_RGB[encoding]
    if code is None:
        return np.ascontiguousarray(pixels)
    return cv2.cvtColor(np.ascontiguousarray(pixels), code)


def thermal_from_msg(msg) -> np.ndarray:
    """A thermal-camera Image as a 2-D array: uint8 (display counts), uint16 (counts) or float32 (temperature).

    32FC1 pixels that are NaN stay NaN (the tracker treats them as the cold end of the display
    range); an image without a single finite temperature is rejected, by the tracker's own rule
    (tracking.preprocessing.holds_finite_value), so what passes here the tracker takes.
    """
    encoding = _encoding(msg, THERMAL_ENCODINGS, "thermal")
    pixels = _pixels(msg, encoding, "thermal")
    if encoding in _THERMAL_COLOUR_TO_GREY:
        return cv2.cvtColor(np.ascontiguousarray(pixels), _THERMAL_COLOUR_TO_GREY[encoding])
    pixels = np.ascontiguousarray(pixels)
    if not holds_finite_value(pixels):
        raise InputError(NO_FINITE_TEMPERATURE)
    return pixels


def visible_from_compressed(msg) -> np.ndarray:
    """A visible-camera CompressedImage (fields `format`, `data`) as contiguous uint8 RGB, H x W x 3."""
    return compressed_images.decode(msg.format, msg.data, "visible")


def thermal_from_compressed(msg) -> np.ndarray:
    """A thermal-camera CompressedImage as a 2-D uint8 or uint16 array (png keeps 16-bit counts)."""
    return compressed_images.decode(msg.format, msg.data, "thermal")


TRANSPORTS = ("raw", "compressed")
# (transport, camera) -> the message's pixels; the cameras are named as in ros/pairing.py
CONVERTERS = {
    ("raw", compressed_images.VISIBLE): visible_from_msg, ("raw", compressed_images.THERMAL): thermal_from_msg,
    ("compressed", compressed_images.VISIBLE): visible_from_compressed,
    ("compressed", compressed_images.THERMAL): thermal_from_compressed,
}


def compressed_to_msg(image: np.ndarray, codec: str, role: str, header=None):
    """A sensor_msgs/CompressedImage of `image` (visible uint8 RGB or grey; thermal uint8 / uint16),
    as image_transport's compressed publisher writes it (common/compressed_images.encode)."""
    from sensor_msgs.msg import CompressedImage  # message class only: no node, no rclpy context needed

    format_text, data = compressed_images.encode(image, codec, role)
    msg = CompressedImage()
    if header is not None:
        msg.header = header
    msg.format = format_text
    payload = array.array("B")
    payload.frombytes(data)
    msg.data = payload
    return msg


def image_to_msg(image: np.ndarray, encoding: str | None = None, header=None):
    """A numpy image as a sensor_msgs/Image, bytes written as they are (no colour conversion).

    Without `encoding`: uint8 HxW -> mono8, HxWx3 -> rgb8, HxWx4 -> rgba8; uint16 -> mono16;
    float32 -> 32FC1. With one, the array must have that encoding's channels and type.
    """
    from sensor_msgs.msg import Image  # message class only: no node, no rclpy context needed

    image = np.asarray(image)
    if encoding is None:
        encoding = _guess_encoding(image)
    if encoding not in _LAYOUTS:
        raise InputError(f"cannot write encoding {encoding!r}; known: {', '.join(_LAYOUTS)}")
    channels, kind = _LAYOUTS[encoding]
    shape_ok = image.ndim == 2 if channels == 1 else (image.ndim == 3 and image.shape[2] == channels)
    if channels == 1 and image.ndim == 3 and image.shape[2] == 1:
        image, shape_ok = image[:, :, 0], True
    if not shape_ok or image.dtype.newbyteorder("=") != np.dtype(kind) or image.size == 0:
        raise InputError(
            f"a {encoding} image needs {channels} channel(s) of {np.dtype(kind)}, got {image.dtype} {image.shape}"
        )
    image = np.ascontiguousarray(image, dtype=np.dtype(kind).newbyteorder("="))
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(image.shape[0]), int(image.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = int(sys.byteorder == "big" and image.dtype.itemsize > 1)
    msg.step = msg.width * channels * image.dtype.itemsize
    data = array.array("B")
    data.frombytes(memoryview(image).cast("B"))
    msg.data = data
    return msg


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time -> integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def ns_to_stamp(ns: int):
    """Integer nanoseconds -> builtin_interfaces/Time."""
    from builtin_interfaces.msg import Time

    sec, nanosec = divmod(int(ns), 1_000_000_000)
    return Time(sec=sec, nanosec=nanosec)


# ------------------------------------------------------------------------------------- helpers

def _encoding(msg, allowed: tuple[str, ...], role: str) -> str:
    encoding = str(msg.encoding)
    if encoding not in allowed:
        shown = repr(encoding) if encoding else "(empty)"
        raise InputError(f"{role} image encoding {shown} is not supported; use one of {', '.join(allowed)}")
    return encoding


def _pixels(msg, encoding: str, role: str) -> np.ndarray:
    """The message's pixels as a (possibly row-padded) view: H x W, or H x W x C for C > 1."""
    channels, kind = _LAYOUTS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise InputError(f"{role} image is empty ({width}x{height} pixels)")
    if channels == 2 and width % 2:
        raise InputError(f"{role} {encoding} image width {width} is odd; YUV 4:2:2 needs an even width")
    itemsize = np.dtype(kind).itemsize
    row_bytes = width * channels * itemsize
    if step < row_bytes:
        raise InputError(
            f"{role} image step {step} is shorter than one row: {width} px of {encoding} take {row_bytes} bytes"
        )
    if step % itemsize:
        raise InputError(f"{role} image step {step} is not a multiple of the {itemsize}-byte {encoding} sample")
    size = len(msg.data)
    expected = step * height
    if size != expected:
        what = "truncated" if size < expected else "too long"
        raise InputError(
            f"{role} image data is {what}: {size} bytes, but {height} rows of step {step} need {expected}"
        )
    raw = np.frombuffer(msg.data, dtype=np.uint8).reshape(height, step)[:, :row_bytes]
    dtype = np.dtype(kind).newbyteorder(">" if msg.is_bigendian else "<")
    pixels = raw.view(dtype)
    if dtype.byteorder not in ("=", "|"):
        pixels = pixels.astype(dtype.newbyteorder("="))
    return pixels.reshape(height, width, channels) if channels > 1 else pixels


def _guess_encoding(image: np.ndarray) -> str:
    dtype = image.dtype.newbyteorder("=")
    if dtype == np.uint8:
        if image.ndim == 2:
            return "mono8"
        if image.ndim == 3 and image.shape[2] in (3, 4):
            return "rgb8" if image.shape[2] == 3 else "rgba8"
    elif image.ndim == 2 and dtype == np.uint16:
        return "mono16"
    elif image.ndim == 2 and dtype == np.float32:
        return "32FC1"
    raise InputError(f"no Image encoding for a {image.dtype} array of shape {image.shape}; name one")
