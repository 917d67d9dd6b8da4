"""The ROS 2 messages of a bag, as `rosbags` objects of the Kilted type store, from and to numpy.

One function per message form: `raw_image` writes sensor_msgs/Image, `compressed_image`
sensor_msgs/CompressedImage (jpeg or png, as image_transport's compressed transport sends them);
`image_array` reads either through the node's own readers (common/raw_images.py,
common/compressed_images.py): every encoding the node takes, refused as the node refuses it.
"""

from __future__ import annotations

import struct

import numpy as np
from rosbags.typesys import Stores, get_typestore

from rgbt_tracker_ros.common import compressed_images, raw_images
from rgbt_tracker_ros.common.errors import InputError

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"
IMAGE_TYPES = (IMAGE, COMPRESSED_IMAGE)
# the transport (ros/image_conversion.TRANSPORTS) of each camera message type
TRANSPORT_OF = {IMAGE: "raw", COMPRESSED_IMAGE: "compressed"}
POLYGON_STAMPED = "geometry_msgs/msg/PolygonStamped"
FLOAT32 = "std_msgs/msg/Float32"
UINT8 = "std_msgs/msg/UInt8"
FLOAT64_ARRAY = "std_msgs/msg/Float64MultiArray"

_T = TYPESTORE.types
_NS = 1_000_000_000


def serialize(message) -> bytes:
    """CDR bytes of a message, as rosbag2 stores them (and as DDS carries them)."""
    return bytes(TYPESTORE.serialize_cdr(message, message.__msgtype__))


def deserialize(data, msgtype: str):
    return TYPESTORE.deserialize_cdr(data, msgtype)


def header(stamp_ns: int, frame_id: str):
    sec, nanosec = divmod(int(stamp_ns), _NS)
    return _T["std_msgs/msg/Header"](stamp=_T["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec),
                                      frame_id=frame_id)


def stamp_ns(message) -> int:
    """The header stamp of a stamped message, in integer nanoseconds."""
    stamp = message.header.stamp
    return int(stamp.sec) * _NS + int(stamp.nanosec)


def cdr_header_stamp_ns(data) -> int:
    """The header stamp of a serialized stamped message (one that starts with std_msgs/Header),
    read from its first bytes without decoding the rest (an image's pixels)."""
    raw = bytes(data[:12])
    if len(raw) < 12 or raw[0] != 0 or raw[1] not in (0, 1):
        raise InputError("a stamped message in the bag is not CDR-encoded")
    order = "<" if raw[1] == 1 else ">"
    sec, nanosec = struct.unpack_from(f"{order}iI", raw, 4)
    return sec * _NS + nanosec


def raw_image(pixels: np.ndarray, encoding: str, stamp_ns_: int, frame_id: str):
    """A sensor_msgs/Image holding `pixels` as they are (this machine's byte order, rows unpadded)."""
    pixels, encoding, step, bigendian = raw_images.packed(pixels, encoding)
    height, width = pixels.shape[:2]
    return _T[IMAGE](header=header(stamp_ns_, frame_id), height=height, width=width, encoding=encoding,
                     is_bigendian=int(bigendian), step=step, data=pixels.reshape(-1).view(np.uint8))


def compressed_image(pixels: np.ndarray, codec: str, role: str, stamp_ns_: int, frame_id: str):
    """A sensor_msgs/CompressedImage of `pixels` (a visible or thermal frame, `role`) in `codec`."""
    format_text, data = compressed_images.encode(pixels, codec, role)
    return _T[COMPRESSED_IMAGE](header=header(stamp_ns_, frame_id), format=format_text,
                                data=np.frombuffer(data, dtype=np.uint8))


def image_array(message, colour: bool) -> np.ndarray:
    """A sensor_msgs/Image's or CompressedImage's pixels, as the node reads them: visible (`colour`)
    as uint8 RGB H x W x 3, thermal as a 2-D array of its own depth (colour-mapped thermal as grey)."""
    if message.__msgtype__ == COMPRESSED_IMAGE:
        return compressed_images.decode(message.format, message.data,
                                        compressed_images.VISIBLE if colour else compressed_images.THERMAL)
    return raw_images.visible_rgb(message) if colour else raw_images.thermal_array(message)


def polygon_box(box: np.ndarray | None, stamp_ns_: int, frame_id: str):
    """A geometry_msgs/PolygonStamped with the box's four corners (x, y), (x+w, y), (x+w, y+h),
    (x, y+h), z = 0, the way the node's `~/target` carries it; empty for None or a NaN box."""
    points = []
    if box is not None and np.all(np.isfinite(box)):
        x, y, w, h = (float(v) for v in box)
        point = _T["geometry_msgs/msg/Point32"]
        points = [point(x=x, y=y, z=0.0), point(x=x + w, y=y, z=0.0),
                  point(x=x + w, y=y + h, z=0.0), point(x=x, y=y + h, z=0.0)]
    return _T[POLYGON_STAMPED](header=header(stamp_ns_, frame_id), polygon=_T["geometry_msgs/msg/Polygon"](points=points))


def box_of_polygon(message) -> np.ndarray:
    """x, y, w, h of a polygon's bounding rectangle; NaN x 4 for an empty polygon."""
    points = message.polygon.points
    if not points:
        return np.full(4, np.nan)
    xs = np.array([p.x for p in points], dtype=np.float64)
    ys = np.array([p.y for p in points], dtype=np.float64)
    return np.array([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])


def float32(value: float):
    return _T[FLOAT32](data=float(value))


def uint8(value: int):
    return _T[UINT8](data=int(value))


def matrix_message(matrix: np.ndarray):
    """A std_msgs/Float64MultiArray holding a 2-D matrix (row-major, dims 'rows' and 'cols')."""
    matrix = np.asarray(matrix, dtype=np.float64)
    rows, cols = matrix.shape
    dim = _T["std_msgs/msg/MultiArrayDimension"]
    layout = _T["std_msgs/msg/MultiArrayLayout"](
        dim=[dim(label="rows", size=rows, stride=rows * cols), dim(label="cols", size=cols, stride=cols)],
        data_offset=0)
    return _T[FLOAT64_ARRAY](layout=layout, data=matrix.reshape(-1).copy())


def matrix_of(message) -> np.ndarray:
    sizes = [int(d.size) for d in message.layout.dim]
    data = np.asarray(message.data, dtype=np.float64)[int(message.layout.data_offset):]
    if len(sizes) != 2 or data.size != sizes[0] * sizes[1]:
        raise InputError(f"a matrix message needs two dimensions that hold its {data.size} numbers, got {sizes}")
    return data.reshape(sizes)
