"""`rgbt-tracker register` (commands/register.py): the parameter block on stdout, the fit on stderr,
bad input one line and exit 2."""

from __future__ import annotations

import numpy as np
import yaml

from helpers.point_pairs import THERMAL_POINTS, TRUE_H, visible_of, write_points
from rgbt_tracker_ros.cli import main as cli_main
from rgbt_tracker_ros.commands import register
from rgbt_tracker_ros.ros_tools.registration import PARAMETER_NAME


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


def test_register_runs_on_its_own(tmp_path, capsys):
    points = tmp_path / "points.yaml"
    write_points(points, THERMAL_POINTS[:4], visible_of(THERMAL_POINTS[:4]))
    assert register.main(["--points", str(points), "--section", "rgbt_tracker"]) == 0
    out, err = capsys.readouterr()
    assert list(yaml.safe_load(out)) == ["rgbt_tracker"] and "(exact, 4/4 inliers)" in err
    assert register.main(["--points", str(tmp_path / "absent.yaml")]) == 2
    assert "rgbt-tracker register: error: cannot read points file" in capsys.readouterr().err
