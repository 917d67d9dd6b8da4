"""`rgbt-tracker play`: publish a sequence folder or a synthetic sequence as `visible/image` and
`thermal/image`, or a recorded bag's two camera topics.

Stamps follow a steady clock at --rate; the thermal camera may run with a fixed offset and a jitter
against the visible one, and at its own resolution (--thermal-size): the homography that maps it
onto the visible image is then printed as the node's parameter block. Ends after the sequence (or
--frames pairs), or on Ctrl-C with --loop. The player is ros_tools/player.py.
With --bag, the bag's camera messages go out as recorded (stamps, frame ids, topics), paced by their
receive times; --rate is then the replay speed (ros_tools/bag_player.py).
Exit codes: 0 done; 2 bad input.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.camera_images import parse_size
from rgbt_tracker_ros.ros.image_conversion import TRANSPORTS
from rgbt_tracker_ros.ros.names import INPUT_TOPICS
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE
from rgbt_tracker_ros.ros_tools.bag_player import BagPlayer, BagPlaySettings
from rgbt_tracker_ros.ros_tools.player import (
    QOS_CHOICES, Player, PlayerSettings, StampLog, played_sequence, player_node,
)
from rgbt_tracker_ros.ros_tools.processes import apply_ros_environment
from rgbt_tracker_ros.ros_tools.registration import parameter_block

NAME = "play"
DEFAULT_SYNTHETIC_LENGTH = 300
DEFAULT_RATE_HZ = 30.0
# Options that shape a played sequence; a bag is played as recorded.
_SEQUENCE_ONLY = {"frames": "--frames", "thermal_offset_ms": "--thermal-offset-ms", "jitter_ms": "--jitter-ms",
                  "thermal_size": "--thermal-size", "stamp_log": "--stamp-log", "layout": "--layout",
                  "transport": "--transport", "encode_first": "--encode-first"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--sequence", type=Path, metavar="DIR",
                        help="sequence folder (GTOT, RGBT234, LasHeR, VTUAV or plain layout)")
    source.add_argument("--synthetic", type=int, metavar="SEED", help="a built-in synthetic sequence instead")
    source.add_argument("--bag", type=Path, metavar="PATH",
                        help="a recorded bag (rosbag2 folder, .mcap or .db3): its camera topics as recorded")
    parser.add_argument("--layout", default=None, help="layout of --sequence (default: detected)")
    parser.add_argument("--length", type=int, default=DEFAULT_SYNTHETIC_LENGTH,
                        help="frames of the synthetic sequence (default %(default)s)")
    parser.add_argument("--size", default="640x480", metavar="WxH",
                        help="visible size of the synthetic sequence (default %(default)s)")
    parser.add_argument("--rate", type=float, default=None, metavar="X",
                        help=f"frame rate in Hz (default {DEFAULT_RATE_HZ:g}); with --bag, the replay speed (default 1)")
    parser.add_argument("--loop", action="store_true", help="start over at the end (until --frames or Ctrl-C)")
    parser.add_argument("--frames", type=int, default=None, metavar="N", help="stop after N pairs")
    parser.add_argument("--thermal-offset-ms", type=float, default=0.0, metavar="MS",
                        help="thermal stamp minus visible stamp (default %(default)s)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, metavar="MS",
                        help="uniform +-MS jitter of the thermal stamps against the visible ones (default %(default)s)")
    parser.add_argument("--thermal-size", default=None, metavar="WxH",
                        help="publish thermal frames at this resolution (prints the homography to use)")
    parser.add_argument("--transport", choices=TRANSPORTS, default=None,
                        help="raw: sensor_msgs/Image (default); compressed: sensor_msgs/CompressedImage on "
                             "<topic>/compressed, jpeg visible and 16-bit png thermal (image_transport's "
                             "compressed transport; the node's visible.transport / thermal.transport)")
    parser.add_argument("--encode-first", action="store_true",
                        help="with --transport compressed: compress every frame before playing (kept in memory, "
                             "about 0.45 MB a 640x480 pair), so a loaded machine does not hold the player back")
    parser.add_argument("--qos", choices=QOS_CHOICES, default="sensor_data",
                        help="publisher reliability: best effort like camera drivers, or reliable (default %(default)s)")
    parser.add_argument("--depth", type=int, default=5, help="publisher queue depth (default %(default)s)")
    parser.add_argument("--visible-topic", default=None, metavar="T",
                        help=f"topic of the visible images (default {INPUT_TOPICS[VISIBLE]}); with --bag, the bag's "
                             "topic to play (default: found by name)")
    parser.add_argument("--thermal-topic", default=None, metavar="T",
                        help=f"topic of the thermal images (default {INPUT_TOPICS[THERMAL]}); with --bag, likewise")
    parser.add_argument("--wait-for-subscribers", type=float, default=0.0, metavar="SEC",
                        help="wait up to SEC for a subscriber on both topics before starting")
    parser.add_argument("--stamp-log", type=Path, default=None, metavar="FILE",
                        help="write `pair,frame,camera,stamp_ns` per published image (for matching results)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the jitter (default %(default)s)")
    parser.add_argument("--node-name", default="rgbt_player", help="(default %(default)s)")


def run(args: argparse.Namespace) -> int:
    apply_ros_environment()
    return guarded(NAME, lambda: _play_bag(args) if args.bag is not None else _play(args))


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _play_bag(args: argparse.Namespace) -> int:
    given = [flag for name, flag in _SEQUENCE_ONLY.items() if getattr(args, name) not in (None, 0.0)]
    if given:
        raise InputError(f"{', '.join(given)} shape a played sequence; a bag is played as recorded (not with --bag)")
    settings = BagPlaySettings(
        rate=1.0 if args.rate is None else args.rate, loop=args.loop, visible_topic=args.visible_topic,
        thermal_topic=args.thermal_topic, qos=args.qos, depth=args.depth,
        wait_for_subscribers_s=args.wait_for_subscribers,
    )
    stop = _stop_on_signals()
    with player_node(args.node_name) as node:
        player = BagPlayer(node, args.bag, settings)
        print(f"playing bag {args.bag}: {', '.join(player.topics.cameras)} ({player.duration_s:.2f} s recorded) at "
              f"{settings.rate:g}x ({settings.qos}{', looped' if settings.loop else ''})", file=sys.stderr)
        if settings.wait_for_subscribers_s > 0 and not player.wait_for_subscribers(stop):
            if not stop.is_set():
                print(f"no subscriber on every camera topic after {settings.wait_for_subscribers_s:g} s; "
                      "playing anyway", file=sys.stderr)
        stats = player.play(stop)
        if settings.qos == "reliable" and not player.flush():
            print("not every published image was acknowledged by the reliable subscribers", file=sys.stderr)
        print(f"published {stats.messages} images ({stats.pairs} on {player.topics.cameras[0]}); "
              f"{stats.late_messages} more than one frame interval late (max {stats.max_lateness_ms:.1f} ms)",
              file=sys.stderr)
    return 0


def _play(args: argparse.Namespace) -> int:
    thermal_size = parse_size(args.thermal_size) if args.thermal_size else None
    sequence = played_sequence(
        args.sequence, args.layout, args.synthetic, args.length,
        parse_size(args.size) if args.synthetic is not None else None, thermal_size,
    )
    settings = PlayerSettings(
        rate_hz=DEFAULT_RATE_HZ if args.rate is None else args.rate, loop=args.loop, max_pairs=args.frames, thermal_offset_ms=args.thermal_offset_ms,
        jitter_ms=args.jitter_ms, thermal_size=thermal_size, qos=args.qos, depth=args.depth,
        visible_topic=args.visible_topic or INPUT_TOPICS[VISIBLE], thermal_topic=args.thermal_topic or INPUT_TOPICS[THERMAL],
        seed=args.seed,
        wait_for_subscribers_s=args.wait_for_subscribers, transport=args.transport or "raw",
        encode_first=args.encode_first,
    )
    if args.encode_first and settings.transport != "compressed":
        raise InputError("--encode-first goes with --transport compressed")
    stop = _stop_on_signals()
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
                  f"{settings.rate_hz:g} Hz on {node.resolve_topic_name(settings.topic(VISIBLE))} and "
                  f"{node.resolve_topic_name(settings.topic(THERMAL))} ({settings.qos}, {settings.transport})",
                  file=sys.stderr)
            if settings.wait_for_subscribers_s > 0 and not player.wait_for_subscribers(stop):
                if not stop.is_set():
                    print(f"no subscriber on both topics after {settings.wait_for_subscribers_s:g} s; "
                          "playing anyway", file=sys.stderr)
            player.encode_frames(stop)
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
