"""RGBT234 (and RGBT210): `seq/visible/*.jpg`, `seq/infrared/*.jpg`, `visible.txt` / `infrared.txt`
with one comma-separated `x,y,w,h` per frame."""

from __future__ import annotations

from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers.common import read_annotations, read_cameras
from rgbt_tracker_ros.data.sequence import Sequence

PROTOCOL = "rgbt234"


def has_camera_folders(folder: Path) -> bool:
    return (folder / "visible").is_dir() or (folder / "infrared").is_dir()


def looks_like(folder: Path) -> bool:
    return has_camera_folders(folder) and ((folder / "visible.txt").is_file() or (folder / "infrared.txt").is_file())


def read(folder: Path) -> Sequence:
    visible, thermal, frames = read_cameras(folder, "visible", "infrared")
    groundtruth, thermal_boxes = read_annotations(folder, "visible.txt", "infrared.txt", frames)
    if groundtruth is None:
        raise InputError(f"RGBT234 sequence {folder} has neither visible.txt nor infrared.txt")
    return Sequence(
        name=folder.name, visible=visible, thermal=thermal, groundtruth=groundtruth, protocol=PROTOCOL,
        groundtruth_thermal=thermal_boxes,
    )
