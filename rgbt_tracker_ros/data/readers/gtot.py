"""GTOT: `seq/v/*.png`, `seq/i/*.png`, `groundTruth_v.txt` / `groundTruth_i.txt` as space-separated
corners `x1 y1 x2 y2`, and `init.txt` (x y w h of the first frame)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers.common import check_rows, corners_to_boxes, read_annotations, read_cameras
from rgbt_tracker_ros.data.sequence import Sequence

PROTOCOL = "gtot"


def looks_like(folder: Path) -> bool:
    return (folder / "v").is_dir() or (folder / "i").is_dir() or (folder / "groundTruth_v.txt").is_file()


def _corner_rows(corners: np.ndarray, frames: int, path: Path) -> np.ndarray:
    """x1 y1 x2 y2 rows of a groundTruth file -> one x, y, w, h row per frame."""
    return check_rows(corners_to_boxes(corners), frames, path)


def read(folder: Path) -> Sequence:
    visible, thermal, frames = read_cameras(folder, "v", "i")
    groundtruth, thermal_boxes = read_annotations(folder, "groundTruth_v.txt", "groundTruth_i.txt", frames,
                                                  rows=_corner_rows, init_file="init.txt")
    if groundtruth is None:
        raise InputError(f"GTOT sequence {folder} has no groundTruth_v.txt, groundTruth_i.txt or init.txt")
    return Sequence(
        name=folder.name, visible=visible, thermal=thermal, groundtruth=groundtruth, protocol=PROTOCOL,
        groundtruth_thermal=thermal_boxes,
    )
