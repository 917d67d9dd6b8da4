"""Typed configuration of the tracker runtime: which model, how to run it, how to post-process."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.errors import InputError

# Short provider names accepted in a config / on the command line, in ONNX Runtime's spelling.
PROVIDER_ALIASES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


def default_trt_cache_dir() -> Path:
    """Per-user cache for TensorRT engines ($XDG_CACHE_HOME or ~/.cache, then rgbt_tracker_ros/trt)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rgbt_tracker_ros" / "trt"


def provider_name(name: str) -> str:
    """'tensorrt' / 'cuda' / 'cpu' (any case) or a full ONNX Runtime provider name -> the full name."""
    key = name.strip()
    if key.lower() in PROVIDER_ALIASES:
        return PROVIDER_ALIASES[key.lower()]
    if key.endswith("ExecutionProvider"):
        return key
    raise InputError(
        f"unknown execution provider {name!r}; use {', '.join(PROVIDER_ALIASES)} or a full ONNX Runtime name"
    )


def parse_providers(text: str) -> tuple[str, ...]:
    """'tensorrt,cuda,cpu' -> ('tensorrt', 'cuda', 'cpu'), each name checked."""
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    if not names:
        raise InputError(f"no execution provider in {text!r}")
    for name in names:
        provider_name(name)
    return names


@dataclass(frozen=True)
class Range:
    """The accepted values of a numeric setting: low..high, both included; `integer`: whole numbers only."""

    low: float
    high: float
    integer: bool = False

    def check(self, name: str, value) -> None:
        """InputError naming `name` unless `value` is a (finite) number in the range."""
        if self.integer:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not self.low <= value <= self.high:
                raise InputError(f"{name} must be an integer in [{self.low}, {self.high}], got {value!r}")
            return
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise InputError(f"{name} must be a number, got {value!r}")
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise InputError(f"{name} must be in [{self.low}, {self.high}], got {value!r}")


# The one table of ranges of TrackerConfig's numeric fields: its own validation and the tracker
# node's parameter descriptors and checks (ros/parameters.py) both read it.
# threads: more ONNX Runtime intra-op threads than 64 only wait on each other for a model this small.
# lost_after: 10000 frames is over 5 minutes at 30 Hz; a target unseen that long is lost.
RANGES: dict[str, Range] = {
    "threads": Range(1, 64, integer=True),
    "lost_after": Range(1, 10_000, integer=True),
    "hann_weight": Range(0.0, 1.0),
    "size_lr": Range(0.0, 1.0),
    "score_tracking": Range(0.0, 1.0),
    "score_lost": Range(0.0, 1.0),
    "search_growth": Range(1.0, 4.0),
    "max_search_growth": Range(1.0, 8.0),
    "min_box": Range(1.0, 1e4),
    "scale_penalty": Range(0.0, 10.0),
    "max_scale_step": Range(1.0, 4.0),
    "window_floor": Range(0.0, 1.0),
    "template_weight": Range(0.0, 1.0),
    "template_update_score": Range(0.0, 1.0),
    "template_update_interval": Range(1, 10_000, integer=True),
    "redetect_score": Range(0.0, 1.0),
}


@dataclass(frozen=True)
class TrackerConfig:
    """How RGBTTracker runs its model and turns score maps into boxes.

    model: a model folder (or its model.json); None means the default student shipped in the package.
    providers: execution providers in priority order; unavailable ones are skipped with a warning.
    thermal_to_visible: optional 3x3 homography (thermal pixel -> visible pixel) replacing the default
    scaling of the thermal image onto the visible image. Given to a tracker initialised on thermal
    alone, it puts the boxes in the visible camera's pixels (e.g. a thermal-only run scored against
    visible ground truth); without it such a tracker works in thermal pixels.
    """

    model: str | Path | None = None
    providers: tuple[str, ...] = ("tensorrt", "cuda", "cpu")
    threads: int = 2
    trt_fp16: bool = True
    trt_cache_dir: Path = field(default_factory=default_trt_cache_dir)
    # Post-processing.
    hann_weight: float = 0.2      # score map blended with a Hann window: (1 - w) * score + w * hann
    size_lr: float = 0.6          # box size follows the prediction at size_lr * score per frame
    score_tracking: float = 0.3   # score at or above which the prediction is trusted
    score_lost: float = 0.1       # score below which a frame counts towards losing the target
    lost_after: int = 10          # consecutive frames below score_lost before the state is LOST
    search_growth: float = 1.2    # search window side grows by this factor per untrusted frame...
    max_search_growth: float = 2.0  # ...up to this multiple of its normal side
    min_box: float = 2.0          # smallest box side (pixels) accepted at init and reported
    # The box keeps its size (docs/postprocessing.md): candidates whose size or aspect ratio departs
    # from the current box are penalised, exp(-scale_penalty * (change - 1)), 0: off; each side
    # changes by at most a factor max_scale_step per frame; the search window's side never falls
    # below window_floor times its side at initialisation.
    scale_penalty: float = 0.0
    max_scale_step: float = 4.0
    window_floor: float = 0.0
    # The appearance model adapts: a dynamic template from a frame scoring at least
    # template_update_score, at most every template_update_interval frames, mixed into the initial
    # one with weight template_weight (0: the initial template alone).
    template_weight: float = 0.0
    template_update_score: float = 0.8
    template_update_interval: int = 10
    # Re-detection: while lost, one tile of a sweep of the whole frame per frame; a tile peak at or
    # above redetect_score re-acquires the target (1: off, a score never reaches it).
    redetect_score: float = 1.0
    # A camera frame without information (uniform, frozen, mostly non-finite: tracking/frame_check.py)
    # counts as missing for that frame; False feeds every frame to the network.
    frame_check: bool = True
    thermal_to_visible: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        if self.model is not None and not isinstance(self.model, (str, Path)):
            raise InputError(f"model must be a path or None, got {type(self.model).__name__}")
        if isinstance(self.providers, str):
            object.__setattr__(self, "providers", parse_providers(self.providers))
        else:
            object.__setattr__(self, "providers", tuple(self.providers))
        if not self.providers:
            raise InputError("providers must name at least one execution provider")
        for name in self.providers:
            if not isinstance(name, str):
                raise InputError(f"provider names must be strings, got {name!r}")
            provider_name(name)
        object.__setattr__(self, "trt_cache_dir", Path(self.trt_cache_dir).expanduser())
        if not isinstance(self.frame_check, (bool, np.bool_)):
            raise InputError(f"frame_check must be true or false, got {self.frame_check!r}")
        object.__setattr__(self, "frame_check", bool(self.frame_check))
        for name, accepted in RANGES.items():
            accepted.check(name, getattr(self, name))
        if self.score_lost > self.score_tracking:
            raise InputError(
                f"score_lost ({self.score_lost}) must not exceed score_tracking ({self.score_tracking})"
            )
        if self.thermal_to_visible is not None:
            object.__setattr__(self, "thermal_to_visible", _homography_tuple(self.thermal_to_visible))

    def thermal_to_visible_matrix(self) -> np.ndarray | None:
        return None if self.thermal_to_visible is None else np.array(self.thermal_to_visible, dtype=np.float64)


def _homography_tuple(matrix) -> tuple[tuple[float, ...], ...]:
    try:
        arr = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"thermal_to_visible must be a 3x3 matrix of numbers, got {matrix!r}") from exc
    if arr.shape != (3, 3):
        raise InputError(f"thermal_to_visible must be a 3x3 matrix, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError("thermal_to_visible contains NaN or infinity")
    if abs(np.linalg.det(arr)) < 1e-12 or abs(arr[2, 2]) < 1e-12:
        raise InputError("thermal_to_visible is singular (not an invertible homography)")
    arr = arr / arr[2, 2]
    return tuple(tuple(float(v) for v in row) for row in arr)
