"""What a tracker returns each frame."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class TrackState(str, enum.Enum):
    TRACKING = "tracking"    # confident
    UNCERTAIN = "uncertain"  # low score: box kept but not to be trusted for control
    LOST = "lost"            # target not found for several frames


@dataclass(frozen=True)
class TrackResult:
    box: np.ndarray  # (4,) x, y, w, h in visible-image pixels (thermal pixels without a visible image)
    score: float
    state: TrackState
