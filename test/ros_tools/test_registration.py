"""The thermal-to-visible homography from point pairs (ros_tools/registration.py; no ROS needed)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from helpers.point_pairs import THERMAL_POINTS, TRUE_H, visible_of
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros.names import HOMOGRAPHY_PARAMETER
from rgbt_tracker_ros.ros_tools.registration import (
    PARAMETER_NAME,
    estimate_homography,
    load_point_pairs,
    parameter_block,
    point_pairs,
)

from rgbt_tracker_ros.tracking.geometry import map_points


def test_recovers_a_known_homography_from_many_points():
    registration = estimate_homography(point_pairs(THERMAL_POINTS, visible_of(THERMAL_POINTS)))
    np.testing.assert_allclose(registration.matrix, TRUE_H, rtol=1e-6, atol=1e-8)
    assert registration.inliers.all() and registration.method == "least-squares"
    assert registration.rms_error < 1e-3


def test_exactly_four_points_give_the_exact_homography():
    four = THERMAL_POINTS[:4]
    registration = estimate_homography(point_pairs(four, visible_of(four)))
    assert registration.method == "exact"
    np.testing.assert_allclose(registration.matrix, TRUE_H, rtol=1e-6, atol=1e-8)


def test_ransac_rejects_a_wrong_pair_and_noise_stays_small():
    rng = np.random.default_rng(0)
    visible = visible_of(THERMAL_POINTS) + rng.normal(0.0, 0.3, THERMAL_POINTS.shape)
    visible[4] += (60.0, -45.0)  # one pair clicked on the wrong feature
    registration = estimate_homography(point_pairs(THERMAL_POINTS, visible), ransac_threshold=3.0)
    assert registration.method == "ransac"
    assert not registration.inliers[4] and registration.inliers.sum() == len(THERMAL_POINTS) - 1
    assert registration.rms_error < 1.0
    # The estimate maps the image corners to within a pixel or two of the true homography.
    corners = np.array([[0, 0], [639, 0], [639, 511], [0, 511]], dtype=np.float64)
    assert np.abs(map_points(corners, registration.matrix) - map_points(corners, TRUE_H)).max() < 2.0


@pytest.mark.parametrize("thermal, visible, reason", [
    (THERMAL_POINTS[:3], visible_of(THERMAL_POINTS[:3]), "at least 4"),
    (THERMAL_POINTS[:5], visible_of(THERMAL_POINTS[:4]), "5 thermal points but 4 visible"),
    ([[0, 0], [10, 10], [20, 20], [30, 30], [40, 40]], [[0, 0], [10, 0], [10, 10], [0, 10], [5, 5]], "collinear"),
    ([[0, 0], [10, 0], [20, 0], [5, 9]], [[0, 0], [10, 0], [10, 10], [0, 10]], "three of the four"),
    ([[0, 0], [10, 0], [10, 10], [10, 10]], [[0, 0], [10, 0], [10, 10], [0, 10]], "duplicates"),
    ([[0, 0], [10, 0], [10, float("nan")], [0, 10]], [[0, 0], [10, 0], [10, 10], [0, 10]], "NaN"),
    ([[0, 0, 1], [10, 0, 1], [10, 10, 1], [0, 10, 1]], [[0, 0], [10, 0], [10, 10], [0, 10]], "[x, y]"),
    ("a string", [[0, 0], [10, 0], [10, 10], [0, 10]], "list of [x, y]"),
    ([[0, 0], ["a", 0], [10, 10], [0, 10]], [[0, 0], [10, 0], [10, 10], [0, 10]], "pairs of numbers"),
])
def test_bad_point_sets_are_refused_with_the_reason(thermal, visible, reason):
    with pytest.raises(InputError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        point_pairs(thermal, visible)


def test_points_file_errors(tmp_path):
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("thermal: [[0, 0], [1, 1]\nvisible: [")
    with pytest.raises(InputError, match="not valid YAML at line"):
        load_point_pairs(malformed)
    missing = tmp_path / "missing.yaml"
    missing.write_text("thermal: [[0, 0], [10, 0], [10, 10], [0, 10]]\n")
    with pytest.raises(InputError, match="lacks `visible`"):
        load_point_pairs(missing)
    not_mapping = tmp_path / "list.yaml"
    not_mapping.write_text("- [0, 0]\n")
    with pytest.raises(InputError, match="must be a mapping"):
        load_point_pairs(not_mapping)
    with pytest.raises(InputError, match="cannot read points file"):
        load_point_pairs(tmp_path / "absent.yaml")


def test_parameter_block_reads_back_as_the_node_parameter():
    assert PARAMETER_NAME == HOMOGRAPHY_PARAMETER  # the node's own parameter name
    block = yaml.safe_load(parameter_block(TRUE_H))
    values = block["/**"]["ros__parameters"][PARAMETER_NAME]
    assert len(values) == 9 and all(isinstance(v, float) for v in values)
    np.testing.assert_array_equal(np.array(values).reshape(3, 3), TRUE_H / TRUE_H[2, 2])
