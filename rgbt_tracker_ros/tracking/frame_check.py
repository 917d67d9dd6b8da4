"""Is a camera frame evidence? A frame that is uniform (black, saturated, near-constant), frozen
(identical to the camera's previous frame) or mostly non-finite carries no information about the
target; the tracker treats that camera as missing for the frame (docs/design.md, "The tracker contract").

The check looks at a regular grid of about `samples` pixels (every channel), so it costs about 40
microseconds on a 640x512 visible frame and 15 on a 16-bit thermal one (this 2-core CPU).
Thresholds, chosen on synthetic data: the smallest 1st..99th percentile spread of any channel over
every frame of the synthetic validation split (40 sequences,
both cameras, 8- and 16-bit thermal) is 25 grey levels (visible, low light), 106 display levels
(8-bit thermal) and 120 counts (16-bit thermal); the two real thermal sequences' is 69. The uniform
thresholds (6 levels, 16 counts) sit four to seven times below those, so only frames with next to
no contrast are flagged; a camera that sends noise only is not caught here (training covers it:
data/sampler.py's dead-camera augmentation).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.preprocessing import holds_finite_value

# A uniform integer frame this close to either end of its range (a share of the range) is black or
# saturated: 15 grey levels for 8 bits; 255 counts for 16 bits, where a few thousand counts is a
# plausible cold scene.
_END_OF_RANGE = {1: 1 / 16, 2: 1 / 256}


class Uninformative(str, enum.Enum):
    """Why a frame is not evidence (the value is what results and diagnostics say)."""

    BLACK = "black"             # uniform at the bottom of the range
    SATURATED = "saturated"     # uniform at the top of the range
    UNIFORM = "uniform"         # uniform elsewhere (a constant fill, a test pattern of one colour)
    NON_FINITE = "non-finite"   # mostly NaN / infinity (float thermal)
    FROZEN = "frozen"           # identical to the camera's previous frame


@dataclass(frozen=True)
class FrameCheckConfig:
    """When a frame is not evidence. `enabled=False` feeds every frame to the network as before."""

    enabled: bool = True
    samples: int = 2048             # pixels looked at per frame (a regular grid)
    spread_uint8: float = 6.0       # uniform: every channel's 1st..99th percentile spread <= this (levels)
    spread_uint16: float = 16.0     # ... in counts (radiometric thermal)
    spread_float: float = 0.05      # ... in the frame's units (temperatures)
    max_nonfinite: float = 0.5      # a float frame with a larger share of NaN / inf pixels is not evidence
    frozen: bool = True             # flag a frame identical (on the grid) to the camera's previous one

    def __post_init__(self) -> None:
        if not isinstance(self.samples, int) or self.samples < 64:
            raise InputError(f"frame check samples must be an integer >= 64, got {self.samples!r}")
        for name in ("spread_uint8", "spread_uint16", "spread_float"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise InputError(f"frame check {name} must be a number >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.max_nonfinite <= 1.0:
            raise InputError(f"frame check max_nonfinite must lie in 0..1, got {self.max_nonfinite!r}")

    def spread_threshold(self, dtype: np.dtype) -> float:
        if dtype == np.uint8:
            return self.spread_uint8
        if dtype == np.uint16:
            return self.spread_uint16
        return self.spread_float


@dataclass(frozen=True)
class Look:
    """What the check saw in one camera's frame: its grid sample (the next frame's frozen reference)
    and the reason it is not evidence, None when it is."""

    camera: str
    sample: np.ndarray
    reason: Uninformative | None


def grid_sample(image: np.ndarray, samples: int) -> np.ndarray:
    """About `samples` pixels on a regular grid, as a (pixels, channels) copy."""
    h, w = image.shape[:2]
    step = max(1, int(np.sqrt(h * w / samples)))
    grid = image[step // 2::step, step // 2::step]
    channels = 1 if grid.ndim == 2 else grid.shape[2]
    return grid.reshape(-1, channels).copy()


def content_reason(sample: np.ndarray, config: FrameCheckConfig) -> Uninformative | None:
    """Uniform or non-finite (what one frame alone shows), from its grid sample; None: evidence."""
    values = sample
    if sample.dtype.kind == "f":
        finite = np.isfinite(sample).all(axis=1)
        if finite.size == 0 or 1.0 - finite.mean() > config.max_nonfinite or not finite.any():
            return Uninformative.NON_FINITE
        values = sample[finite]
    n = values.shape[0]
    lo_k, hi_k = int(0.01 * (n - 1)), int(0.99 * (n - 1))
    ordered = np.partition(values, (lo_k, hi_k), axis=0)
    spread = float((ordered[hi_k].astype(np.float64) - ordered[lo_k]).max())
    if spread > config.spread_threshold(sample.dtype):
        return None
    if sample.dtype.kind == "u":
        top = float(np.iinfo(sample.dtype).max)
        margin = top * _END_OF_RANGE[sample.dtype.itemsize]
        if ordered[hi_k].max() <= margin:
            return Uninformative.BLACK
        if ordered[lo_k].min() >= top - margin:
            return Uninformative.SATURATED
    return Uninformative.UNIFORM


def lacks_finite_values(image) -> bool:
    """True for a float frame without a single finite value (preprocessing.holds_finite_value: the
    tracker's image checks refuse such a frame as bad input; from a camera that was working it is a
    dead frame instead)."""
    if not isinstance(image, np.ndarray) or image.dtype.kind != "f" or image.ndim not in (2, 3) or image.size == 0:
        return False
    return not holds_finite_value(image)


class FrameCheck:
    """The check with its memory: each camera's previous grid sample, for the frozen test.

    `look` does not change the memory; `remember` keeps the looks of a frame that was accepted,
    so a frame refused as bad input leaves the check as it was. `forget` clears the memory (at
    initialisation: the first tracked frame is not compared with the initialisation frame, which a
    caller may track again on purpose).
    """

    def __init__(self, config: FrameCheckConfig | None = None):
        self.config = FrameCheckConfig() if config is None else config
        if not isinstance(self.config, FrameCheckConfig):
            raise InputError(f"frame_check must be a FrameCheckConfig, got {type(self.config).__name__}")
        self._previous: dict[str, np.ndarray] = {}

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def look(self, camera: str, image: np.ndarray) -> Look:
        sample = grid_sample(image, self.config.samples)
        reason = content_reason(sample, self.config)
        if reason is None and self.config.frozen:
            previous = self._previous.get(camera)
            if previous is not None and np.array_equal(previous, sample, equal_nan=sample.dtype.kind == "f"):
                reason = Uninformative.FROZEN
        return Look(camera, sample, reason)

    def content(self, image: np.ndarray) -> Uninformative | None:
        """The reason a frame alone is not evidence (uniform, non-finite); no memory involved."""
        return content_reason(grid_sample(image, self.config.samples), self.config)

    def remember(self, looks) -> None:
        for look in looks:
            self._previous[look.camera] = look.sample

    def forget(self) -> None:
        self._previous.clear()
