"""RGBT234 (and RGBT210): `seq/visible/*.jpg`, `seq/infrared/*.jpg`, `visible.txt` / `infrared.txt`
with one comma-separated `x,y,w,h` per frame."""

from __future__ import annotations

from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers.common import (
    camera_frames, check_rows, check_same_length, read_boxes, require_folder,
)
from rgbt_tracker_ros.data.sequence import Sequence

PROTOCOL = "rgbt234"


def has_camera_folders(folder: Path) -> bool:
    return (folder / "visible").is_dir() or (folder / "infrared").is_dir()


def looks_like(folder: Path) -> bool:
    return has_camera_folders(folder) and ((folder / "visible.txt").is_file() or (folder / "infrared.txt").is_file())


def read(folder: Path) -> Sequence:
    require_folder(folder)
    visible = camera_frames(folder / "visible", colour=True)
    thermal = camera_frames(folder / "infrared", colour=False)
    check_same_length(visible, thermal, folder)
    frames = len(visible if visible is not None else thermal)
    boxes = {
        name: check_rows(read_boxes(folder / name), frames, folder / name)
        for name in ("visible.txt", "infrared.txt")
        if (folder / name).is_file()
    }
    if not boxes:
        raise InputError(f"RGBT234 sequence {folder} has neither visible.txt nor infrared.txt")
    groundtruth = boxes.get("visible.txt", boxes.get("infrared.txt"))
    return Sequence(
        name=folder.name, visible=visible, thermal=thermal, groundtruth=groundtruth, protocol=PROTOCOL,
        groundtruth_thermal=boxes.get("infrared.txt"),
    )
