"""`rgbt-tracker train-bench --config FILE`: seconds per training step of a config, per precision.

training/step_bench.py does the timing (same batches and starting weights for each precision, data
loading not timed); this prints the table. Exit codes: 0 done; 2 bad config or input.
"""

from __future__ import annotations

import argparse
import sys

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.models.precision import PRECISIONS
from rgbt_tracker_ros.training.config import load_train_config
from rgbt_tracker_ros.training.step_bench import time_steps

NAME = "train-bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="training config YAML (see config/training/)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per precision (default 5)")
    parser.add_argument("--precision", nargs="+", default=list(PRECISIONS), choices=PRECISIONS,
                        help="precisions to time, the first is the reference (default: fp32 bf16)")
    parser.add_argument("--device", default="", help="override run.device (auto, cpu, cuda)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override one config entry, as for `train` (repeatable)")


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    config = load_train_config(args.config, args.overrides)
    bench = time_steps(config, args.steps, args.precision, device=args.device)
    print(f"{config.name}: {config.model.kind}, batch {config.optim.batch_size}, device {bench.device}, "
          f"{bench.threads} threads, {args.steps} timed steps per precision")
    print("precision | s/step p50 | s/step p90 | speed-up | first-batch loss")
    reference = bench.rows[0].p50
    for row in bench.rows:
        print(f"{row.precision} | {row.p50:.3f} | {row.p90:.3f} | {reference / row.p50:.2f}x | {row.first_loss:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
