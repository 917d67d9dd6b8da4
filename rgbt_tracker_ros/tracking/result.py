"""What a tracker returns each frame."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class TrackState(str, enum.Enum):
    TRACKING = "tracking"    # confident
    UNCERTAIN = "uncertain"  # low score, or no camera gave evidence: box kept but not to be trusted for control
    LOST = "lost"            # target not found for several frames


@dataclass(frozen=True)
class TrackResult:
    box: np.ndarray  # (4,) x, y, w, h in visible-image pixels (thermal pixels without a visible image)
    score: float
    state: TrackState
    # Cameras whose frame was given but not used because it held no information, and why:
    # {"thermal": "black"}; reasons are tracking.frame_check.Uninformative values. Empty: all used.
    ignored: dict[str, str] = field(default_factory=dict)
