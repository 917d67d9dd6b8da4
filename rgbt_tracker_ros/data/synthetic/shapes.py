"""Object silhouettes defined on the unit box, so one shape serves every size and aspect ratio.

Each shape touches all four sides of its box: the box of the silhouette is the ground-truth box.
"""

from __future__ import annotations

import cv2
import numpy as np

SHAPES = ("ellipse", "rounded", "person", "rectangle")


def unit_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean inside-test at unit-box coordinates u (left..right = 0..1) and v (top..bottom = 0..1)."""
    x = 2.0 * u - 1.0
    y = 2.0 * v - 1.0
    if shape == "ellipse":
        return x * x + y * y <= 1.0
    if shape == "rounded":
        x2, y2 = x * x, y * y
        return x2 * x2 + y2 * y2 <= 1.0
    if shape == "rectangle":
        return (np.abs(x) <= 1.0) & (np.abs(y) <= 1.0)
    if shape == "person":
        head = ((u - 0.5) / 0.17) ** 2 + ((v - 0.09) / 0.09) ** 2 <= 1.0
        torso = ((u - 0.5) / 0.5) ** 4 + ((v - 0.4) / 0.24) ** 4 <= 1.0
        leg_height = (v >= 0.55) & (v <= 1.0)
        legs = leg_height & ((np.abs(u - 0.33) <= 0.13) | (np.abs(u - 0.67) <= 0.13))
        return head | torso | legs
    raise ValueError(f"unknown shape {shape!r}")


def render_mask(shape: str, width: int, height: int, supersample: int = 2) -> np.ndarray:
    """Anti-aliased coverage (height x width float32, 0..1) of a shape filling the whole image."""
    sw, sh = width * supersample, height * supersample
    u = (np.arange(sw, dtype=np.float32) + 0.5) / sw
    v = (np.arange(sh, dtype=np.float32) + 0.5) / sh
    mask = unit_mask(shape, u[None, :], v[:, None]).astype(np.float32)
    if supersample == 1:
        return mask
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA)


def grid_mask(shape: str, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-box coordinates (u, v) of the cells x cells grid points that lie inside the shape."""
    centres = (np.arange(cells, dtype=np.float64) + 0.5) / cells
    u, v = np.meshgrid(centres, centres)
    inside = unit_mask(shape, u, v)
    return u[inside], v[inside]
