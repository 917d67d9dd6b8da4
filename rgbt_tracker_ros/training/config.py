"""Everything a training run needs, as typed dataclasses loaded from one YAML file."""

from __future__ import annotations

from dataclasses import dataclass, field

from rgbt_tracker_ros.data.sampler import SamplerConfig
from rgbt_tracker_ros.models.config import ModelConfig


@dataclass(frozen=True)
class DataSource:
    """One training source. kind: 'synthetic' (count sequences of the train split) or a dataset reader
    ('folder', 'gtot', 'rgbt234', 'lasher', 'vtuav' — any layout `load_sequences` detects) at `path`."""

    kind: str = "synthetic"
    path: str = ""
    count: int = 2000
    weight: float = 1.0
    thermal_bits: int = 16  # synthetic only: 16-bit radiometric counts or 8-bit display counts


@dataclass(frozen=True)
class DataConfig:
    sources: tuple[DataSource, ...] = (DataSource(),)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
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
class LossConfig:
    focal: float = 1.0
    l1: float = 5.0
    giou: float = 2.0


@dataclass(frozen=True)
class RunConfig:
    output_dir: str = "runs/student"
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    workers: int = 1      # data loader processes per rank
    threads: int = 0      # torch intra-op threads; 0 = torch's default
    seed: int = 0
    resume: str = ""      # checkpoint to resume from; '' = fresh (the CLI's --resume overrides)


@dataclass(frozen=True)
class TrainConfig:
    name: str = "student"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    run: RunConfig = field(default_factory=RunConfig)
