"""Re-detection: while the target is lost, the whole frame is swept in tiles of the normal search
window's size, one tile per frame through the same search graph, nearest tiles first; a tile whose
peak score passes the re-detection threshold re-acquires the target."""

from __future__ import annotations

import math

import numpy as np

from rgbt_tracker_ros.tracking.geometry import Size
from rgbt_tracker_ros.tracking.preprocessing import CropWindow

# Neighbouring tiles overlap by this share of their side: the network's score is least reliable at
# the crop's border, so every point of the frame is well inside at least one tile.
TILE_OVERLAP = 0.25


def tile_centres(frame_size: Size, side: float, near: tuple[float, float]) -> np.ndarray:
    """(N, 2) centres of square tiles of `side` px covering the frame, ordered by distance from `near`."""
    axes = []
    for extent in frame_size:
        if side >= extent:
            axes.append(np.array([extent / 2.0]))
            continue
        count = math.ceil((extent - side) / (side * (1.0 - TILE_OVERLAP))) + 1
        axes.append(np.linspace(side / 2.0, extent - side / 2.0, count))
    xs, ys = np.meshgrid(*axes)
    centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
    order = np.argsort(np.hypot(centres[:, 0] - near[0], centres[:, 1] - near[1]), kind="stable")
    return centres[order]


class TileSweep:
    """The tiles of one loss, handed out in turn (and round again while the target stays lost)."""

    def __init__(self, frame_size: Size, side: float, near: tuple[float, float], out_size: int):
        self.side = side
        self.out_size = out_size
        self.centres = tile_centres(frame_size, side, near)
        self._next = 0

    def __len__(self) -> int:
        return len(self.centres)

    def next_window(self) -> CropWindow:
        cx, cy = self.centres[self._next % len(self.centres)]
        self._next += 1
        return CropWindow(float(cx), float(cy), self.side, self.out_size)
