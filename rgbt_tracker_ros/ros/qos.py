"""The QoS of the node's outputs and services, shared by the node and the tools that talk to it."""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

# Controllers and rviz use reliable subscriptions by default; a reliable writer serves both kinds.
OUTPUT_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)


def init_box_qos(reliability: str = "reliable") -> QoSProfile:
    """~/init_box: reliable by default (the ROS default of detectors, GUIs and `ros2 topic pub`), so a
    hand-off is not lost; best_effort (parameter init_box_topic.reliability) also hears a detector
    that publishes best effort, which a reliable subscription never matches."""
    policy = ReliabilityPolicy.BEST_EFFORT if reliability == "best_effort" else ReliabilityPolicy.RELIABLE
    return QoSProfile(depth=10, reliability=policy, durability=DurabilityPolicy.VOLATILE,
                      history=HistoryPolicy.KEEP_LAST)


DEBUG_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)
# Services (server and client side): the default depth of 10 dropped the requests and answers of a
# burst (50 quick init_target calls got 11 answers). Deep enough for any burst a client sends,
# bounded so that a flood of requests cannot grow memory without limit.
SERVICE_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)
