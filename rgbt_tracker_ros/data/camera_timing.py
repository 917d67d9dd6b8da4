"""When a played or recorded sequence's frames are captured: one schedule for `play` and `bag`.

Frame k is captured at k / rate on a steady clock; its visible image is stamped with that instant,
its thermal image with that instant plus a fixed offset and a uniform jitter of +-jitter, drawn
independently per frame from a seeded generator (the same seed gives the same stamps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.common.errors import InputError


@dataclass(frozen=True)
class CameraTiming:
    """The two cameras' clocks. Times in milliseconds unless named otherwise."""

    rate_hz: float = 30.0
    thermal_offset_ms: float = 0.0          # thermal stamp minus visible stamp
    jitter_ms: float = 0.0                  # extra thermal offset, uniform in [-jitter, +jitter] per frame
    seed: int = 0                           # of the jitter

    def __post_init__(self) -> None:
        if not 0.1 <= self.rate_hz <= 1000.0:
            raise InputError(f"rate must be in [0.1, 1000] Hz, got {self.rate_hz}")
        if not abs(self.thermal_offset_ms) <= 10_000:
            raise InputError(f"thermal offset must be within +-10 s, got {self.thermal_offset_ms} ms")
        if not 0.0 <= self.jitter_ms <= 10_000:
            raise InputError(f"jitter must be in [0, 10000] ms, got {self.jitter_ms}")

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz

    @property
    def earliest_thermal_s(self) -> float:
        """The most a thermal frame can be stamped before its visible frame (0 if never)."""
        return max(0.0, -(self.thermal_offset_ms - self.jitter_ms) / 1e3)


class FrameClock:
    """Capture instants, in seconds from the first visible frame, of successive frames."""

    def __init__(self, timing: CameraTiming):
        self.timing = timing
        self._rng = np.random.default_rng(timing.seed)

    def next_frame(self, index: int) -> tuple[float, float]:
        """(visible, thermal) instants of frame `index`; call once per frame, in order (the jitter
        is drawn here)."""
        t = self.timing
        jitter = self._rng.uniform(-t.jitter_ms, t.jitter_ms) if t.jitter_ms else 0.0
        captured = index * t.period_s
        return captured, captured + (t.thermal_offset_ms + jitter) / 1e3


def parse_stamp(text: str, option: str) -> int:
    """'SEC.NSEC' (or 'SEC', or a fraction of a second) -> integer nanoseconds."""
    sec, _, fraction = text.strip().partition(".")
    if not sec.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > 9:
        raise InputError(f"{option} must look like SEC.NSEC (e.g. 1718000000.250000000), got {text!r}")
    return int(sec) * 1_000_000_000 + int(fraction.ljust(9, "0") or 0)
