"""Small in-memory sequences and a recording stand-in tracker, for the runner, peer and eval tests."""

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.tracking.result import TrackResult, TrackState

SIDE = 20


def moving_square(n: int = 30, thermal_step: int = 1, thermal_dtype=np.uint16, name: str = "square") -> Sequence:
    """A textured square moving 3 px right and 1.5 px down per frame over a blocky static background;
    visible uint8 RGB 160x120, thermal radiometric counts (decimated by thermal_step)."""
    rng = np.random.default_rng(0)
    background = np.kron(rng.normal(0.0, 1.0, (15, 20)), np.ones((8, 8)))
    texture = rng.normal(0.0, 1.0, (SIDE, SIDE))
    visible, thermal, gt = [], [], []
    for i in range(n):
        x, y = 20 + round(3 * i), 20 + round(1.5 * i)
        grey = 100.0 + 20.0 * background
        grey[y:y + SIDE, x:x + SIDE] = 200.0 + 20.0 * texture
        visible.append(np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2))
        counts = 8000.0 + 50.0 * background
        counts[y:y + SIDE, x:x + SIDE] = 8600.0 + 80.0 * texture
        thermal.append(counts[::thermal_step, ::thermal_step].astype(thermal_dtype))
        gt.append([x, y, SIDE, SIDE])
    return Sequence(name, ArrayFrames(visible), ArrayFrames(thermal), np.array(gt, dtype=np.float64))


class RecordingTracker:
    """Stays on its init box; remembers what it was fed; raises InputError on chosen frames."""

    name = "recorder"

    def __init__(self, fail_on: tuple[int, ...] = ()):
        self.fail_on = fail_on
        self.calls = 0
        self.fed: list[tuple[bool, bool]] = []

    def initialize(self, visible, thermal, box):
        self.box = np.asarray(box, dtype=np.float64)
        self.fed.append((visible is not None, thermal is not None))

    def track(self, visible, thermal):
        self.calls += 1
        self.fed.append((visible is not None, thermal is not None))
        if self.calls in self.fail_on:
            raise InputError("bad frame")
        self.box = self.box + [1.0, 0.0, 0.0, 0.0]
        return TrackResult(self.box.copy(), 0.9, TrackState.TRACKING)
