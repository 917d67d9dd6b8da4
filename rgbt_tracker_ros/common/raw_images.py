"""sensor_msgs/Image payloads <-> numpy without ROS, strict about what they accept.

Each message is checked before any pixel is read: a known encoding, non-zero width and height, a
`step` that holds a row, data exactly `step * height` bytes long, an even width for YUV 4:2:2. Every
failure is an InputError whose message names the camera and the problem. The readers take any
object with the Image fields (`height`, `width`, `encoding`, `is_bigendian`, `step`, `data`): an
rclpy message (the node, ros/image_conversion.py), a rosbags one (data/bags/), a test's namespace.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from rgbt_tracker_ros.common.errors import InputError

# encoding -> (channels, numpy dtype of one channel)
LAYOUTS: dict[str, tuple[int, str]] = {
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


def visible_rgb(msg) -> np.ndarray:
    """A visible-camera Image as contiguous uint8 RGB, H x W x 3."""
    encoding = _encoding(msg, VISIBLE_ENCODINGS, "visible")
    pixels = _pixels(msg, encoding, "visible")
    code = _VISIBLE_TO_RGB[encoding]
    if code is None:
        return np.ascontiguousarray(pixels)
    return cv2.cvtColor(np.ascontiguousarray(pixels), code)


def thermal_array(msg) -> np.ndarray:
    """A thermal-camera Image as a contiguous 2-D array of its own depth: uint8, uint16 or float32
    (colour-mapped thermal as its grey level)."""
    encoding = _encoding(msg, THERMAL_ENCODINGS, "thermal")
    pixels = np.ascontiguousarray(_pixels(msg, encoding, "thermal"))
    if encoding in _THERMAL_COLOUR_TO_GREY:
        return cv2.cvtColor(pixels, _THERMAL_COLOUR_TO_GREY[encoding])
    return pixels


def packed(image: np.ndarray, encoding: str | None = None) -> tuple[np.ndarray, str, int, bool]:
    """(contiguous pixels in this machine's byte order, encoding, step, is_bigendian) of an image to
    be written as an Image, bytes as they are (no colour conversion).

    Without `encoding`: uint8 HxW -> mono8, HxWx3 -> rgb8, HxWx4 -> rgba8; uint16 -> mono16;
    float32 -> 32FC1. With one, the array must have that encoding's channels and type.
    """
    image = np.asarray(image)
    if encoding is None:
        encoding = _guess_encoding(image)
    if encoding not in LAYOUTS:
        raise InputError(f"cannot write encoding {encoding!r}; known: {', '.join(LAYOUTS)}")
    channels, kind = LAYOUTS[encoding]
    shape_ok = image.ndim == 2 if channels == 1 else (image.ndim == 3 and image.shape[2] == channels)
    if channels == 1 and image.ndim == 3 and image.shape[2] == 1:
        image, shape_ok = image[:, :, 0], True
    if not shape_ok or image.dtype.newbyteorder("=") != np.dtype(kind) or image.size == 0:
        raise InputError(
            f"a {encoding} image needs {channels} channel(s) of {np.dtype(kind)}, got {image.dtype} {image.shape}"
        )
    image = np.ascontiguousarray(image, dtype=np.dtype(kind).newbyteorder("="))
    step = int(image.shape[1]) * channels * image.dtype.itemsize
    return image, encoding, step, sys.byteorder == "big" and image.dtype.itemsize > 1


# ------------------------------------------------------------------------------------- helpers

def _encoding(msg, allowed: tuple[str, ...], role: str) -> str:
    encoding = str(msg.encoding)
    if encoding not in allowed:
        shown = repr(encoding) if encoding else "(empty)"
        raise InputError(f"{role} image encoding {shown} is not supported; use one of {', '.join(allowed)}")
    return encoding


def _pixels(msg, encoding: str, role: str) -> np.ndarray:
    """The message's pixels as a (possibly row-padded) view: H x W, or H x W x C for C > 1."""
    channels, kind = LAYOUTS[encoding]
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
