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


@dataclass(frozen=True)
class HeadConfig:
    channels: int = 96
    tower_depth: int = 2  # depthwise-separable 3x3 blocks per branch


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
