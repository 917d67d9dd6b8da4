"""`rgbt-tracker compress --config config/training/thermal_compression.yaml`: the thermal-only model
by cross-modal compression distillation (Li et al.), structured pruning and fine-tuning.

training/thermal_compression.py runs the stages (RGB teacher, distil, prune, fine-tune, export; a
finished stage is skipped, an interrupted one resumes; --restart redoes everything).
Exit codes: 0 done; 1 parity check failed; 2 bad config or input.
"""

from __future__ import annotations

import argparse
import sys

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.training.thermal_compression import CompressionPipeline, load_compression_config

NAME = "compress"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="pipeline config YAML (config/training/thermal_compression.yaml)")
    parser.add_argument("--output-dir", default="", help="override run.output_dir")
    parser.add_argument("--device", default="", help="override run.device (auto, cpu, cuda)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override one config entry (dotted key, YAML value), e.g. --set pruning.keep=0.4")
    parser.add_argument("--restart", action="store_true", help="redo every stage (default: skip finished ones, resume)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _compress(args))


def _compress(args: argparse.Namespace) -> int:
    config = load_compression_config(args.config, args.overrides, output_dir=args.output_dir, device=args.device)
    summary = CompressionPipeline(config, restart=args.restart, progress=not args.no_progress).run()
    pruning = summary.get("pruning")
    if pruning:
        kept = pruning["kept_fraction"]
        print(f"pruned: {100 * kept['macs']:.1f}% of the MACs, {100 * kept['params']:.1f}% of the parameters "
              f"kept ({pruning['after']['params']:,} parameters)")
    export = summary["export"]
    print(f"exported {export['output']}: max |ONNX - PyTorch| = {export['parity_random']:.2e} (random inputs), "
          f"{export['parity_real']:.2e} (real crops)")
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
