"""`rgbt-tracker node-bench`: latency, rate, CPU and memory of the running tracker node, measured from outside.

Starts the node as its own process, plays a synthetic 640x480 rgb8 (--visible-size) + 640x512 mono16
sequence into it at --rate, initialises through `~/init_target` and measures for --seconds
(ros_tools/node_bench.py does the work); --find-ceiling steps the rate up; --flood-hz floods it and
reports its memory. Human text goes to stderr; --json prints one
JSON object on stdout. Exit codes: 0 done; 1 the node failed; 2 bad input; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.camera_images import parse_size
from rgbt_tracker_ros.ros.image_conversion import TRANSPORTS
from rgbt_tracker_ros.ros.names import NODE_MODULE, NODE_NAME
from rgbt_tracker_ros.ros_tools.node_bench import VISIBLE_SIZE, BenchSettings, run_bench
from rgbt_tracker_ros.ros_tools.player import QOS_CHOICES

NAME = "node-bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, default=30.0, metavar="HZ", help="pairs per second (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time (default %(default)s)")
    parser.add_argument("--warmup", type=float, default=2.0, metavar="S",
                        help="time after initialisation not measured (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--qos", choices=QOS_CHOICES, default="sensor_data",
                        help="reliability of the image publishers (default %(default)s)")
    parser.add_argument("--transport", choices=TRANSPORTS, default="raw",
                        help="camera messages: raw Image, or compressed (CompressedImage: jpeg visible, 16-bit png "
                             "thermal, decoded by the node; latency includes the decode) (default %(default)s)")
    parser.add_argument("--visible-size", type=_size, default=VISIBLE_SIZE, metavar="WxH",
                        help="visible frames' size (default 640x480; thermal stays 640x512)")
    parser.add_argument("--flood-hz", type=float, default=None, metavar="HZ",
                        help="flood mode: --rate for --seconds, this rate for --flood-seconds, --rate for "
                             "--after-flood; reports the node's RSS at the flood's start, peak and after")
    parser.add_argument("--flood-seconds", type=float, default=10.0, metavar="S", help="(default %(default)s)")
    parser.add_argument("--after-flood", type=float, default=20.0, metavar="S",
                        help="time at --rate after the flood before the last RSS reading (default %(default)s)")
    parser.add_argument("--find-ceiling", action="store_true",
                        help="step the rate up from --rate and report the highest with every pair processed")
    parser.add_argument("--ceiling-step", type=float, default=1.25, metavar="FACTOR",
                        help="rate factor between steps (default %(default)s)")
    parser.add_argument("--ceiling-max", type=float, default=240.0, metavar="HZ", help="(default %(default)s)")
    parser.add_argument("--ceiling-seconds", type=float, default=5.0, metavar="S",
                        help="measured time per step (default %(default)s)")
    parser.add_argument("--node-command", default=None, metavar="CMD",
                        help=f"how to start the node (default: python -m {NODE_MODULE})")
    parser.add_argument("--node-name", default=NODE_NAME, help="(default %(default)s)")
    parser.add_argument("--ros-arg", action="append", default=[], metavar="ARG",
                        help="an item passed after --ros-args, e.g. --ros-arg=-p --ros-arg=threads:=2 (repeatable)")
    parser.add_argument("--params-file", type=Path, default=None, help="parameters file for the node")
    parser.add_argument("--startup-timeout", type=float, default=60.0, metavar="S", help="(default %(default)s)")
    parser.add_argument("--node-log", type=Path, default=None, metavar="FILE",
                        help="where the node's output goes (default: a temporary file)")


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _node_bench(args))


def _node_bench(args: argparse.Namespace) -> int:
    ros_args = list(args.ros_arg)
    if args.params_file is not None:
        if not args.params_file.is_file():
            raise InputError(f"parameters file {args.params_file} does not exist")
        ros_args = ["--params-file", str(args.params_file), *ros_args]
    if args.ceiling_step <= 1.0:
        raise InputError(f"--ceiling-step must exceed 1, got {args.ceiling_step}")
    settings = BenchSettings(rate_hz=args.rate, seconds=args.seconds, warmup_s=args.warmup, qos=args.qos,
                             node_name=args.node_name, node_command=args.node_command,
                             ros_args=tuple(ros_args), startup_timeout_s=args.startup_timeout,
                             transport=args.transport, visible_size=args.visible_size, flood_hz=args.flood_hz,
                             flood_seconds=args.flood_seconds, after_flood_s=args.after_flood)
    if args.flood_hz is not None and args.find_ceiling:
        raise InputError("--flood-hz and --find-ceiling are separate runs: give one of them")
    report = run_bench(settings, args.find_ceiling, args.ceiling_step, args.ceiling_max,
                       args.ceiling_seconds, args.node_log)
    if args.json:
        print(json.dumps(report))
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
