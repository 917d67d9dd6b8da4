"""`rgbt-tracker train --config FILE`: train a model; also runs under torchrun for several GPUs."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from rgbt_tracker_ros.common.config_io import load_yaml_config
from rgbt_tracker_ros.common.errors import InputError


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


def _resume_path(resume: str, output_dir: str) -> str:
    """--resume auto: continue a run that was stopped (a finished run then just reports its best.pt)."""
    if resume != "auto":
        return resume
    last = Path(output_dir) / "last.pt"
    return str(last) if last.is_file() else ""


def run(args: argparse.Namespace) -> int:
    from rgbt_tracker_ros.training.config import TrainConfig
    from rgbt_tracker_ros.training.trainer import Trainer

    try:
        config = load_yaml_config(TrainConfig, args.config, args.overrides)
        run_cfg = config.run.with_command_line(output_dir=args.output_dir, device=args.device)
        run_cfg = run_cfg.with_command_line(resume=_resume_path(args.resume, run_cfg.output_dir))
        optim = dataclasses.replace(config.optim, epochs=args.epochs) if args.epochs else config.optim
        config = dataclasses.replace(config, run=run_cfg, optim=optim)
        best = Trainer(config).fit()
    except InputError as exc:
        print(f"rgbt-tracker train: {exc}", file=sys.stderr)
        return 2
    if best is not None:
        print(f"best checkpoint: {best}", file=sys.stderr)
    return 0
