"""Seconds per training step of a config, per precision (`rgbt-tracker train-bench`, commands/train_bench.py).

The same pre-loaded batches (data loading is not timed) and the same starting weights for each
precision, one untimed warm-up step, then the median and 90th percentile over `steps` steps; the
first batch's loss under each precision shows what reduced precision changes numerically.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.training.config import TrainConfig
from rgbt_tracker_ros.training.trainer import Trainer, batch_to


@dataclass(frozen=True)
class StepTiming:
    precision: str
    p50: float          # seconds per step
    p90: float
    first_loss: float   # loss of the first batch, before any step


@dataclass(frozen=True)
class StepBench:
    rows: list[StepTiming]   # the first is the reference
    device: torch.device
    threads: int


def time_steps(config: TrainConfig, steps: int, precisions: list[str], device: str = "") -> StepBench:
    """Time `steps` training steps of `config` under each precision; nothing is written."""
    if steps < 1:
        raise InputError("--steps must be at least 1")
    rows, batches, weights, trainer = [], None, None, None
    for precision in precisions:
        torch.manual_seed(config.run.seed)
        # Timing only: no resume or init, nothing written.
        run_cfg = dataclasses.replace(config.run, precision=precision, resume="", init="")
        trainer = Trainer(dataclasses.replace(config, run=run_cfg.with_command_line(device=device)))
        if batches is None:
            stream = iter(trainer.data_loader())
            batches = [batch_to(next(stream), trainer.device) for _ in range(steps + 1)]
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
        rows.append(StepTiming(precision, float(np.median(seconds)), float(np.percentile(seconds, 90)), first_loss))
    return StepBench(rows, trainer.device, torch.get_num_threads())
