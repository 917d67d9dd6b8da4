"""Plain folder: `visible/` and `infrared/` (either may be absent), `groundtruth.txt` with one `x,y,w,h`
per frame (commas or whitespace, `NaN` rows for unannotated frames), and optionally
`thermal_to_visible.txt` (3x3 homography, thermal pixel -> visible pixel).

This is what `data.writer.write_sequence_folder` writes, and the layout of the real thermal-only
test sequences (boxes in thermal pixels when there is no visible camera).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers.common import check_rows, read_boxes, read_cameras
from rgbt_tracker_ros.data.sequence import Sequence

PROTOCOL = "otb"


def looks_like(folder: Path) -> bool:
    return (folder / "visible").is_dir() or (folder / "infrared").is_dir()


def _homography(path: Path) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        matrix = np.loadtxt(path, dtype=np.float64)
    except ValueError as exc:
        raise InputError(f"{path} is not a 3x3 matrix of numbers: {exc}") from None
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        raise InputError(f"{path} must hold a finite 3x3 matrix, got shape {matrix.shape}")
    return matrix


def read(folder: Path) -> Sequence:
    visible, thermal, frames = read_cameras(folder, "visible", "infrared")
    path = folder / "groundtruth.txt"
    if not path.is_file():
        raise InputError(
            f"no annotation file in {folder}: expected groundtruth.txt (plain folder), visible.txt / "
            "infrared.txt (RGBT234, LasHeR), groundTruth_v.txt (GTOT) or rgb.txt (VTUAV)"
        )
    return Sequence(
        name=folder.name, visible=visible, thermal=thermal, groundtruth=check_rows(read_boxes(path), frames, path),
        protocol=PROTOCOL, thermal_to_visible=_homography(folder / "thermal_to_visible.txt"),
    )
