"""`rgbt-tracker export`: checkpoint -> ONNX model folder (model.json + two graphs), checked against PyTorch.

training/export.py writes the folder (the contract of tracking/contract.py) and runs the parity check.
Exit codes: 0 done; 1 the parity check failed; 2 bad input (a missing or foreign checkpoint).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.training.export import export_checkpoint

NAME = "export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="a .pt checkpoint written by `rgbt-tracker train`")
    parser.add_argument("--output", required=True, help="model folder to write (model.json, template.onnx, search.onnx)")
    parser.add_argument("--name", default="", help="model name recorded in model.json (default: the run's name)")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="max abs difference allowed vs PyTorch")


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _export(args))


def _export(args: argparse.Namespace) -> int:
    report = export_checkpoint(args.checkpoint, Path(args.output), name=args.name, tolerance=args.tolerance)
    print(f"exported {report.model_json.parent}: max |ONNX - PyTorch| = {report.parity_random:.2e} (random inputs), "
          f"{report.parity_real:.2e} (real crops); tolerance {args.tolerance:.0e}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
