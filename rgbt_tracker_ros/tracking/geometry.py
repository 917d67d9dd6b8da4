"""Image geometry shared by the tracker, the training sampler, the player, the node and the peers:
the thermal-to-visible homography (3x3, thermal pixel -> visible pixel) and boxes mapped through it."""

from __future__ import annotations

import numpy as np

Size = tuple[int, int]  # (width, height)


def scaling_homography(thermal_size: Size, visible_size: Size) -> np.ndarray:
    """Homography that stretches a thermal image (width, height) onto a visible image (width, height)."""
    return np.diag([visible_size[0] / thermal_size[0], visible_size[1] / thermal_size[1], 1.0])


def default_thermal_to_visible(thermal_size: Size, visible_size: Size,
                               override: np.ndarray | None = None) -> np.ndarray | None:
    """The thermal-to-visible homography of a camera pair: `override` when given (a calibration),
    else the scaling of one image onto the other; None when both images share pixel coordinates."""
    if override is not None:
        return override
    if tuple(thermal_size) == tuple(visible_size):
        return None
    return scaling_homography(thermal_size, visible_size)


def map_points(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Nx2 points mapped by a 3x3 homography."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mapped = np.hstack([pts, np.ones((len(pts), 1))]) @ np.asarray(homography, dtype=np.float64).T
    return mapped[:, :2] / mapped[:, 2:3]


def box_corners(box) -> np.ndarray:
    """The four corners (4x2) of an (x, y, w, h) box."""
    x, y, w, h = (float(v) for v in box)
    return np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], dtype=np.float64)


def map_box(box, homography: np.ndarray | None) -> np.ndarray:
    """Axis-aligned bounding box (x, y, w, h) of `box`'s corners mapped by a homography (None: as is)."""
    if homography is None:
        return np.asarray(box, dtype=np.float64).copy()
    xy = map_points(box_corners(box), homography)
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    return np.array([x0, y0, x1 - x0, y1 - y0], dtype=np.float64)


def mapped_extent(homography: np.ndarray, size: Size) -> Size:
    """(width, height) of the region the corners of a `size` image map to (from the origin)."""
    w, h = size
    xy = map_points(box_corners((0.0, 0.0, w, h)), homography)
    return max(1, int(round(xy[:, 0].max()))), max(1, int(round(xy[:, 1].max())))
