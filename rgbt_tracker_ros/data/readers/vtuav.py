"""VTUAV: `seq/rgb/000001.jpg ...`, `seq/ir/...`, `rgb.txt` / `ir.txt` with space-separated `x y w h`.

Only every 10th frame is annotated: row k of a file is frame 10 * k (0-based). The reader expands
the rows to one per frame, NaN for the frames in between (and after the last annotated frame).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers.common import read_annotations, read_cameras
from rgbt_tracker_ros.data.sequence import Sequence

PROTOCOL = "vtuav"
ANNOTATION_STEP = 10


def looks_like(folder: Path) -> bool:
    return (folder / "rgb").is_dir() or (folder / "ir").is_dir()


def expand_sparse(rows: np.ndarray, frames: int, path: Path, step: int = ANNOTATION_STEP) -> np.ndarray:
    """Place row k at frame step * k of a (frames, 4) NaN array; more rows than that fits is an error."""
    if step * (len(rows) - 1) >= frames:
        raise InputError(
            f"{path} has {len(rows)} boxes (one per {step} frames) but the sequence has only {frames} frames"
        )
    boxes = np.full((frames, 4), np.nan)
    boxes[: step * len(rows) : step] = rows
    return boxes


def read(folder: Path) -> Sequence:
    visible, thermal, frames = read_cameras(folder, "rgb", "ir")
    groundtruth, thermal_boxes = read_annotations(folder, "rgb.txt", "ir.txt", frames, rows=expand_sparse)
    if groundtruth is None:
        raise InputError(f"VTUAV sequence {folder} has neither rgb.txt nor ir.txt")
    return Sequence(
        name=folder.name, visible=visible, thermal=thermal, groundtruth=groundtruth, protocol=PROTOCOL,
        groundtruth_thermal=thermal_boxes,
    )
