"""GTOT: `seq/v/*.png`, `seq/i/*.png`, `groundTruth_v.txt` / `groundTruth_i.txt` as space-separated
corners `x1 y1 x2 y2`, and `init.txt` (x y w h of the first frame)."""

from __future__ import annotations

from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers.common import (
    camera_frames, check_rows, check_same_length, corners_to_boxes, init_only, read_boxes, require_folder,
)
from rgbt_tracker_ros.data.sequence import Sequence

PROTOCOL = "gtot"


def looks_like(folder: Path) -> bool:
    return (folder / "v").is_dir() or (folder / "i").is_dir() or (folder / "groundTruth_v.txt").is_file()


def read(folder: Path) -> Sequence:
    require_folder(folder)
    visible = camera_frames(folder / "v", colour=True)
    thermal = camera_frames(folder / "i", colour=False)
    check_same_length(visible, thermal, folder)
    frames = len(visible if visible is not None else thermal)
    corner_files = {name: folder / f"groundTruth_{name}.txt" for name in ("v", "i")}
    boxes = {
        name: check_rows(corners_to_boxes(read_boxes(path)), frames, path)
        for name, path in corner_files.items()
        if path.is_file()
    }
    if "v" in boxes:
        groundtruth = boxes["v"]
    elif "i" in boxes:
        groundtruth = boxes["i"]
    elif (folder / "init.txt").is_file():
        groundtruth = init_only(read_boxes(folder / "init.txt"), frames, folder / "init.txt")
    else:
        raise InputError(f"GTOT sequence {folder} has no groundTruth_v.txt, groundTruth_i.txt or init.txt")
    return Sequence(
        name=folder.name, visible=visible, thermal=thermal, groundtruth=groundtruth, protocol=PROTOCOL,
        groundtruth_thermal=boxes.get("i"),
    )
