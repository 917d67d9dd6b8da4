"""The thermal-to-visible homography from point pairs, as the node's parameter block (`rgbt-tracker register`).

The tracker warps the thermal image into the visible image with a 3x3 homography (thermal pixel ->
visible pixel). `register` estimates it from at least 4 pairs of corresponding points, listed in a
YAML file or clicked in two windows, reports the reprojection error and prints the parameter block
whose `thermal_to_visible` line goes into config/tracker.yaml. Pure numpy/OpenCV: no ROS needed.

Points file:
    thermal: [[x, y], [x, y], ...]     # thermal-image pixels
    visible: [[x, y], [x, y], ...]     # the same points in visible-image pixels, same order

Clicking (`--click`) needs an OpenCV build with GUI support (opencv-python; the -headless wheel the
robot environment uses has none): click a point in the thermal window, then the same point in the
visible window, repeat; `u` undoes the last click, Enter or `q` finishes, Esc cancels.
The command itself (arguments, exit codes) is commands/register.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros.names import HOMOGRAPHY_PARAMETER
from rgbt_tracker_ros.tracking.geometry import map_points
from rgbt_tracker_ros.tracking.preprocessing import apply_stretch, thermal_stretch

MIN_POINTS = 4
# The node's parameter holding the homography, row-major, and the section heading config/tracker.yaml
# uses (every node); `rgbt_tracker` would name the tracker node alone.
PARAMETER_NAME = HOMOGRAPHY_PARAMETER
SECTION = "/**"
# Spread of the points below this (relative to their extent) counts as a line: no homography exists.
_COLLINEAR_TOLERANCE = 1e-3


@dataclass(frozen=True)
class PointPairs:
    """Corresponding points, (N, 2) float64 each, row i of one matching row i of the other."""

    thermal: np.ndarray
    visible: np.ndarray

    def __len__(self) -> int:
        return len(self.thermal)


@dataclass(frozen=True)
class Registration:
    """A homography and how well it maps the thermal points onto the visible ones (pixels)."""

    matrix: np.ndarray        # 3x3, thermal -> visible, normalised so matrix[2, 2] == 1
    errors: np.ndarray        # (N,) reprojection error of every pair
    inliers: np.ndarray       # (N,) bool, the pairs RANSAC kept (all of them without RANSAC)
    method: str               # 'exact' (4 pairs), 'least-squares' or 'ransac'

    @property
    def rms_error(self) -> float:
        return float(np.sqrt(np.mean(self.errors[self.inliers] ** 2)))

    @property
    def max_error(self) -> float:
        return float(np.max(self.errors[self.inliers]))


def as_points(values, what: str) -> np.ndarray:
    """[[x, y], ...] -> (N, 2) float64, with a clear error for anything else."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        raise InputError(f"{what} must be a list of [x, y] points, got {type(values).__name__}")
    try:
        points = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a list of [x, y] pairs of numbers, got {values!r}") from None
    if points.ndim != 2 or points.shape[1] != 2:
        raise InputError(f"{what} must be a list of [x, y] points, got an array of shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise InputError(f"{what} contains NaN or infinite coordinates")
    return points


def point_pairs(thermal, visible) -> PointPairs:
    """Checked point pairs: equal counts, at least MIN_POINTS, not degenerate."""
    pairs = PointPairs(as_points(thermal, "thermal points"), as_points(visible, "visible points"))
    if len(pairs.thermal) != len(pairs.visible):
        raise InputError(
            f"{len(pairs.thermal)} thermal points but {len(pairs.visible)} visible points: "
            "each thermal point needs its visible counterpart, in the same order"
        )
    if len(pairs) < MIN_POINTS:
        raise InputError(f"a homography needs at least {MIN_POINTS} point pairs, got {len(pairs)}")
    for name, points in (("thermal", pairs.thermal), ("visible", pairs.visible)):
        _check_spread(points, name)
    return pairs


def _check_spread(points: np.ndarray, name: str) -> None:
    unique = np.unique(points, axis=0)
    if len(unique) < len(points):
        raise InputError(f"the {name} points contain duplicates; every pair must be a distinct point")
    if _collinear(points):
        raise InputError(f"the {name} points are (nearly) collinear: spread them over the image")
    if len(points) == MIN_POINTS:
        # With exactly 4 points, any 3 of them on a line already leaves the homography undetermined.
        for left_out in range(MIN_POINTS):
            if _collinear(np.delete(points, left_out, axis=0)):
                raise InputError(
                    f"three of the four {name} points are (nearly) collinear: move one or add more points"
                )


def _collinear(points: np.ndarray) -> bool:
    centred = points - points.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    return singular[0] == 0.0 or singular[-1] / singular[0] < _COLLINEAR_TOLERANCE


def load_point_pairs(path: str | Path) -> PointPairs:
    """Read a points file (YAML with `thermal` and `visible` lists of [x, y])."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read points file {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise InputError(f"points file {path} is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise InputError(f"points file {path} must be a mapping with `thermal` and `visible` lists")
    missing = [key for key in ("thermal", "visible") if key not in data]
    if missing:
        raise InputError(f"points file {path} lacks {' and '.join(f'`{k}`' for k in missing)}")
    return point_pairs(data["thermal"], data["visible"])


def estimate_homography(pairs: PointPairs, ransac_threshold: float = 3.0) -> Registration:
    """Thermal-to-visible homography of the pairs: exact for 4, RANSAC (threshold in px) for more."""
    if not ransac_threshold > 0:
        raise InputError(f"the RANSAC threshold must be positive, got {ransac_threshold}")
    if len(pairs) == MIN_POINTS:
        method, flags = "exact", 0
    else:
        method, flags = "ransac", cv2.RANSAC
    matrix, mask = cv2.findHomography(pairs.thermal, pairs.visible, flags, ransac_threshold)
    if matrix is None or not np.all(np.isfinite(matrix)) or abs(matrix[2, 2]) < 1e-12:
        raise InputError("the points determine no homography (degenerate configuration)")
    matrix = matrix / matrix[2, 2]
    if abs(np.linalg.det(matrix)) < 1e-9:
        raise InputError("the estimated homography is singular: the points are degenerate")
    inliers = np.ones(len(pairs), bool) if mask is None else mask.ravel().astype(bool)
    if inliers.sum() < MIN_POINTS:
        raise InputError(
            f"only {int(inliers.sum())} pairs agree on one homography: check the pairs' order and positions"
        )
    if method == "ransac" and inliers.all():
        method = "least-squares"
    errors = np.linalg.norm(map_points(pairs.thermal, matrix) - pairs.visible, axis=1)
    return Registration(matrix=matrix, errors=errors, inliers=inliers, method=method)


def format_float(value: float) -> str:
    """Shortest text that reads back to the same double, always with a '.': YAML 1.1 (PyYAML) reads
    `2e-05` as a string and ROS would then see a string, not a double."""
    text = repr(float(value))
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def format_matrix(matrix: np.ndarray) -> str:
    """The 9 entries, row-major, as a YAML flow list that reads back to the same floats."""
    return "[" + ", ".join(format_float(v) for v in np.asarray(matrix, dtype=np.float64).ravel()) + "]"


def parameter_block(matrix: np.ndarray, section: str = SECTION) -> str:
    """A params file setting the node's homography; its last line goes into config/tracker.yaml."""
    return (
        f"{section}:\n"
        "  ros__parameters:\n"
        "    # thermal pixel -> visible pixel, row-major 3x3\n"
        f"    {PARAMETER_NAME}: {format_matrix(matrix)}\n"
    )


def describe(registration: Registration) -> str:
    """Human summary: method, inliers and reprojection errors."""
    count, kept = len(registration.errors), int(registration.inliers.sum())
    lines = [
        f"homography from {count} point pairs ({registration.method}, {kept}/{count} inliers)",
        f"reprojection error: rms {registration.rms_error:.3f} px, max {registration.max_error:.3f} px",
    ]
    outliers = np.flatnonzero(~registration.inliers)
    if outliers.size:
        listed = ", ".join(f"#{i} ({registration.errors[i]:.1f} px)" for i in outliers)
        lines.append(f"rejected as outliers: {listed}")
    return "\n".join(lines)


# --- clicking -------------------------------------------------------------------------------------

def _display_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError(f"cannot read image {path}")
    if image.ndim == 2:
        if image.dtype != np.uint8:
            image = apply_stretch(image, *thermal_stretch(image))
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = (image / 257).astype(np.uint8)
    return image


def click_point_pairs(thermal_path: Path, visible_path: Path) -> PointPairs:
    """Let the user click pairs in two windows (thermal first, then visible, alternating)."""
    images = {"thermal": _display_image(thermal_path), "visible": _display_image(visible_path)}
    clicked: dict[str, list[tuple[float, float]]] = {"thermal": [], "visible": []}

    def expected() -> str:
        return "thermal" if len(clicked["thermal"]) == len(clicked["visible"]) else "visible"

    def on_mouse(window: str):
        def handler(event, x, y, _flags, _param):
            if event == cv2.EVENT_LBUTTONDOWN and window == expected():
                clicked[window].append((float(x), float(y)))
        return handler

    try:
        for name in images:
            cv2.namedWindow(name, cv2.WINDOW_NORMAL)
            cv2.setMouseCallback(name, on_mouse(name))
    except cv2.error:
        raise InputError(
            "this OpenCV has no GUI support (opencv-python-headless); list the points in a YAML file "
            "and use --points instead"
        ) from None
    try:
        while True:
            for name, image in images.items():
                canvas = image.copy()
                for index, (x, y) in enumerate(clicked[name]):
                    cv2.drawMarker(canvas, (int(x), int(y)), (0, 255, 255), cv2.MARKER_CROSS, 14, 2)
                    cv2.putText(canvas, str(index), (int(x) + 6, int(y) - 6), cv2.FONT_HERSHEY_SIMPLEX,
                                0.5, (0, 255, 255), 1, cv2.LINE_AA)
                hint = f"click in the {expected()} window | u: undo | Enter/q: done | Esc: cancel"
                cv2.putText(canvas, hint, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 255), 1, cv2.LINE_AA)
                cv2.imshow(name, canvas)
            key = cv2.waitKey(30) & 0xFF
            if key == 27:
                raise InputError("clicking cancelled")
            if key == ord("u"):
                last = "visible" if expected() == "thermal" and clicked["visible"] else "thermal"
                if clicked[last]:
                    clicked[last].pop()
            if key in (13, 10, ord("q")):
                break
    finally:
        cv2.destroyAllWindows()
    pairs = len(clicked["visible"])
    return point_pairs(clicked["thermal"][:pairs], clicked["visible"])


def write_point_pairs(pairs: PointPairs, path: Path) -> None:
    lines = ["thermal: [" + ", ".join(f"[{x:.2f}, {y:.2f}]" for x, y in pairs.thermal) + "]",
             "visible: [" + ", ".join(f"[{x:.2f}, {y:.2f}]" for x, y in pairs.visible) + "]"]
    Path(path).write_text("\n".join(lines) + "\n")
