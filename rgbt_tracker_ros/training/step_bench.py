"""`rgbt-tracker train-bench --config FILE`: seconds per training step of a config, per precision.

The same pre-loaded batches (data loading is not timed) and the same starting weights for each
precision, one untimed warm-up step, then the median and 90th percentile over --steps steps; the
first batch's loss under each precision shows what reduced precision changes numerically.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import time

import numpy as np

from rgbt_tracker_ros.common.config_io import load_yaml_config
from rgbt_tracker_ros.common.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from rgbt_tracker_ros.training.config import PRECISIONS

    parser.add_argument("--config", required=True, help="training config YAML (see config/training/)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per precision (default 5)")
    parser.add_argument("--precision", nargs="+", default=list(PRECISIONS), choices=PRECISIONS,
                        help="precisions to time, the first is the reference (default: fp32 bf16)")
    parser.add_argument("--device", default="", help="override run.device (auto, cpu, cuda)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override one config entry, as for `train` (repeatable)")


def run(args: argparse.Namespace) -> int:
    import torch

    from rgbt_tracker_ros.training.config import TrainConfig
    from rgbt_tracker_ros.training.trainer import Trainer, batch_to

    if args.steps < 1:
        print("rgbt-tracker train-bench: --steps must be at least 1", file=sys.stderr)
        return 2
    try:
        config = load_yaml_config(TrainConfig, args.config, args.overrides)
        rows, batches, weights = [], None, None
        for precision in args.precision:
            torch.manual_seed(config.run.seed)
            # Timing only: no resume or init, nothing written.
            run_cfg = dataclasses.replace(config.run, precision=precision, resume="", init="")
            trainer = Trainer(dataclasses.replace(config, run=run_cfg.with_command_line(device=args.device)))
            if batches is None:
                stream = iter(trainer.data_loader())
                batches = [batch_to(next(stream), trainer.device) for _ in range(args.steps + 1)]
                weights = copy.deepcopy(trainer.model.state_dict())
            trainer.model.load_state_dict(weights)
            with torch.no_grad():
                first_loss = float(trainer.objective(batches[0])[0])
            trainer.train_step(batches[0])  # warm-up: allocator, oneDNN/cuDNN kernel choice
            seconds = []
            for batch in batches[1:]:
                started = time.perf_counter()
                trainer.train_step(batch)
                if trainer.device.type == "cuda":
                    torch.cuda.synchronize()
                seconds.append(time.perf_counter() - started)
            rows.append((precision, float(np.median(seconds)), float(np.percentile(seconds, 90)), first_loss))
    except InputError as exc:
        print(f"rgbt-tracker train-bench: {exc}", file=sys.stderr)
        return 2
    print(f"{config.name}: {config.model.kind}, batch {config.optim.batch_size}, device {trainer.device}, "
          f"{torch.get_num_threads()} threads, {args.steps} timed steps per precision")
    print("precision | s/step p50 | s/step p90 | speed-up | first-batch loss")
    for precision, p50, p90, loss in rows:
        print(f"{precision} | {p50:.3f} | {p90:.3f} | {rows[0][1] / p50:.2f}x | {loss:.4f}")
    return 0
