"""Object silhouettes defined on the unit box, so one shape serves every size and aspect ratio.

Each shape touches all four sides of its box: the box of the silhouette is the ground-truth box.
The structured thermal world adds shapes with parts (a person with arms, a vehicle, a four-legged
animal) and the horse silhouette scikit-image ships (`skimage/data/horse.png`), when installed.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from rgbt_tracker_ros.data.synthetic.textures import package_folder

SHAPES = ("ellipse", "rounded", "person", "rectangle", "walker", "vehicle", "quadruped", "horse")
# Shapes with parts, by the target's build: upright (w < 0.8 h), wide (w > 1.25 h) or neither.
UPRIGHT_SHAPES = ("person", "walker", "ellipse", "rounded")
WIDE_SHAPES = ("vehicle", "quadruped", "horse", "ellipse", "rounded")
SQUAT_SHAPES = ("quadruped", "horse", "vehicle", "ellipse", "rounded")


@functools.lru_cache(maxsize=1)
def _horse_silhouette() -> np.ndarray | None:
    """The horse of scikit-image's sample data cropped to its box, bool (h, w); None without the file."""
    root = package_folder("skimage")
    image = None if root is None else cv2.imread(str(root / "data" / "horse.png"), cv2.IMREAD_GRAYSCALE)
    if image is None:
        return None
    mask = image < 128
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    mask = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    mask.setflags(write=False)
    return mask


def available_shapes(shapes: tuple[str, ...]) -> tuple[str, ...]:
    """`shapes` without those whose source is missing here (the horse without scikit-image)."""
    return tuple(s for s in shapes if s != "horse" or _horse_silhouette() is not None)


def _box(u, v, u0, u1, v0, v1):
    return (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)


def _blob(u, v, cu, cv, ru, rv):
    return ((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2 <= 1.0


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
    if shape == "walker":  # a person in stride, arms out from the torso
        head = _blob(u, v, 0.5, 0.08, 0.13, 0.08)
        torso = _box(u, v, 0.3, 0.7, 0.16, 0.56)
        arms = (_box(u, v, 0.0, 0.3, 0.2, 0.5) & (np.abs(u - 0.15 - 0.5 * (v - 0.2)) <= 0.12)) | (
            _box(u, v, 0.7, 1.0, 0.2, 0.5) & (np.abs(u - 0.85 + 0.5 * (v - 0.2)) <= 0.12))
        legs = _box(u, v, 0.0, 1.0, 0.54, 1.0) & (
            (np.abs(u - 0.4 + 0.8 * (v - 0.54)) <= 0.1) | (np.abs(u - 0.6 - 0.8 * (v - 0.54)) <= 0.1))
        return head | torso | arms | legs
    if shape == "vehicle":  # body, cabin, two wheels
        body = _box(u, v, 0.0, 1.0, 0.35, 0.82)
        cabin = _box(u, v, 0.22, 0.72, 0.0, 0.4)
        wheels = _blob(u, v, 0.22, 0.82, 0.12, 0.18) | _blob(u, v, 0.78, 0.82, 0.12, 0.18)
        return body | cabin | wheels
    if shape == "quadruped":  # body, neck and head on the right, four legs
        body = _blob(u, v, 0.45, 0.4, 0.36, 0.2)
        head = _blob(u, v, 0.9, 0.14, 0.1, 0.14) | (_box(u, v, 0.72, 0.88, 0.12, 0.4) & (u - 0.72 >= 0.4 - v - 0.15))
        legs = _box(u, v, 0.0, 0.8, 0.4, 1.0) & (
            (np.abs(u - 0.05) <= 0.05) | (np.abs(u - 0.22) <= 0.05) | (np.abs(u - 0.6) <= 0.05) | (np.abs(u - 0.74) <= 0.05))
        return body | head | legs
    if shape == "horse":
        mask = _horse_silhouette()
        if mask is None:
            raise ValueError("the horse silhouette needs scikit-image's sample data")
        rows = np.clip((np.asarray(v) * mask.shape[0]).astype(int), 0, mask.shape[0] - 1)
        cols = np.clip((np.asarray(u) * mask.shape[1]).astype(int), 0, mask.shape[1] - 1)
        return mask[rows, cols]
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
