"""What the dataset readers share: frame listing, annotation parsing and the checks between them.

A layout module names its camera folders and annotation files; read_cameras() lists the frames of
both cameras and read_annotations() picks the ground truth from the annotation files that exist.
Every problem with a sequence folder raises InputError naming the file (and line) at fault.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np

from rgbt_tracker_ros.common.boxes import parse_box
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import ImageFiles

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers by value: '9.png' before '10.png'."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(name))


def require_folder(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"sequence folder {path} does not exist")
    if not path.is_dir():
        raise InputError(f"{path} is not a folder")
    return path


def frame_paths(folder: Path) -> list[Path]:
    """Image files of a camera folder in natural name order; InputError when there are none."""
    if not folder.is_dir():
        raise InputError(f"frame folder {folder} does not exist")
    paths = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not paths:
        raise InputError(f"no image frames ({', '.join(sorted(IMAGE_EXTENSIONS))}) in {folder}")
    return sorted(paths, key=lambda p: natural_key(p.name))


def camera_frames(folder: Path, colour: bool) -> ImageFiles | None:
    """Frames of one camera, or None when its folder is absent."""
    if not folder.exists():
        return None
    return ImageFiles(frame_paths(folder), colour=colour)


def read_cameras(folder: Path, visible: str, thermal: str) -> tuple[ImageFiles | None, ImageFiles | None, int]:
    """(visible frames, thermal frames, frame count) of a sequence folder with the camera folders
    `visible` and `thermal`; either may be absent, not both, and together they must be as long."""
    require_folder(folder)
    visible_frames = camera_frames(folder / visible, colour=True)
    thermal_frames = camera_frames(folder / thermal, colour=False)
    check_same_length(visible_frames, thermal_frames, folder)
    return visible_frames, thermal_frames, len(visible_frames if visible_frames is not None else thermal_frames)


def check_same_length(visible: ImageFiles | None, thermal: ImageFiles | None, sequence: Path) -> None:
    if visible is None and thermal is None:
        raise InputError(f"sequence {sequence} has no frame folder")
    if visible is not None and thermal is not None and len(visible) != len(thermal):
        raise InputError(
            f"sequence {sequence}: {len(visible)} visible frames in {visible.paths[0].parent.name}/ but "
            f"{len(thermal)} infrared frames in {thermal.paths[0].parent.name}/"
        )


def read_boxes(path: Path) -> np.ndarray:
    """Rows of four numbers (commas, spaces or tabs) from an annotation file, as (N, 4) float64.

    Blank lines at the end are ignored; 'NaN' is accepted for unannotated frames.
    """
    if not path.is_file():
        raise InputError(f"annotation file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read annotation file {path}: {exc}") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    rows = []
    for number, line in enumerate(lines, start=1):
        try:
            rows.append(parse_box(line.strip()))
        except InputError as exc:
            raise InputError(f"{path}, line {number}: {exc}") from None
    if not rows:
        raise InputError(f"annotation file {path} holds no box")
    return np.array(rows, dtype=np.float64)


def corners_to_boxes(corners: np.ndarray) -> np.ndarray:
    """x1, y1, x2, y2 rows -> x, y, w, h rows."""
    boxes = corners.copy()
    boxes[:, 2:] = corners[:, 2:] - corners[:, :2]
    return boxes


def check_rows(boxes: np.ndarray, frames: int, path: Path) -> np.ndarray:
    """One row per frame, or InputError saying which is longer."""
    if len(boxes) != frames:
        raise InputError(f"{path} has {len(boxes)} boxes but the sequence has {frames} frames")
    return boxes


def init_only(boxes: np.ndarray, frames: int, path: Path) -> np.ndarray:
    """An init file: a single row annotates the first frame only; otherwise one row per frame."""
    if len(boxes) == 1:
        padded = np.full((frames, 4), np.nan)
        padded[0] = boxes[0]
        return padded
    return check_rows(boxes, frames, path)


# rows(boxes as read, frame count, path) -> one row per frame (check_rows, or a layout's own conversion)
Rows = Callable[[np.ndarray, int, Path], np.ndarray]


def read_annotations(folder: Path, visible_file: str, thermal_file: str, frames: int, rows: Rows = check_rows,
                     init_file: str | None = None, thermal_first: bool = False,
                     ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(groundtruth, thermal groundtruth) from each camera's annotation file in folder, where it exists.

    The ground truth is the visible camera's boxes, else the thermal camera's, else (with init_file,
    read only then) the init file's (init_only); None when there is none. The thermal ground truth is
    the thermal camera's own boxes, or None. Each file's rows go through rows(boxes, frames, path).
    Both files are read and checked, the visible one first unless thermal_first: that order decides
    which file the error names when both are at fault.
    """
    names = (thermal_file, visible_file) if thermal_first else (visible_file, thermal_file)
    boxes = {
        name: rows(read_boxes(folder / name), frames, folder / name)
        for name in names
        if (folder / name).is_file()
    }
    groundtruth = boxes.get(visible_file, boxes.get(thermal_file))
    if groundtruth is None and init_file is not None and (folder / init_file).is_file():
        groundtruth = init_only(read_boxes(folder / init_file), frames, folder / init_file)
    return groundtruth, boxes.get(thermal_file)
