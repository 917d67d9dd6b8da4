"""Typed configuration of the networks; the builder turns one of these into a model."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BackboneConfig:
    """A compact residual CNN. Each stage is (out_channels, residual_blocks, stride): a 3x3 transition
    convolution with that stride, then that many basic residual blocks. Plain 3x3 convolutions train
    about 3x faster on a CPU than depthwise ones for the same accuracy budget, and run well in ONNX Runtime."""

    stem_channels: int = 24
    stages: tuple[tuple[int, int, int], ...] = ((32, 1, 2), (64, 2, 2), (96, 0, 1))
    out_channels: int = 64  # after the 1x1 neck
    # Width overrides written by structured pruning (training/pruning.py): the inner width (first
    # convolution's output) of each residual block, one tuple per stage with one entry per block.
    # Empty (the default) means every block is as wide as its stage.
    inner_channels: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.inner_channels:
            blocks = tuple(b for _, b, _ in self.stages)
            if tuple(len(widths) for widths in self.inner_channels) != blocks:
                raise ValueError(f"inner_channels needs one width per residual block of each stage "
                                 f"({blocks}), got {self.inner_channels}")
            if any(w < 1 for widths in self.inner_channels for w in widths):
                raise ValueError(f"inner_channels must be positive, got {self.inner_channels}")

    def inner_width(self, stage: int, block: int) -> int:
        """Inner width of residual block `block` of stage `stage` (its stage's width unless overridden)."""
        return self.inner_channels[stage][block] if self.inner_channels else self.stages[stage][0]


@dataclass(frozen=True)
class HeadConfig:
    channels: int = 96
    tower_depth: int = 2  # depthwise-separable 3x3 blocks per branch


@dataclass(frozen=True)
class TeacherConfig:
    """The two-stream teachers' fusion (kinds `teacher` and `teacher_mp`; students ignore it).

    The teacher's backbones (one per modality) and head are `ModelConfig.backbone` / `.head`, set
    deeper and wider than the student's in the teacher's YAML; the crop geometry must equal the
    student's so that score maps and features line up during distillation."""

    attention_heads: int = 4    # cross-modal attention of the fused path (channels % heads == 0)
    selector_hidden: int = 64   # MLP that weighs the RGB, thermal and fused paths per sample
    prompt_reduction: int = 4   # teacher_mp: channel-attention bottleneck of the mutual prompts
    prompt_kernel: int = 7      # teacher_mp: spatial-attention kernel of the mutual prompts


@dataclass(frozen=True)
class ModelConfig:
    """Geometry of the crops plus the parts. Template and search pixels per target must agree:
    template_size / template_factor == search_size / search_factor."""

    kind: str = "student"
    template_size: int = 80
    search_size: int = 160
    template_factor: float = 2.0
    search_factor: float = 4.0
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    fusion: str = "concat"  # the student's simple fusion: concat + 1x1 conv
    teacher: TeacherConfig | None = None  # teachers only: None = TeacherConfig() defaults
    pixel_mean: float = 114.0  # 0..255 input, same for every channel and both modalities
    pixel_std: float = 58.0

    def __post_init__(self) -> None:
        ratio_t = self.template_size / self.template_factor
        ratio_s = self.search_size / self.search_factor
        if abs(ratio_t - ratio_s) > 1e-6:
            raise ValueError(
                f"template_size/template_factor ({ratio_t}) must equal search_size/search_factor ({ratio_s})"
            )
        if self.search_size % self.stride or self.template_size % self.stride:
            raise ValueError(f"crop sizes must be multiples of the backbone stride {self.stride}")

    @property
    def stride(self) -> int:
        s = 2  # stem
        for _, _, stage_stride in self.backbone.stages:
            s *= stage_stride
        return s

    @property
    def feature_size(self) -> int:
        return self.search_size // self.stride

    @property
    def template_feature_size(self) -> int:
        return self.template_size // self.stride
