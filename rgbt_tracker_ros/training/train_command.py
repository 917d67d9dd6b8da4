"""`rgbt-tracker train --config FILE`: train a model; also runs under torchrun for several GPUs."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TypeVar

import yaml

from rgbt_tracker_ros.common.config_io import from_dict
from rgbt_tracker_ros.common.errors import InputError

T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="training config YAML (see config/training/)")
    parser.add_argument("--resume", default="", help="checkpoint to resume from (e.g. runs/student/last.pt)")
    parser.add_argument("--output-dir", default="", help="override run.output_dir")
    parser.add_argument("--epochs", type=int, default=0, help="override optim.epochs")
    parser.add_argument("--device", default="", help="override run.device (auto, cpu, cuda)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override one config entry, dotted key and YAML value, e.g. "
                             "--set distill.style_content.enabled=false --set optim.lr=0.001 (repeatable)")


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Set each 'a.b.c=value' (value parsed as YAML) in the raw config mapping, creating sections."""
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            raise InputError(f"--set expects KEY=VALUE with a dotted KEY, got {item!r}")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"--set {key}: value {text!r} is not valid YAML: {exc}") from exc
        node = data
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise InputError(f"--set {key}: {'.'.join(parts[:i + 1])} is a value, not a section")
            node = child
        node[parts[-1]] = value
    return data


def load_config(cls: type[T], path: str | Path, overrides: list[str] = ()) -> T:
    """The typed config of a YAML file with --set overrides applied before type checking."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise InputError(f"cannot read config {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"config {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"config {path} must hold a mapping")
    return from_dict(cls, apply_overrides(data, list(overrides)), where=path.name)


def run(args: argparse.Namespace) -> int:
    from rgbt_tracker_ros.training.config import TrainConfig
    from rgbt_tracker_ros.training.trainer import Trainer

    try:
        config = load_config(TrainConfig, args.config, args.overrides)
        run_cfg = config.run
        if args.resume:
            run_cfg = dataclasses.replace(run_cfg, resume=args.resume)
        if args.output_dir:
            run_cfg = dataclasses.replace(run_cfg, output_dir=args.output_dir)
        if args.device:
            run_cfg = dataclasses.replace(run_cfg, device=args.device)
        optim = dataclasses.replace(config.optim, epochs=args.epochs) if args.epochs else config.optim
        config = dataclasses.replace(config, run=run_cfg, optim=optim)
        best = Trainer(config).fit()
    except InputError as exc:
        print(f"rgbt-tracker train: {exc}", file=sys.stderr)
        return 2
    if best is not None:
        print(f"best checkpoint: {best}", file=sys.stderr)
    return 0
