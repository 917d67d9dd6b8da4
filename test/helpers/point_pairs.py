"""A known thermal-to-visible homography and point pairs on it, for the registration tests."""

from __future__ import annotations

import numpy as np
import yaml

from rgbt_tracker_ros.tracking.geometry import map_points

# A thermal camera (640x512) seen from the visible one (640x480): scaled, rotated by 2 degrees,
# shifted, with a little perspective. Thermal pixel -> visible pixel.
_angle = np.deg2rad(2.0)
TRUE_H = np.array([
    [0.95 * np.cos(_angle), -0.95 * np.sin(_angle), 14.0],
    [0.95 * np.sin(_angle), 0.90 * np.cos(_angle), -9.0],
    [2e-5, -3e-5, 1.0],
])
THERMAL_POINTS = np.array([
    [40, 30], [600, 45], [610, 480], [35, 470], [320, 256], [180, 120], [470, 380], [150, 400], [500, 150],
], dtype=np.float64)


def visible_of(points: np.ndarray) -> np.ndarray:
    return map_points(points, TRUE_H)


def write_points(path, thermal, visible) -> None:
    path.write_text(yaml.safe_dump({"thermal": np.asarray(thermal).tolist(), "visible": np.asarray(visible).tolist()}))
