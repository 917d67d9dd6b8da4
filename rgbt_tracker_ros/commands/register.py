"""`rgbt-tracker register`: the thermal-to-visible homography from point pairs, as a parameter block.

Reads at least 4 pairs of corresponding points from a YAML file (`--points`) or lets you click them
(`--click`), reports the reprojection error on stderr and prints the params file whose
`thermal_to_visible` line goes into config/tracker.yaml (ros_tools/registration.py does the work).
No ROS needed. Exit codes: 0 done; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros_tools.registration import (
    PARAMETER_NAME, SECTION, click_point_pairs, describe, estimate_homography, load_point_pairs, parameter_block,
    write_point_pairs,
)

NAME = "register"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--points", type=Path, metavar="FILE.yaml",
                        help="YAML file with `thermal: [[x, y], ...]` and `visible: [[x, y], ...]` (>= 4 pairs)")
    source.add_argument("--click", action="store_true",
                        help="click the pairs in two windows (needs OpenCV with GUI support)")
    parser.add_argument("--thermal-image", type=Path, metavar="FILE", help="thermal image to click on (--click)")
    parser.add_argument("--visible-image", type=Path, metavar="FILE", help="visible image to click on (--click)")
    parser.add_argument("--save-points", type=Path, metavar="FILE.yaml",
                        help="also write the (clicked) points as a points file")
    parser.add_argument("--ransac-threshold", type=float, default=3.0, metavar="PX",
                        help="largest reprojection error of an inlier, with more than 4 pairs (default %(default)s)")
    parser.add_argument("--section", default=SECTION,
                        help="heading of the block: /** (as in config/tracker.yaml) or a node name (default %(default)s)")


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _register(args))


def _register(args: argparse.Namespace) -> int:
    if args.click:
        if args.thermal_image is None or args.visible_image is None:
            raise InputError("--click needs --thermal-image and --visible-image")
        pairs = click_point_pairs(args.thermal_image, args.visible_image)
    else:
        pairs = load_point_pairs(args.points)
    registration = estimate_homography(pairs, args.ransac_threshold)
    if args.save_points is not None:
        write_point_pairs(pairs, args.save_points)
    print(describe(registration), file=sys.stderr)
    if registration.rms_error > args.ransac_threshold:
        print("warning: large reprojection error; check that the pairs correspond", file=sys.stderr)
    print(f"# a params file; put its {PARAMETER_NAME} line into config/tracker.yaml", file=sys.stderr)
    sys.stdout.write(parameter_block(registration.matrix, args.section))
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
