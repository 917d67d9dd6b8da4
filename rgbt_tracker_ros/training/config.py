"""Everything a training run needs, as typed dataclasses loaded from one YAML file. The sections of
other parts are theirs: `model` (models.config), `loss` (models.losses), `data.sampler`
(data.sampler: its crop geometry is the model's, never set here), `distill` (distill.loss, each term's
config beside the term)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from rgbt_tracker_ros.common.config_io import load_yaml_config
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sampler import SamplerConfig
from rgbt_tracker_ros.data.synthetic.config import THERMAL_WORLDS
from rgbt_tracker_ros.distill.loss import DistillConfig
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.losses import LossConfig
from rgbt_tracker_ros.models.precision import PRECISIONS


@dataclass(frozen=True)
class DataSource:
    """One training source. kind: 'synthetic' (count sequences of the train split) or a dataset reader
    ('folder', 'gtot', 'rgbt234', 'lasher', 'vtuav' — any layout `load_sequences` detects) at `path`."""

    kind: str = "synthetic"
    path: str = ""
    count: int = 2000
    weight: float = 1.0
    thermal_bits: int = 16  # synthetic only: 16-bit radiometric counts or 8-bit display counts
    # Synthetic only: "blurred" or "structured" thermal world (data/synthetic/config.py), and the
    # target's size and aspect ranges (None: the generator's defaults).
    thermal_world: str = "blurred"
    target_size: tuple[float, float] | None = None
    aspect_ratio: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        # Checked when the config is read, not when the first batch of this source is drawn.
        if self.thermal_world not in THERMAL_WORLDS:
            raise ValueError(f"thermal_world must be one of {', '.join(THERMAL_WORLDS)}, got {self.thermal_world!r}")


@dataclass(frozen=True)
class DataConfig:
    sources: tuple[DataSource, ...] = (DataSource(),)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)  # augmentation; the crops follow `model`
    val_sequences: int = 40   # synthetic validation split (seeds never used for training)
    val_pairs: int = 384
    synthetic_width: int = 320
    synthetic_height: int = 256
    synthetic_length: int = 100


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 2e-3
    weight_decay: float = 1e-4
    batch_size: int = 32
    epochs: int = 20
    steps_per_epoch: int = 200
    warmup_steps: int = 200
    grad_clip: float = 5.0


@dataclass(frozen=True)
class RunConfig:
    output_dir: str = "runs/student"
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    workers: int = 1      # data loader processes per rank
    threads: int = 0      # torch intra-op threads; 0 = torch's default
    seed: int = 0
    resume: str = ""      # checkpoint to resume from; '' = fresh (the CLI's --resume overrides)
    init: str = ""        # start weights only (a checkpoint of the same model kind): fresh optimizer and
                          # schedule, e.g. a distillation that fine-tunes a trained student; resume wins
    precision: str = "fp32"  # fp32 | bf16: the forward passes under bf16 autocast (weights, optimizer
                             # and losses stay fp32); on a CPU with AVX512-BF16 a teacher step took
                             # 1.44 s instead of 2.89 s (docs/distillation.md)

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"run.precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", self.device):
            raise ValueError(f"run.device must be auto, cpu, cuda or cuda:N, got {self.device!r}")

    def with_command_line(self, **values: str) -> "RunConfig":
        """This run config with the command line's flags that were given (empty values are not)."""
        try:
            return replace(self, **{key: value for key, value in values.items() if value})
        except ValueError as exc:
            raise InputError(str(exc)) from exc


@dataclass(frozen=True)
class TrainConfig:
    name: str = "student"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    run: RunConfig = field(default_factory=RunConfig)
    distill: DistillConfig | None = None  # None: plain training, no teacher


def resume_path(resume: str, output_dir: str) -> str:
    """--resume auto: continue a run that was stopped (a finished run then just reports its best.pt)."""
    if resume != "auto":
        return resume
    last = Path(output_dir) / "last.pt"
    return str(last) if last.is_file() else ""


def load_train_config(path: str | Path, overrides: list[str] = (), *, output_dir: str = "", device: str = "",
                      resume: str = "", epochs: int = 0) -> TrainConfig:
    """The config of a training YAML with `--set` overrides, then the command line's flags that were
    given: output folder, device, resume (a checkpoint or 'auto'), number of epochs."""
    config = load_yaml_config(TrainConfig, path, overrides)
    run = config.run.with_command_line(output_dir=output_dir, device=device)
    run = run.with_command_line(resume=resume_path(resume, run.output_dir))
    optim = replace(config.optim, epochs=epochs) if epochs else config.optim
    return replace(config, run=run, optim=optim)
