"""What the synthetic generator makes: image geometry and how often and how hard each challenge occurs."""

from __future__ import annotations

from dataclasses import dataclass, fields

from rgbt_tracker_ros.common.errors import InputError

THERMAL_WORLDS = ("blurred", "structured")


@dataclass(frozen=True)
class SyntheticConfig:
    """Settings of the synthetic RGB-T sequences. Sizes are pixels, probabilities are per sequence.

    Thermal values: 16 bits gives radiometric counts (background around 7000..9000, the target a few
    hundred counts warmer, sometimes colder); 8 bits gives display counts after a per-frame stretch.
    thermal_size (width, height) renders the thermal camera at its own resolution; None means the
    visible size, pixel-aligned.
    """

    width: int = 640
    height: int = 480
    length: int = 120
    thermal_bits: int = 16
    thermal_size: tuple[int, int] | None = None
    # "blurred": the thermal image is a blurred, low-contrast version of the photo with uniform hot
    # objects (the first world, kept bit-identical); "structured": rendered from scene structure
    # (data/synthetic/thermal_world.py).
    thermal_world: str = "blurred"

    # Target: sqrt(w * h) as a fraction of min(width, height), and width / height.
    target_size: tuple[float, float] = (0.06, 0.35)
    aspect_ratio: tuple[float, float] = (0.3, 3.0)
    # Typical target speed, as a fraction of min(width, height) per frame.
    speed: float = 0.012
    # Largest excursion of log(scale) over a sequence, and of log(aspect ratio).
    scale_change_strength: float = 0.6
    aspect_change_strength: float = 0.25

    fast_motion_probability: float = 0.3
    occlusion_probability: float = 0.5
    full_occlusion_share: float = 0.5  # share of occlusion events where the occluder hides the whole target
    distractor_probability: float = 0.4
    low_light_probability: float = 0.25
    low_light_gain: tuple[float, float] = (0.08, 0.3)  # visible brightness factor at the darkest
    thermal_crossover_probability: float = 0.2
    camera_shake_probability: float = 0.25
    shake_amplitude: float = 8.0  # pixels, standard deviation of the per-frame jitter
    camera_pan_speed: float = 1.5  # pixels per frame at most
    cold_target_probability: float = 0.15
    vignetting_probability: float = 0.3

    background_temperature: tuple[float, float] = (7000.0, 9000.0)  # counts
    background_contrast: tuple[float, float] = (25.0, 120.0)  # counts, std of the background field
    target_contrast: tuple[float, float] = (150.0, 900.0)  # counts between target and background mean
    visible_noise: tuple[float, float] = (1.0, 4.0)  # grey levels, std
    thermal_noise: tuple[float, float] = (5.0, 15.0)  # counts, std of the temporal noise

    def __post_init__(self) -> None:
        if self.width < 64 or self.height < 64:
            raise InputError(f"synthetic frames must be at least 64x64, got {self.width}x{self.height}")
        if self.length < 2:
            raise InputError(f"a synthetic sequence needs at least 2 frames, got {self.length}")
        if self.thermal_bits not in (8, 16):
            raise InputError(f"thermal_bits must be 8 or 16, got {self.thermal_bits}")
        if self.thermal_world not in THERMAL_WORLDS:
            raise InputError(f"thermal_world must be one of {', '.join(THERMAL_WORLDS)}, got {self.thermal_world!r}")
        if self.thermal_size is not None:
            if len(self.thermal_size) != 2 or min(self.thermal_size) < 32:
                raise InputError(f"thermal_size must be (width, height) of at least 32 px, got {self.thermal_size}")
            object.__setattr__(self, "thermal_size", (int(self.thermal_size[0]), int(self.thermal_size[1])))
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.endswith("_probability") or item.name == "full_occlusion_share":
                if not 0.0 <= value <= 1.0:
                    raise InputError(f"{item.name} must lie in 0..1, got {value}")
            elif isinstance(value, tuple) and item.name != "thermal_size":
                if len(value) != 2 or value[0] > value[1]:
                    raise InputError(f"{item.name} must be a (low, high) pair, got {value}")
        if not (0.0 < self.target_size[0] and self.target_size[1] <= 0.8):
            raise InputError(f"target_size must lie in (0, 0.8], got {self.target_size}")
        if self.aspect_ratio[0] <= 0.0:
            raise InputError(f"aspect_ratio must be positive, got {self.aspect_ratio}")

    @property
    def thermal_resolution(self) -> tuple[int, int]:
        """(width, height) of the thermal frames."""
        return self.thermal_size if self.thermal_size is not None else (self.width, self.height)
