"""The tracker node's names, each defined once: the node, its input and output topics, its services
and the parameter holding the homography. Plain constants (no rclpy), read by the node, by the tools
that drive it (ros_tools/), by `register` and by the launch file."""

from __future__ import annotations

from rgbt_tracker_ros.common.compressed_images import COMPRESSED_SUFFIX  # noqa: F401 (one of the node's names)
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE

NODE_NAME = "rgbt_tracker"
# `python -m NODE_MODULE --ros-args ...` starts the node (the `tracker_node` executable runs its main).
NODE_MODULE = "rgbt_tracker_ros.ros.tracker_node"

# Inputs: relative names, placed by the namespace and remapping.
INPUT_TOPICS = {VISIBLE: "visible/image", THERMAL: "thermal/image"}
# A compressed camera (parameter <camera>.transport) is read from INPUT_TOPICS[camera] + COMPRESSED_SUFFIX.
# Outputs and services, relative to the node: ~/NAME is /<namespace>/<node>/NAME.
TARGET_TOPIC = "target"
SCORE_TOPIC = "score"
STATE_TOPIC = "state"
# Box, score and state of a frame in one stamped message (diagnostic_msgs/DiagnosticArray, ros/result_message.py).
RESULT_TOPIC = "result"
DEBUG_IMAGE_TOPIC = "debug_image"
INIT_TARGET_SERVICE = "init_target"
# A target handed over by a detector or ground station (geometry_msgs/PolygonStamped, ros/init_box_topic.py).
INIT_BOX_TOPIC = "init_box"
RESET_SERVICE = "reset"
DIAGNOSTICS_TOPIC = "/diagnostics"

# The read-only parameter with the thermal-to-visible homography (9 numbers, row-major).
HOMOGRAPHY_PARAMETER = "thermal_to_visible"


def private(name: str) -> str:
    """'~/NAME': a name under the node's own."""
    return f"~/{name}"
