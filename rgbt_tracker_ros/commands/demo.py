"""`rgbt-tracker demo`: the player and the tracker node as separate processes over DDS on localhost.

Starts the node, plays a synthetic sequence (or --sequence) into it, initialises the target through
`~/init_target` on the first annotated frame, shows a live status line on stderr, then prints PR/SR
against the ground truth and the latency, and writes boxes, a summary, an annotated video and an
image strip into --output-dir (ros_tools/demo.py does the work).
Exit codes: 0 done; 1 the node (or the player) failed; 2 bad input; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.ros.image_conversion import TRANSPORTS
from rgbt_tracker_ros.ros.names import NODE_MODULE, NODE_NAME
from rgbt_tracker_ros.ros_tools.demo import DEMO_SEED, Demo, DemoSettings
from rgbt_tracker_ros.ros_tools.player import QOS_CHOICES, parse_size
from rgbt_tracker_ros.ros_tools.tracker_client import percentile_ms

NAME = "demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--sequence", type=Path, metavar="DIR", help="play this sequence folder instead")
    source.add_argument("--synthetic", type=int, default=DEMO_SEED, metavar="SEED",
                        help="synthetic sequence seed (default %(default)s, the first validation sequence)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length played (default %(default)s)")
    parser.add_argument("--rate", type=float, default=30.0, metavar="HZ", help="(default %(default)s)")
    parser.add_argument("--size", default="640x480", metavar="WxH",
                        help="visible size of the synthetic sequence (default %(default)s)")
    parser.add_argument("--thermal-size", default=None, metavar="WxH",
                        help="thermal resolution (default: 640x512 for synthetic, native for a folder)")
    parser.add_argument("--thermal-offset-ms", type=float, default=0.0, metavar="MS", help="(default %(default)s)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, metavar="MS", help="(default %(default)s)")
    parser.add_argument("--qos", choices=QOS_CHOICES, default="sensor_data",
                        help="image publishers' reliability (default %(default)s)")
    parser.add_argument("--transport", choices=TRANSPORTS, default="raw",
                        help="camera messages: raw Image, or compressed (CompressedImage: jpeg visible, 16-bit png "
                             "thermal; the node subscribes to <topic>/compressed) (default %(default)s)")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/demo"), help="(default %(default)s)")
    parser.add_argument("--no-video", action="store_true", help="skip the video and the image strip")
    parser.add_argument("--node-command", default=None, metavar="CMD",
                        help=f"how to start the node (default: python -m {NODE_MODULE})")
    parser.add_argument("--node-name", default=NODE_NAME, help="(default %(default)s)")
    parser.add_argument("--ros-arg", action="append", default=[], metavar="ARG",
                        help="an item passed to the node after --ros-args (repeatable)")
    parser.add_argument("--startup-timeout", type=float, default=60.0, metavar="S", help="(default %(default)s)")


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _demo(args))


def _demo(args: argparse.Namespace) -> int:
    settings = DemoSettings(
        sequence=args.sequence, synthetic=args.synthetic, seconds=args.seconds, rate_hz=args.rate,
        size=parse_size(args.size), thermal_size=parse_size(args.thermal_size) if args.thermal_size else None,
        thermal_offset_ms=args.thermal_offset_ms, jitter_ms=args.jitter_ms, qos=args.qos,
        output_dir=args.output_dir, node_name=args.node_name, node_command=args.node_command,
        ros_args=tuple(args.ros_arg), startup_timeout_s=args.startup_timeout, video=not args.no_video,
        transport=args.transport,
    )
    demo = Demo(settings)
    outcome = demo.run()
    written = demo.write_outputs(outcome)
    skipped = outcome.frames - outcome.init_frame - 1 - outcome.processed
    print(f"{demo.sequence.name}: {outcome.frames} frames at {settings.rate_hz:g} Hz, initialised on frame "
          f"{outcome.init_frame}; {outcome.processed} processed, {skipped} skipped (last box held)")
    print(f"PR {outcome.pr:.3f}  SR {outcome.sr:.3f}  over {outcome.scored_frames} frames "
          f"({demo.sequence.protocol} conventions: PR at 20 px centre error, SR = mean success over IoU 0..1)")
    print(f"latency visible stamp -> ~/target: p50 {percentile_ms(outcome.latencies_ms, 50):.1f} ms, "
          f"p95 {percentile_ms(outcome.latencies_ms, 95):.1f} ms")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
