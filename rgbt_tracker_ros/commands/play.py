"""`rgbt-tracker play`: publish a sequence folder or a synthetic sequence as `visible/image` and `thermal/image`.

Stamps follow a steady clock at --rate; the thermal camera may run with a fixed offset and a jitter
against the visible one, and at its own resolution (--thermal-size): the homography that maps it
onto the visible image is then printed as the node's parameter block. Ends after the sequence (or
--frames pairs), or on Ctrl-C with --loop. The player is ros_tools/player.py.
Exit codes: 0 done; 2 bad input.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.ros.names import INPUT_TOPICS
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE
from rgbt_tracker_ros.ros_tools.player import (
    QOS_CHOICES, Player, PlayerSettings, StampLog, parse_size, played_sequence, player_node,
)
from rgbt_tracker_ros.ros_tools.processes import apply_ros_environment
from rgbt_tracker_ros.ros_tools.registration import parameter_block

NAME = "play"
DEFAULT_SYNTHETIC_LENGTH = 300


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--sequence", type=Path, metavar="DIR",
                        help="sequence folder (GTOT, RGBT234, LasHeR, VTUAV or plain layout)")
    source.add_argument("--synthetic", type=int, metavar="SEED", help="a built-in synthetic sequence instead")
    parser.add_argument("--layout", default=None, help="layout of --sequence (default: detected)")
    parser.add_argument("--length", type=int, default=DEFAULT_SYNTHETIC_LENGTH,
                        help="frames of the synthetic sequence (default %(default)s)")
    parser.add_argument("--size", default="640x480", metavar="WxH",
                        help="visible size of the synthetic sequence (default %(default)s)")
    parser.add_argument("--rate", type=float, default=30.0, metavar="HZ", help="frame rate (default %(default)s)")
    parser.add_argument("--loop", action="store_true", help="start over at the end (until --frames or Ctrl-C)")
    parser.add_argument("--frames", type=int, default=None, metavar="N", help="stop after N pairs")
    parser.add_argument("--thermal-offset-ms", type=float, default=0.0, metavar="MS",
                        help="thermal stamp minus visible stamp (default %(default)s)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, metavar="MS",
                        help="uniform +-MS jitter of the thermal stamps against the visible ones (default %(default)s)")
    parser.add_argument("--thermal-size", default=None, metavar="WxH",
                        help="publish thermal frames at this resolution (prints the homography to use)")
    parser.add_argument("--qos", choices=QOS_CHOICES, default="sensor_data",
                        help="publisher reliability: best effort like camera drivers, or reliable (default %(default)s)")
    parser.add_argument("--depth", type=int, default=5, help="publisher queue depth (default %(default)s)")
    parser.add_argument("--visible-topic", default=INPUT_TOPICS[VISIBLE], help="(default %(default)s)")
    parser.add_argument("--thermal-topic", default=INPUT_TOPICS[THERMAL], help="(default %(default)s)")
    parser.add_argument("--wait-for-subscribers", type=float, default=0.0, metavar="SEC",
                        help="wait up to SEC for a subscriber on both topics before starting")
    parser.add_argument("--stamp-log", type=Path, default=None, metavar="FILE",
                        help="write `pair,frame,camera,stamp_ns` per published image (for matching results)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the jitter (default %(default)s)")
    parser.add_argument("--node-name", default="rgbt_player", help="(default %(default)s)")


def run(args: argparse.Namespace) -> int:
    apply_ros_environment()
    return guarded(NAME, lambda: _play(args))


def _play(args: argparse.Namespace) -> int:
    thermal_size = parse_size(args.thermal_size) if args.thermal_size else None
    sequence = played_sequence(
        args.sequence, args.layout, args.synthetic, args.length,
        parse_size(args.size) if args.synthetic is not None else None, thermal_size,
    )
    settings = PlayerSettings(
        rate_hz=args.rate, loop=args.loop, max_pairs=args.frames, thermal_offset_ms=args.thermal_offset_ms,
        jitter_ms=args.jitter_ms, thermal_size=thermal_size, qos=args.qos, depth=args.depth,
        visible_topic=args.visible_topic, thermal_topic=args.thermal_topic, seed=args.seed,
        wait_for_subscribers_s=args.wait_for_subscribers,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stamp_log = StampLog(args.stamp_log) if args.stamp_log is not None else None
    try:
        with player_node(args.node_name) as node:
            player = Player(node, sequence, settings, stamp_log)
            if thermal_size is not None:
                print("# thermal-to-visible homography of the played frames:", file=sys.stderr)
                sys.stdout.write(parameter_block(player.homography))
                sys.stdout.flush()
            total = player.total_pairs
            print(f"playing {sequence.name}: {total if total is not None else 'endless'} pairs at "
                  f"{settings.rate_hz:g} Hz on {node.resolve_topic_name(settings.visible_topic)} and "
                  f"{node.resolve_topic_name(settings.thermal_topic)} ({settings.qos})", file=sys.stderr)
            if settings.wait_for_subscribers_s > 0 and not player.wait_for_subscribers(stop):
                if not stop.is_set():
                    print(f"no subscriber on both topics after {settings.wait_for_subscribers_s:g} s; "
                          "playing anyway", file=sys.stderr)
            stats = player.play(stop)
            if settings.qos == "reliable" and not player.flush():
                print("not every published image was acknowledged by the reliable subscribers", file=sys.stderr)
            print(f"published {stats.pairs} pairs; {stats.late_messages} messages more than one period late "
                  f"(max {stats.max_lateness_ms:.1f} ms)", file=sys.stderr)
    finally:
        if stamp_log is not None:
            stamp_log.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
