"""`rgbt-tracker train --config FILE`: train a model; also runs under torchrun for several GPUs.

The run is training/trainer.py's `Trainer` on the config of training/config.py (config/training/*.yaml).
Exit codes: 0 done (the best checkpoint's path on stderr); 2 bad config or input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.training.config import load_train_config
from rgbt_tracker_ros.training.trainer import Trainer

NAME = "train"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="training config YAML (see config/training/)")
    parser.add_argument("--resume", default="", help="checkpoint to resume from (e.g. runs/student/last.pt); "
                                                      "'auto': the output folder's last.pt when there is one")
    parser.add_argument("--output-dir", default="", help="override run.output_dir")
    parser.add_argument("--epochs", type=int, default=0, help="override optim.epochs")
    parser.add_argument("--device", default="", help="override run.device (auto, cpu, cuda)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override one config entry, dotted key and YAML value, e.g. "
                             "--set distill.style_content.enabled=false --set optim.lr=0.001 (repeatable)")


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _train(args))


def _train(args: argparse.Namespace) -> int:
    config = load_train_config(args.config, args.overrides, output_dir=args.output_dir, device=args.device,
                               resume=args.resume, epochs=args.epochs)
    best = Trainer(config).fit()
    if best is not None:
        print(f"best checkpoint: {best}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
