"""`rgbt-tracker track --bag`: the node's pairing, session and tracker over a recorded bag, offline
(ros_tools/bag_tracking.py); the boxes with their stamps, optionally the node's outputs as a bag,
and PR / SR / NPR when the bag has ground truth at the paired frames' stamps."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rgbt_tracker_ros.common.boxes import parse_box, validate_box
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.camera_timing import parse_stamp
from rgbt_tracker_ros.evaluation.metrics import evaluate
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE, PairingSettings
from rgbt_tracker_ros.ros_tools.bag_tracking import (
    BagTrackingSettings, read_contents, track_bag, write_boxes_with_stamps, write_output_bag,
)
from rgbt_tracker_ros.tracking.config import TrackerConfig, parse_providers
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

_DEFAULTS = PairingSettings()
# Options of `track` that belong to --bag, and their defaults (given without --bag: an error).
BAG_ONLY = {"init_stamp": None, "output_bag": None, "visible_topic": None, "thermal_topic": None,
            "slop": _DEFAULTS.slop, "thermal_offset": _DEFAULTS.thermal_offset,
            "camera_timeout": _DEFAULTS.camera_timeout}


def add_bag_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("recorded bag (--bag)")
    group.add_argument("--init-stamp", default=None, metavar="SEC.NSEC",
                       help="initialise on the pair with this stamp, as ~/init_target does (box: --init, else "
                            "the bag's ground truth at that stamp); default with --init: the first pair")
    group.add_argument("--output-bag", type=Path, default=None, metavar="OUT",
                       help="also write the node's outputs (target, score, state) as a bag: OUT.mcap, OUT.db3 "
                            "or a bag folder")
    group.add_argument("--visible-topic", default=None, metavar="T", help="the bag's visible topic (default: found)")
    group.add_argument("--thermal-topic", default=None, metavar="T", help="the bag's thermal topic (default: found)")
    group.add_argument("--slop", type=float, default=_DEFAULTS.slop, metavar="S",
                       help="the node's sync.slop (default %(default)s)")
    group.add_argument("--thermal-offset", type=float, default=_DEFAULTS.thermal_offset, metavar="S",
                       help="the node's sync.thermal_offset (default %(default)s)")
    group.add_argument("--camera-timeout", type=float, default=_DEFAULTS.camera_timeout, metavar="S",
                       help="the node's camera_timeout (default %(default)s)")


def check_not_bag(args: argparse.Namespace) -> None:
    given = [f"--{name.replace('_', '-')}" for name, default in BAG_ONLY.items() if getattr(args, name) != default]
    if given:
        raise InputError(f"{', '.join(given)} only go with --bag")


def track_bag_command(args: argparse.Namespace) -> int:
    if args.modality != "rgbt":
        raise InputError("--modality goes with --sequence: with --bag, the bag's cameras are paired as the node pairs them")
    output = Path(args.output)
    if output.is_dir() or not output.parent.is_dir():
        raise InputError(f"--output {output}: give a file name in an existing folder")
    try:
        pairing = PairingSettings(slop=args.slop, thermal_offset=args.thermal_offset, camera_timeout=args.camera_timeout)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    init_box = validate_box(parse_box(args.init)) if args.init is not None else None
    init_stamp = parse_stamp(args.init_stamp, "--init-stamp") if args.init_stamp is not None else None
    if args.output_bag is not None and Path(args.output_bag).exists():
        raise InputError(f"--output-bag {args.output_bag} exists already; give a new name")

    contents = read_contents(args.bag, args.visible_topic, args.thermal_topic)
    homography = None if contents.homography is None else tuple(tuple(float(v) for v in row) for row in contents.homography)
    tracker = RGBTTracker(TrackerConfig(model=args.model, providers=parse_providers(args.providers),
                                        threads=args.threads, thermal_to_visible=homography))
    settings = BagTrackingSettings(pairing=pairing, init_box=init_box, init_stamp_ns=init_stamp)
    total = sum(contents.counts.values())
    with tqdm(total=total, desc=f"track {contents.path.name}", unit="msg", disable=args.no_progress) as bar:
        run = track_bag(contents, tracker, settings, on_message=bar.update)
    write_boxes_with_stamps(output, run)

    topics = " + ".join(contents.topics.cameras)
    print(f"bag {contents.path}: {run.frames[VISIBLE]} visible and {run.frames[THERMAL]} thermal frames ({topics}), "
          f"{len(run.pairs)} pairs processed")
    print(f"provider {tracker.provider}, {len(run.pairs) / max(run.seconds, 1e-9):.1f} pairs/s")
    print(run.init_answer)
    if run.rejected:
        print(f"{len(run.rejected)} frame(s) rejected; first: {run.rejected[0]}")
    scores = _scores(run)
    if scores is not None:
        print(f"PR {_fmt(scores.pr)}  SR {_fmt(scores.sr)}  NPR {_fmt(scores.npr)}  ({scores.frames} scored pairs "
              "with ground truth at their stamp)")
    print(f"boxes written to {output}")
    if args.output_bag is not None:
        counts = write_output_bag(run, args.output_bag)
        print(f"outputs written to {args.output_bag}: " + ", ".join(f"{t} ({n})" for t, n in counts.items()))
    return 0


def _scores(run):
    """PR / SR / NPR over the processed pairs that have ground truth at their stamp, after the init pair."""
    truth = run.contents.groundtruth
    if run.init_index is None or not any(p.stamp_ns in truth for p in run.pairs[run.init_index + 1:]):
        return None
    predictions = np.array([p.box if p.box is not None else np.full(4, np.nan) for p in run.pairs])
    groundtruth = np.array([truth.get(p.stamp_ns, np.full(4, np.nan)) for p in run.pairs])
    return evaluate(predictions, groundtruth, init_frame=run.init_index)


def _fmt(value: float, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"
