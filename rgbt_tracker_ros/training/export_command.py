"""`rgbt-tracker export`: checkpoint -> ONNX model folder (model.json + two graphs), checked against PyTorch."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="a .pt checkpoint written by `rgbt-tracker train`")
    parser.add_argument("--output", required=True, help="model folder to write (model.json, template.onnx, search.onnx)")
    parser.add_argument("--name", default="", help="model name recorded in model.json (default: the run's name)")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="max abs difference allowed vs PyTorch")


def run(args: argparse.Namespace) -> int:
    from rgbt_tracker_ros.training.export import (
        check_parity, export_student, load_checkpoint_model, random_inputs, real_inputs,
    )

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    try:
        model, state = load_checkpoint_model(args.checkpoint)
    except InputError as exc:
        print(f"rgbt-tracker export: {exc}", file=sys.stderr)
        return 2
    info = {"checkpoint": str(args.checkpoint), "epoch": state.get("epoch"), "step": state.get("step"),
            "best_val_loss": state.get("best_val"), "run": state["config"].get("name")}
    path = export_student(model, Path(args.output), name=args.name or state["config"].get("name", "student"),
                          training_info=info)
    try:
        diff_random = check_parity(model, path.parent, random_inputs(model.config, 3), args.tolerance)
        diff_real = check_parity(model, path.parent, real_inputs(model.config, 3), args.tolerance)
    except AssertionError as exc:
        print(f"rgbt-tracker export: parity check FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"exported {path.parent}: max |ONNX - PyTorch| = {diff_random:.2e} (random inputs), "
          f"{diff_real:.2e} (real crops); tolerance {args.tolerance:.0e}")
    return 0
