"""`rgbt-tracker`: one command, one subcommand per job; each subcommand is a module of commands/ (imported on use)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# name -> (module with add_arguments(parser) and run(args) -> int, one-line help)
SUBCOMMANDS = {
    "track": ("rgbt_tracker_ros.commands.track", "track a target through one sequence, write its boxes"),
    "eval": ("rgbt_tracker_ros.commands.eval", "PR/SR/NPR of trackers over sequences, with plots"),
    "bench": ("rgbt_tracker_ros.commands.bench", "parameters, GFLOPs and latency of the student"),
    "train": ("rgbt_tracker_ros.commands.train", "train a model from a config file"),
    "train-bench": ("rgbt_tracker_ros.commands.train_bench", "seconds per training step of a config, fp32 against bf16"),
    "provider-check": ("rgbt_tracker_ros.commands.provider_check",
                       "models on this machine's execution providers against the CPU: parity, latency, fallbacks"),
    "export": ("rgbt_tracker_ros.commands.export", "export a checkpoint to ONNX and check it"),
    "compress": ("rgbt_tracker_ros.commands.compress",
                 "thermal-only model: RGB teacher, compression distillation, pruning, fine-tuning, export"),
    "ablation": ("rgbt_tracker_ros.commands.ablation",
                 "ablation table of exported models: PR/SR/NPR, per attribute, real thermal, cost, latency"),
    "play": ("rgbt_tracker_ros.commands.play", "publish a sequence or a recorded bag as the two camera topics (ROS 2)"),
    "bag": ("rgbt_tracker_ros.commands.bag", "write a sequence as a recorded ROS 2 bag (mcap or sqlite3), ground truth included"),
    "demo": ("rgbt_tracker_ros.commands.demo", "player + tracker node over DDS, init by service, PR/SR and a video"),
    "node-bench": ("rgbt_tracker_ros.commands.node_bench", "latency, rate, CPU and memory of the running node"),
    "thermal-gap": ("rgbt_tracker_ros.commands.thermal_gap",
                    "how far the synthetic thermal worlds are from real thermal frames, with a picture"),
    "register": ("rgbt_tracker_ros.commands.register", "thermal-to-visible homography from point pairs"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rgbt-tracker", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Only the chosen subcommand's module is imported: `track` must work without torch installed.
    chosen = next((a for a in argv if a in SUBCOMMANDS), None)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr,
    )
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
