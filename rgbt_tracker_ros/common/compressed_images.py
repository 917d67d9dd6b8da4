"""sensor_msgs/CompressedImage payloads (jpeg, png) <-> numpy, with OpenCV; no ROS.

The `format` string is image_transport's `compressed` one: `"<encoding>; <codec> compressed
[<decoded order>]"`, for example `"rgb8; jpeg compressed bgr8"` or `"mono16; png compressed "`;
older drivers send the codec alone (`"jpeg"`, `"png"`). The encoding before the `;` is the camera's
raw encoding: it fixes the sample depth the decoded image must have (a `mono16` png that decodes
to 8 bits is refused), and which camera it can be (no `mono16` visible, no `32FC1` anywhere: png
and jpeg carry no floats). The data must be the codec the format names (by its signature) and
whole (a jpeg ends with its end-of-image marker, a png with its IEND chunk), and its header's size
at most MAX_SIDE on a side, read before decoding (a few hundred bytes of png can declare a
gigapixel image of zeros). Every refusal is an InputError whose message names the camera and the
problem.

Decoded like the raw images (ros/image_conversion.py): visible as contiguous uint8 RGB H x W x 3,
thermal as a 2-D uint8 or uint16 array (colour-mapped thermal read as grey).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rgbt_tracker_ros.common.errors import InputError

VISIBLE = "visible"
THERMAL = "thermal"
COMPRESSED_SUFFIX = "/compressed"   # image_transport: the compressed form of topic T is T/compressed
CODECS = ("jpeg", "png")
_CODEC_NAMES = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png"}
_SIGNATURES = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}
_PNG_END = b"IEND\xaeB`\x82"
_JPEG_END = b"\xff\xd9"

# raw encoding -> bits per sample, for the encodings a compressed camera may declare
_DEPTHS = {"rgb8": 8, "bgr8": 8, "rgba8": 8, "bgra8": 8, "mono8": 8, "8UC1": 8, "mono16": 16, "16UC1": 16}
_VISIBLE_ORIGINALS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8")
_THERMAL_ORIGINALS = ("mono8", "8UC1", "mono16", "16UC1", "rgb8", "bgr8")
ORIGINALS = {VISIBLE: _VISIBLE_ORIGINALS, THERMAL: _THERMAL_ORIGINALS}
# OpenCV decodes colour as BGR(A)
_BGR_TO_RGB = {3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}
_BGR_TO_GREY = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}

MAX_SIDE = 8192             # px; 4K and 8K UHD cameras fit
DEFAULT_JPEG_QUALITY = 90   # image_transport's default is 95; 90 is what links often run at
# zlib level 1 with the 'sub' row filter and run-length matching: a 640x512 16-bit frame of sensor
# noise encodes in about 13 ms here against 49 ms at image_transport's png_level 3 (about the same size)
DEFAULT_PNG_LEVEL = 1
_FAST_PNG = [getattr(cv2, name) for pair in (("IMWRITE_PNG_FILTER", "IMWRITE_PNG_FILTER_SUB"),
                                             ("IMWRITE_PNG_STRATEGY", "IMWRITE_PNG_STRATEGY_RLE"))
             if all(hasattr(cv2, n) for n in pair) for name in pair]


@dataclass(frozen=True)
class CompressedFormat:
    """A parsed `format` string."""

    codec: str                    # 'jpeg' or 'png'
    encoding: str | None          # the camera's raw encoding; None: the codec alone was given

    def __str__(self) -> str:
        if self.encoding is None:
            return self.codec
        # image_transport's spelling: colour is decoded in OpenCV's BGR order; grey has no order
        order = "bgr8" if self.encoding in ("rgb8", "bgr8", "rgba8", "bgra8") else ""
        return f"{self.encoding}; {self.codec} compressed {order}"


def parse_format(text: str, role: str) -> CompressedFormat:
    """The codec and raw encoding of a CompressedImage `format` (module docstring)."""
    shown = repr(text) if text else "(empty)"
    head, sep, tail = str(text).partition(";")
    if not sep:
        codec = _CODEC_NAMES.get(head.strip().lower())
        if codec is None:
            raise InputError(f"{role} compressed image format {shown} names no codec; expected jpeg or png "
                             "(like 'rgb8; jpeg compressed bgr8' or 'mono16; png compressed')")
        return CompressedFormat(codec, None)
    encoding = head.strip()
    words = tail.split()
    codec = _CODEC_NAMES.get(words[0].lower()) if words else None
    if codec is None or len(words) < 2 or words[1] != "compressed":
        if words and words[0] == "compressedDepth":
            raise InputError(f"{role} compressed image format {shown} is compressedDepth (depth images); "
                             "this node takes image_transport's compressed transport (jpeg or png)")
        raise InputError(f"{role} compressed image format {shown} is not '<encoding>; jpeg|png compressed ...'")
    if encoding not in ORIGINALS[role]:
        raise InputError(f"{role} compressed image format {shown}: encoding {encoding!r} is not a {role} "
                         f"encoding; use one of {', '.join(ORIGINALS[role])}")
    if codec == "jpeg" and _DEPTHS[encoding] != 8:
        raise InputError(f"{role} compressed image format {shown}: jpeg holds 8-bit samples, not {encoding}; "
                         "16-bit images travel as png")
    return CompressedFormat(codec, encoding)


def decode(format_text: str, data, role: str) -> np.ndarray:
    """A CompressedImage's pixels: visible as uint8 RGB H x W x 3, thermal as 2-D uint8 / uint16."""
    if role not in ORIGINALS:
        raise ValueError(f"role must be {VISIBLE} or {THERMAL}, got {role!r}")
    form = parse_format(format_text, role)
    raw = np.frombuffer(data, dtype=np.uint8) if len(data) else np.zeros(0, np.uint8)
    _check_whole(raw, form, role)
    size = _declared_size(raw, form.codec)
    if size is None:
        raise InputError(f"{role} {form.codec} image of {raw.size} bytes has no readable size in its header")
    if max(size) > MAX_SIDE or min(size) <= 0:
        raise InputError(f"{role} {form.codec} image declares {size[0]}x{size[1]} pixels; "
                         f"at most {MAX_SIDE} on a side are decoded")
    image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise InputError(f"{role} {form.codec} image of {raw.size} bytes cannot be decoded (corrupt data)")
    depth = 16 if image.dtype == np.uint16 else 8 if image.dtype == np.uint8 else None
    if depth is None:
        raise InputError(f"{role} {form.codec} image decodes to {image.dtype} samples; expected 8 or 16 bits")
    expected = _DEPTHS[form.encoding] if form.encoding is not None else (8 if role == VISIBLE else None)
    if expected is not None and depth != expected:
        said = f"the format says {form.encoding}" if form.encoding else "the visible camera takes 8 bits"
        raise InputError(f"{role} {form.codec} image holds {depth}-bit samples but {said}")
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels == 1:
        image = image.reshape(image.shape[:2])
        return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if role == VISIBLE else image)
    if channels not in _BGR_TO_RGB:
        raise InputError(f"{role} {form.codec} image has {channels} channels; expected 1, 3 or 4")
    table = _BGR_TO_RGB if role == VISIBLE else _BGR_TO_GREY
    return np.ascontiguousarray(cv2.cvtColor(image, table[channels]))


def _check_whole(raw: np.ndarray, form: CompressedFormat, role: str) -> None:
    if raw.size == 0:
        raise InputError(f"{role} compressed image holds no data (0 bytes)")
    signature = _SIGNATURES[form.codec]
    if raw[:len(signature)].tobytes() != signature:
        other = next((c for c, s in _SIGNATURES.items() if raw[:len(s)].tobytes() == s), None)
        found = f"a {other}" if other else f"not a {form.codec} (it starts with {raw[:4].tobytes().hex(' ')})"
        raise InputError(f"{role} compressed image format {str(form)!r} says {form.codec}, but the data is {found}")
    if form.codec == "png":
        whole = raw[-len(_PNG_END):].tobytes() == _PNG_END
    else:  # some encoders pad a jpeg after its end marker
        end = raw.size
        while end > 0 and raw[end - 1] == 0:
            end -= 1
        whole = raw[max(0, end - 2):end].tobytes() == _JPEG_END
    if not whole:
        raise InputError(f"{role} {form.codec} image is truncated: its {raw.size} bytes lack the "
                         f"{'IEND chunk' if form.codec == 'png' else 'end-of-image marker'}")


_JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _declared_size(raw: np.ndarray, codec: str) -> tuple[int, int] | None:
    """(width, height) from the header: png's IHDR chunk, or a jpeg's start-of-frame segment."""
    data = raw.tobytes()
    if codec == "png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    position = 2
    while position + 9 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:           # fill byte
            position += 1
            continue
        if marker in _JPEG_FRAME_MARKERS:
            height, width = (int.from_bytes(data[position + k:position + k + 2], "big") for k in (5, 7))
            return width, height
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:   # markers without a length
            position += 2
            continue
        position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
    return None


def encode(image: np.ndarray, codec: str, role: str, jpeg_quality: int = DEFAULT_JPEG_QUALITY,
           png_level: int = DEFAULT_PNG_LEVEL) -> tuple[str, bytes]:
    """(format, data) of an image as image_transport's compressed publisher sends it: visible uint8
    RGB (or grey), thermal 2-D uint8 or uint16 (png keeps 16 bits; jpeg takes 8-bit images only)."""
    if codec not in CODECS:
        raise InputError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    image = np.asarray(image)
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(f"a {image.dtype} {role} image cannot be compressed: jpeg and png carry 8- or 16-bit "
                         "integer samples (publish 32FC1 raw)")
    if role == VISIBLE and image.dtype != np.uint8:
        raise InputError(f"visible images are 8-bit, got {image.dtype}")
    if codec == "jpeg" and image.dtype != np.uint8:
        raise InputError(f"jpeg holds 8-bit samples; a {image.dtype} {role} image travels as png")
    if image.ndim == 2:
        encoding = "mono16" if image.dtype == np.uint16 else "mono8"
        pixels = image
    elif image.ndim == 3 and image.shape[2] == 3:
        encoding, pixels = "rgb8", cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    else:
        raise InputError(f"a {role} image of shape {image.shape} cannot be compressed; expected H x W or H x W x 3")
    options = ([cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if codec == "jpeg"
               else [cv2.IMWRITE_PNG_COMPRESSION, int(png_level), *_FAST_PNG])
    ok, data = cv2.imencode(".jpg" if codec == "jpeg" else ".png", pixels, options)
    if not ok:
        raise InputError(f"OpenCV could not encode a {image.shape} {image.dtype} {role} image as {codec}")
    return str(CompressedFormat(codec, encoding)), data.tobytes()
