"""One source of parameter ranges: the node's ParameterDescriptors and its own checks take the
ranges of the tracker's settings from `tracking.config.RANGES`, which TrackerConfig validates
against, so a value the node accepts the tracker accepts, and the other way round."""

from __future__ import annotations

import math

import pytest

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros import parameters
from rgbt_tracker_ros.tracking.config import RANGES, TrackerConfig

# Node parameter -> TrackerConfig field, for every parameter that configures the tracker with a range.
NODE_TO_CONFIG = {"threads": "threads", **{f"tracker.{name}": name for name in RANGES if name != "threads"}}


def _descriptor_range(spec) -> tuple[float, float]:
    descriptor = spec.descriptor()
    (accepted,) = descriptor.integer_range or descriptor.floating_point_range
    return accepted.from_value, accepted.to_value


def test_every_ranged_tracker_setting_is_a_node_parameter():
    assert set(NODE_TO_CONFIG.values()) == set(RANGES)
    assert set(NODE_TO_CONFIG) <= set(parameters.SPEC_BY_NAME)


@pytest.mark.parametrize("name", sorted(NODE_TO_CONFIG))
def test_descriptor_and_tracker_config_agree(name):
    spec, field = parameters.SPEC_BY_NAME[name], NODE_TO_CONFIG[name]
    accepted = RANGES[field]
    assert _descriptor_range(spec) == (accepted.low, accepted.high)
    assert bool(spec.descriptor().integer_range) == accepted.integer
    assert spec.default == getattr(TrackerConfig(), field)  # the node's default is the tracker's
    # Score thresholds depend on each other (score_lost <= score_tracking): test each alone.
    free = {"score_lost": 0.0} if field == "score_tracking" else {"score_tracking": 1.0} if field == "score_lost" else {}
    step = 1 if accepted.integer else 1e-6
    for value, ok in ((accepted.low, True), (accepted.high, True), (accepted.low - step, False),
                      (accepted.high + step, False)):
        value = int(value) if accepted.integer else float(value)
        node_ok = parameters.check(name, value) is None
        try:
            TrackerConfig(**{**free, field: value})
            config_ok = True
        except InputError:
            config_ok = False
        assert node_ok == config_ok == ok, (name, value, parameters.check(name, value))


def test_agreed_ranges():
    """The two tables disagreed before (threads 1..256 vs 1..64, lost_after 1..1e6 vs 1..1e4): the
    node's narrower ranges hold for both now."""
    assert (RANGES["threads"].low, RANGES["threads"].high) == (1, 64)
    assert (RANGES["lost_after"].low, RANGES["lost_after"].high) == (1, 10_000)
    with pytest.raises(InputError, match=r"threads must be an integer in \[1, 64\]"):
        TrackerConfig(threads=65)
    with pytest.raises(InputError, match=r"lost_after must be an integer in \[1, 10000\]"):
        TrackerConfig(lost_after=10_001)
    assert "threads must be in [1, 64]" in parameters.check("threads", 65)
    assert parameters.check("tracker.min_box", math.inf).endswith("must be a finite number, got inf")


def test_frame_check_switch_is_a_read_only_boolean_parameter():
    spec = parameters.SPEC_BY_NAME["tracker.frame_check"]
    assert spec.default is True is TrackerConfig().frame_check
    descriptor = spec.descriptor()
    assert descriptor.read_only and not descriptor.integer_range and not descriptor.floating_point_range
    assert parameters.check("tracker.frame_check", False) is None
    values = {s.name: s.default for s in parameters.SPECS}
    startup, _ = parameters.settings_from({**values, "tracker.frame_check": False})
    assert startup.tracker_config().frame_check is False


@pytest.mark.ros
def test_frame_check_is_declared_on_the_node_with_its_descriptor(monkeypatch, tmp_path):
    rclpy = pytest.importorskip("rclpy")
    from rcl_interfaces.msg import ParameterType
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("ROS_LOG_DIR", str(tmp_path))
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        for overrides, expected in (([], True), ([Parameter("tracker.frame_check", value=False)], False)):
            node = Node("frame_check_parameter", context=context, parameter_overrides=overrides)
            try:
                parameters.declare(node)
                descriptor = node.describe_parameter("tracker.frame_check")
                assert descriptor.type == ParameterType.PARAMETER_BOOL and descriptor.read_only
                assert descriptor.description == parameters.SPEC_BY_NAME["tracker.frame_check"].description
                startup, _ = parameters.read(node)
                assert startup.tracker_config().frame_check is expected
            finally:
                node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
