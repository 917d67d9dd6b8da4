"""Everything a training run needs, as typed dataclasses loaded from one YAML file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rgbt_tracker_ros.common.errors import InputError
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
    paths: float = 0.5  # teachers only: weight of the box losses of each fusion path's own prediction


# -- distillation (docs/distillation.md) -----------------------------------------------------------
# Every term has `enabled` and `weight`; a disabled term (or weight 0) is not built, holds no
# parameters and costs nothing. `levels` index the backbone feature lists [stage 0, ..., neck] of
# student and teacher alike (negative = from the deepest: -1 is the neck).


@dataclass(frozen=True)
class SpecificCommonConfig:
    """CMD specific-common feature distillation (distill/specific_common.py)."""

    enabled: bool = True
    weight: float = 1.0
    levels: tuple[int, ...] = (-3, -2, -1)
    common: float = 1.0     # weight of the modality-common part (mean of the teacher's two streams)
    specific: float = 1.0   # weight of the modality-specific residuals


@dataclass(frozen=True)
class PathSelectionConfig:
    """CMD multi-path selection distillation (distill/path_selection.py); needs a multi-path teacher."""

    enabled: bool = True
    weight: float = 1.0
    feature: float = 1.0    # student fused features vs the chosen path's features (template and search)
    score: float = 1.0      # student score map vs the chosen path's (soft binary cross-entropy)
    box: float = 1.0        # student size/offset maps vs the chosen path's, around the true centre


@dataclass(frozen=True)
class StyleContentConfig:
    """CKD coupled style and content distillation (distill/style_content.py)."""

    enabled: bool = True
    weight: float = 1.0
    style: float = 0.01     # channel mean/std of the student's RGB vs thermal features, per level
    content: float = 0.1    # instance-normalised student vs same-modality teacher features
    levels: tuple[int, ...] = (0, 1, 2, 3)


@dataclass(frozen=True)
class MaskingConfig:
    """CKD's random masking of search-input patches, student input only, training steps only."""

    search_mask_ratio: float = 0.25  # fraction of patches masked per modality; 0 = off
    patch: int = 0                    # patch side in pixels; 0 = the model's stride (one feature cell)


@dataclass(frozen=True)
class DistillConfig:
    teacher: str = ""  # teacher checkpoint (best.pt of a `kind: teacher` / `teacher_mp` run, or an exported student.pt)
    specific_common: SpecificCommonConfig = field(default_factory=SpecificCommonConfig)
    path_selection: PathSelectionConfig = field(default_factory=PathSelectionConfig)
    style_content: StyleContentConfig = field(default_factory=StyleContentConfig)
    masking: MaskingConfig = field(default_factory=MaskingConfig)


PRECISIONS = ("fp32", "bf16")


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
