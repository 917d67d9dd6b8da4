"""`rgbt-tracker track`: run the student through one sequence and write one `x,y,w,h` line per frame.

Lines are aligned with the frames: frames before the initialisation frame get `NaN,NaN,NaN,NaN`, the
initialisation frame gets the initial box. Prints the execution provider, fps and, when the sequence
has ground truth after the initialisation frame, PR / SR / NPR.
With --bag, a recorded bag goes through the node's own pairing and session instead
(commands/track_bag.py): one `stamp,x,y,w,h,score,state` line per paired frame, and with
--output-bag the node's output topics as a bag.
Exit codes: 0 done; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from rgbt_tracker_ros.commands.runner import add_runtime_arguments, guarded, standalone_main
from rgbt_tracker_ros.commands.track_bag import add_bag_arguments, check_not_bag, track_bag_command
from rgbt_tracker_ros.common.boxes import parse_box, validate_box
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers import load_sequence
from rgbt_tracker_ros.data.synthetic import make_sequence
from rgbt_tracker_ros.data.writer import write_boxes
from rgbt_tracker_ros.evaluation.metrics import score
from rgbt_tracker_ros.evaluation.peers import thermal_to_visible_of
from rgbt_tracker_ros.evaluation.runner import fed_modality, run_errors, run_tracker
from rgbt_tracker_ros.tracking.config import TrackerConfig, parse_providers
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

MODALITIES = ("rgbt", "visible", "thermal")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--sequence", type=Path, metavar="DIR",
                        help="sequence folder (GTOT, RGBT234, LasHeR, VTUAV or plain layout)")
    source.add_argument("--synthetic", type=int, metavar="SEED", help="a built-in synthetic sequence instead")
    source.add_argument("--bag", type=Path, metavar="PATH",
                        help="a recorded bag (rosbag2 folder, .mcap or .db3), paired and tracked as the node does")
    parser.add_argument("--output", type=Path, required=True, metavar="FILE", help="where to write the boxes")
    parser.add_argument("--model", default=None, metavar="PATH",
                        help="model folder or model.json; default: the shipped student")
    parser.add_argument("--modality", choices=MODALITIES, default="rgbt",
                        help="what the tracker is fed (default %(default)s)")
    parser.add_argument("--init", default=None, metavar="X,Y,W,H",
                        help="initial box on frame 0 (with --bag: on the first pair, or at --init-stamp); default: "
                             "the first annotated frame and its ground truth")
    add_runtime_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_bag_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return guarded("track", lambda: _track(args))


def _track(args: argparse.Namespace) -> int:
    providers = parse_providers(args.providers)
    if args.threads < 1:
        raise InputError(f"--threads must be at least 1, got {args.threads}")
    if args.bag is not None:
        return track_bag_command(args)
    check_not_bag(args)
    init_box = validate_box(parse_box(args.init)) if args.init is not None else None
    output = Path(args.output)
    if output.is_dir():
        raise InputError(f"--output {output} is a folder; give a file name")
    if not output.parent.is_dir():
        raise InputError(f"--output folder {output.parent} does not exist")

    sequence = _load(args)
    fed = fed_modality(args.modality, sequence)
    config = TrackerConfig(
        model=args.model,
        providers=providers,
        threads=args.threads,
        thermal_to_visible=_homography(sequence, fed),
    )
    tracker = RGBTTracker(config)
    result = run_tracker(
        tracker, sequence, fed, init_box=init_box, init_frame=0 if init_box is not None else None,
        progress=not args.no_progress,
    )
    write_boxes(output, result.predictions, decimals=2)

    print(f"sequence {sequence.name}: {len(sequence)} frames, fed {fed}, initialised on frame {result.init_frame}")
    print(f"provider {tracker.provider}, {_fmt(result.fps, 1)} fps over {result.tracked_frames} tracked frames")
    if result.input_errors:
        print(f"{result.input_errors} frame(s) rejected as bad input (previous box kept): {result.error_frames[:10]}")
    if _has_groundtruth_after(sequence.groundtruth, result.init_frame):
        scores = score(run_errors(result, sequence))
        print(f"PR {_fmt(scores.pr)}  SR {_fmt(scores.sr)}  NPR {_fmt(scores.npr)}  "
              f"({scores.frames} scored frames, protocol {sequence.protocol})")
    print(f"boxes written to {output}")
    return 0


def _load(args: argparse.Namespace):
    if args.synthetic is not None:
        if args.synthetic < 0:
            raise InputError(f"--synthetic seed must be 0 or more, got {args.synthetic}")
        return make_sequence(args.synthetic)
    if not args.sequence.is_dir():
        raise InputError(f"no such sequence folder: {args.sequence}")
    return load_sequence(args.sequence)


def _homography(sequence, fed: str):
    """The thermal-to-visible homography the tracker needs, as a config tuple (None: its default).

    Fed thermal alone from an RGB-T sequence, the tracker still has to answer in visible pixels (the
    ground truth's), so it gets the sequence's mapping or the default scaling explicitly.
    """
    if sequence.visible is None or sequence.thermal is None or fed == "visible":
        return None
    if fed == "rgbt" and sequence.thermal_to_visible is None:
        return None  # the tracker's own default: scaling when the sizes differ
    matrix = thermal_to_visible_of(sequence)
    return None if matrix is None else tuple(tuple(float(v) for v in row) for row in matrix)


def _has_groundtruth_after(groundtruth: np.ndarray, init_frame: int) -> bool:
    later = groundtruth[init_frame + 1:]
    return bool(later.size) and bool(np.any(np.all(np.isfinite(later), axis=1)))


def _fmt(value: float, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    return standalone_main("track", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
