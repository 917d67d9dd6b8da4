"""sensor_msgs/Image and CompressedImage <-> numpy for the node (cv_bridge is not installable here).

The pixels are read by common/raw_images.py (raw Image, strict about every field: each failure an
InputError that names the camera and the problem) and common/compressed_images.py (jpeg, png; the
`format` strings of image_transport's compressed transport), with the same results: visible uint8
RGB, thermal 2-D. This module adds the tracker's own rule for thermal temperatures and the rclpy
message classes. The readers accept any object with the message's fields, so this module is usable
and testable without a node.
"""

from __future__ import annotations

import array

import numpy as np

from rgbt_tracker_ros.common import compressed_images, raw_images
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.preprocessing import NO_FINITE_TEMPERATURE, holds_finite_value

VISIBLE_ENCODINGS = raw_images.VISIBLE_ENCODINGS
THERMAL_ENCODINGS = raw_images.THERMAL_ENCODINGS


def visible_from_msg(msg) -> np.ndarray:
    """A visible-camera Image as contiguous uint8 RGB, H x W x 3."""
    return raw_images.visible_rgb(msg)


def thermal_from_msg(msg) -> np.ndarray:
    """A thermal-camera Image as a 2-D array: uint8 (display counts), uint16 (counts) or float32 (temperature).

    32FC1 pixels that are NaN stay NaN (the tracker treats them as the cold end of the display
    range); an image without a single finite temperature is rejected, by the tracker's own rule
    (tracking.preprocessing.holds_finite_value), so what passes here the tracker takes.
    """
    pixels = raw_images.thermal_array(msg)
    if pixels.dtype == np.float32 and not holds_finite_value(pixels):
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

    pixels, encoding, step, bigendian = raw_images.packed(image, encoding)
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(pixels.shape[0]), int(pixels.shape[1])
    msg.encoding, msg.step, msg.is_bigendian = encoding, step, int(bigendian)
    data = array.array("B")
    data.frombytes(memoryview(pixels).cast("B"))
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
