"""The benchmark's scene and latency summary, shared by `bench`'s figures and its peer comparison."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THERMAL_SIZE = (640, 512)  # (width, height), uint16 radiometric counts
VISIBLE_SIZE = (640, 480)  # (width, height), RGB uint8


@dataclass(frozen=True)
class Latency:
    p50: float  # ms
    p95: float  # ms


def latency(seconds: list[float]) -> Latency:
    ms = np.asarray(seconds) * 1e3
    return Latency(float(np.percentile(ms, 50)), float(np.percentile(ms, 95)))


class MovingTarget:
    """A warm textured target on a slow loop over a structured, noisy background, in both cameras.

    Thermal 640x512 uint16 counts, visible 640x480 RGB; the visible image is the thermal one scaled
    (the tracker's default scaling homography). Backgrounds are made once, each frame is a copy with
    the target pasted, so making a frame is cheap and stays outside the timing.
    """

    SIDE = 44  # target side in thermal pixels

    def __init__(self, seed: int = 0, period: int = 240):
        rng = np.random.default_rng(seed)
        tw, th = THERMAL_SIZE
        vw, vh = VISIBLE_SIZE
        self.period = period
        self.scale = (vw / tw, vh / th)
        yy, xx = np.mgrid[0:th, 0:tw].astype(np.float32)
        base = 2900.0 + 150.0 * np.sin(xx / 57.0) * np.cos(yy / 43.0) + 0.2 * yy
        self._thermal_bg = [
            np.clip(base + rng.normal(0.0, 25.0, base.shape), 0, 65535).astype(np.uint16) for _ in range(3)
        ]
        vy, vx = np.mgrid[0:vh, 0:vw].astype(np.float32)
        grey = 90.0 + 40.0 * np.sin(vx / 31.0 + vy / 47.0)
        self._visible_bg = [
            np.clip(np.dstack([grey, grey * 0.9, grey * 0.8]) + rng.normal(0.0, 8.0, (vh, vw, 3)), 0, 255)
            .astype(np.uint8)
            for _ in range(3)
        ]
        s = self.SIDE
        py, px = np.mgrid[0:s, 0:s].astype(np.float32)
        r2 = ((px - s / 2) ** 2 + (py - s / 2) ** 2) / (s / 2) ** 2
        self._heat = (1800.0 * np.clip(1.2 - r2, 0.0, 1.0) + 200.0 * np.sin(px / 3.0)).astype(np.float32)
        self._thermal = np.empty((th, tw), np.uint16)
        self._visible = np.empty((vh, vw, 3), np.uint8)

    def _corner(self, i: int) -> tuple[float, float]:
        """Top-left of the target in thermal pixels on a smooth closed loop."""
        a = 2.0 * np.pi * i / self.period
        tw, th = THERMAL_SIZE
        return tw / 2 - self.SIDE / 2 + 150.0 * np.cos(a), th / 2 - self.SIDE / 2 + 100.0 * np.sin(2 * a)

    def box(self, i: int) -> np.ndarray:
        """Ground truth in visible pixels."""
        x, y = self._corner(i)
        sx, sy = self.scale
        return np.array([x * sx, y * sy, self.SIDE * sx, self.SIDE * sy])

    def frame(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(visible RGB, thermal uint16) of frame i. The arrays are reused: copy to keep them."""
        s = self.SIDE
        x, y = (int(round(v)) for v in self._corner(i))
        np.copyto(self._thermal, self._thermal_bg[i % 3])
        patch = self._thermal[y:y + s, x:x + s]
        patch[...] = np.clip(patch + self._heat, 0, 65535).astype(np.uint16)
        np.copyto(self._visible, self._visible_bg[i % 3])
        bx, by, bw, bh = (int(round(v)) for v in self.box(i))
        self._visible[by:by + bh, bx:bx + bw] = (200, 70, 50)
        self._visible[by + bh // 3:by + 2 * bh // 3, bx:bx + bw] = (240, 220, 60)
        return self._visible, self._thermal
