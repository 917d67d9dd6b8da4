"""`rgbt-tracker bag`: write a sequence (any layout the readers know, or a synthetic one) as a
recorded ROS 2 bag: rgb8 visible, mono16 thermal (with --compressed: sensor_msgs/CompressedImage,
jpeg visible and 16-bit png thermal, on /visible/image/compressed and /thermal/image/compressed),
the ground truth on /groundtruth.

Stamps are the ones `play` gives (--rate, --thermal-offset-ms, --jitter-ms, --seed), from now or
from --start-time. `OUT.mcap` or `OUT.db3` is a single storage file; any other name a rosbag2
folder in --storage (default mcap). `eval --sequences OUT`, `track --bag OUT` and `play --bag OUT`
read it; so do `ros2 bag info/play` and Foxglove. The writer is data/bags/sequence_bag.py.
Exit codes: 0 done; 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.bags.sequence_bag import write_sequence_bag
from rgbt_tracker_ros.data.bags.storage import STORAGES
from rgbt_tracker_ros.data.camera_images import parse_size
from rgbt_tracker_ros.data.camera_timing import CameraTiming, parse_stamp
from rgbt_tracker_ros.data.readers import load_sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence

NAME = "bag"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-sequence", type=Path, metavar="DIR",
                        help="sequence folder (GTOT, RGBT234, LasHeR, VTUAV or plain layout)")
    source.add_argument("--synthetic", type=int, metavar="SEED", help="a built-in synthetic sequence instead")
    parser.add_argument("--output", type=Path, required=True, metavar="OUT",
                        help="OUT.mcap / OUT.db3: one storage file; otherwise a bag folder (must not exist)")
    parser.add_argument("--storage", choices=tuple(STORAGES), default=None,
                        help="storage of a bag folder (default mcap; a file takes its suffix's)")
    parser.add_argument("--layout", default=None, help="layout of --from-sequence (default: detected)")
    parser.add_argument("--length", type=int, default=120, help="frames of the synthetic sequence (default %(default)s)")
    parser.add_argument("--size", default="640x480", metavar="WxH",
                        help="visible size of the synthetic sequence (default %(default)s)")
    parser.add_argument("--rate", type=float, default=30.0, metavar="HZ", help="frame rate (default %(default)s)")
    parser.add_argument("--thermal-offset-ms", type=float, default=0.0, metavar="MS",
                        help="thermal stamp minus visible stamp (default %(default)s)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, metavar="MS",
                        help="uniform +-MS jitter of the thermal stamps against the visible ones (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the jitter (default %(default)s)")
    parser.add_argument("--start-time", default=None, metavar="SEC.NSEC",
                        help="when the recording starts (default: now); fixed, the bag is the same every time")
    parser.add_argument("--compressed", action="store_true",
                        help="write the cameras as CompressedImage (jpeg visible, 16-bit png thermal) on "
                             "<topic>/compressed, as image_transport's compressed transport records them")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _bag(args))


def _bag(args: argparse.Namespace) -> int:
    timing = CameraTiming(args.rate, args.thermal_offset_ms, args.jitter_ms, args.seed)
    start_ns = parse_stamp(args.start_time, "--start-time") if args.start_time is not None else None
    sequence = _load(args)
    with tqdm(total=len(sequence), desc=f"bag {sequence.name}", unit="frame", disable=args.no_progress) as bar:
        summary = write_sequence_bag(sequence, args.output, timing, args.storage, start_ns,
                                     on_frame=lambda _: bar.update(), compressed=args.compressed)
    topics = ", ".join(f"{topic} ({count})" for topic, count in summary.counts.items())
    print(f"bag {summary.path} ({summary.storage}): {summary.frames} frames of {sequence.name}, "
          f"{summary.duration_s:.2f} s from {summary.first_stamp_ns / 1e9:.3f}; {topics}")
    return 0


def _load(args: argparse.Namespace):
    if args.synthetic is not None:
        if args.synthetic < 0:
            raise InputError(f"--synthetic seed must be 0 or more, got {args.synthetic}")
        if args.length < 1:
            raise InputError(f"--length must be at least 1, got {args.length}")
        width, height = parse_size(args.size)
        return make_sequence(args.synthetic, SyntheticConfig(width=width, height=height, length=args.length))
    return load_sequence(args.from_sequence, args.layout)


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
