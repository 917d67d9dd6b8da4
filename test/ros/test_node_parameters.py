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
