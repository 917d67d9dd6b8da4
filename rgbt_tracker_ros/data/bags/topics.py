"""Which topics of a bag hold what: the two cameras, the ground truth, the thermal-to-visible matrix.

A bag written by `rgbt-tracker bag` uses the names below: the node's input topics at the root
namespace (/visible/image, /thermal/image; with --compressed, sensor_msgs/CompressedImage on
/visible/image/compressed and /thermal/image/compressed, image_transport's names), `/groundtruth` (geometry_msgs/PolygonStamped, the
annotated box with the stamp of the frame it belongs to; an empty polygon marks a frame without
annotation) and `/thermal_to_visible` (one std_msgs/Float64MultiArray, 3x3, when the sequence has
its own registration). A recording from a robot has its drivers' names: they are named
(--visible-topic, --thermal-topic) or found among the image topics (raw or compressed) by their names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rgbt_tracker_ros.common.compressed_images import COMPRESSED_SUFFIX
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.bags.messages import FLOAT64_ARRAY, IMAGE_TYPES, POLYGON_STAMPED

VISIBLE_TOPIC = "/visible/image"
THERMAL_TOPIC = "/thermal/image"
GROUNDTRUTH_TOPIC = "/groundtruth"
HOMOGRAPHY_TOPIC = "/thermal_to_visible"

# How drivers name their topics (realsense /camera/color/image_raw, FLIR /thermal/image_raw, ...).
_THERMAL_WORDS = re.compile(r"therm|infrared|(^|[/_])(ir|lwir|flir|boson|lepton)([/_]|$)", re.IGNORECASE)
_VISIBLE_WORDS = re.compile(r"visible|colou?r|rgb|(^|[/_])(vis|image_color)([/_]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class BagTopics:
    """The topics of one bag; None: the bag has no such topic."""

    visible: str | None
    thermal: str | None
    groundtruth: str | None = None
    homography: str | None = None

    @property
    def cameras(self) -> list[str]:
        return [t for t in (self.visible, self.thermal) if t is not None]


def find_topics(types: dict[str, str], visible: str | None = None, thermal: str | None = None) -> BagTopics:
    """The bag's topics from {topic: message type}: the named cameras, or else its image topics by
    name (exactly as written by `bag`, or by the words drivers use); InputError when it cannot tell."""
    images = sorted(t for t, kind in types.items() if kind in IMAGE_TYPES)
    for role, named in (("visible", visible), ("thermal", thermal)):
        if named is not None and named not in types:
            raise InputError(f"the bag has no topic {named}; its image topics: {', '.join(images) or 'none'}")
        if named is not None and types[named] not in IMAGE_TYPES:
            raise InputError(f"topic {named} holds {types[named]}, not {' or '.join(IMAGE_TYPES)} ({role} camera)")
    if visible is None and thermal is None:
        visible, thermal = _guess(images)
    elif visible is None:
        visible = _guess([t for t in images if t != thermal])[0]
    elif thermal is None:
        thermal = _guess([t for t in images if t != visible])[1]
    if visible is None and thermal is None:
        raise InputError(f"the bag has no camera image topic ({' or '.join(IMAGE_TYPES)}); topics: "
                         f"{', '.join(f'{t} ({k})' for t, k in sorted(types.items())) or 'none'}")
    groundtruth = GROUNDTRUTH_TOPIC if types.get(GROUNDTRUTH_TOPIC) == POLYGON_STAMPED else None
    homography = HOMOGRAPHY_TOPIC if types.get(HOMOGRAPHY_TOPIC) == FLOAT64_ARRAY else None
    return BagTopics(visible, thermal, groundtruth, homography)


def _guess(images: list[str]) -> tuple[str | None, str | None]:
    """(visible, thermal) among image topics, by name; an ambiguous set is an error that lists them."""
    for suffix in ("", COMPRESSED_SUFFIX):
        if set(images) >= {VISIBLE_TOPIC + suffix, THERMAL_TOPIC + suffix}:
            return VISIBLE_TOPIC + suffix, THERMAL_TOPIC + suffix
    thermal = [t for t in images if _THERMAL_WORDS.search(t)]
    visible = [t for t in images if t not in thermal and _VISIBLE_WORDS.search(t)]
    if not images:
        return None, None
    if len(thermal) <= 1 and len(visible) <= 1 and (thermal or visible):
        if len(images) == len(thermal) + len(visible):
            return (visible[0] if visible else None), (thermal[0] if thermal else None)
    raise InputError(f"cannot tell which image topic is which camera among {', '.join(images)}: "
                     "name them with --visible-topic and --thermal-topic")
