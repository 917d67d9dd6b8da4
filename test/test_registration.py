"""`rgbt-tracker register`: the thermal-to-visible homography from point pairs (no ROS needed)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from rgbt_tracker_ros.cli import main as cli_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros.registration import (
    PARAMETER_NAME,
    apply_homography,
    estimate_homography,
    load_point_pairs,
    parameter_block,
    point_pairs,
)

# A thermal camera (640x512) seen from the visible one (640x480): scaled, rotated by 2 degrees,
# shifted, with a little perspective. Thermal pixel -> visible pixel.
_angle = np.deg2rad(2.0)
TRUE_H = np.array([
    [0.95 * np.cos(_angle), -0.95 * np.sin(_angle), 14.0],
    [0.95 * np.sin(_angle), 0.90 * np.cos(_angle), -9.0],
    [2e-5, -3e-5, 1.0],
])
THERMAL_POINTS = np.array([
    [40, 30], [600, 45], [610, 480], [35, 470], [320, 256], [180, 120], [470, 380], [150, 400], [500, 150],
], dtype=np.float64)


def visible_of(points: np.ndarray) -> np.ndarray:
    return apply_homography(TRUE_H, points)


def write_points(path, thermal, visible) -> None:
    path.write_text(yaml.safe_dump({"thermal": np.asarray(thermal).tolist(), "visible": np.asarray(visible).tolist()}))


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
    assert np.abs(apply_homography(registration.matrix, corners) - apply_homography(TRUE_H, corners)).max() < 2.0


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
    block = yaml.safe_load(parameter_block(TRUE_H))
    values = block["/**"]["ros__parameters"][PARAMETER_NAME]
    assert len(values) == 9 and all(isinstance(v, float) for v in values)
    np.testing.assert_array_equal(np.array(values).reshape(3, 3), TRUE_H / TRUE_H[2, 2])


def test_register_command_prints_the_block_and_the_error(tmp_path, capsys):
    points = tmp_path / "points.yaml"
    write_points(points, THERMAL_POINTS, visible_of(THERMAL_POINTS))
    assert cli_main(["register", "--points", str(points)]) == 0
    out, err = capsys.readouterr()
    values = yaml.safe_load(out)["/**"]["ros__parameters"][PARAMETER_NAME]
    np.testing.assert_allclose(np.array(values).reshape(3, 3), TRUE_H, rtol=1e-6, atol=1e-8)
    assert "reprojection error: rms" in err and "9/9 inliers" in err

    write_points(points, THERMAL_POINTS[:3], visible_of(THERMAL_POINTS[:3]))
    assert cli_main(["register", "--points", str(points)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "error: a homography needs at least 4 point pairs, got 3" in err


def test_click_mode_needs_both_images(capsys):
    assert cli_main(["register", "--click"]) == 2
    assert "--click needs --thermal-image and --visible-image" in capsys.readouterr().err
