"""LasHeR: `seq/visible/v000.jpg ...`, `seq/infrared/i000.jpg ...`, `visible.txt` and `infrared.txt`
(or only `init.txt`) with comma-separated `x,y,w,h`; w = h = 0 marks a frame where the target is absent.

Told apart from RGBT234, which has the same folders, by the `v`/`i` prefix of the frame names.
"""

from __future__ import annotations

import re
from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers.common import (
    IMAGE_EXTENSIONS, camera_frames, check_rows, check_same_length, first_existing, init_only, read_boxes,
    require_folder,
)
from rgbt_tracker_ros.data.sequence import Sequence

PROTOCOL = "lasher"
_FRAME_NAME = {"visible": re.compile(r"^v\d+$"), "infrared": re.compile(r"^i\d+$")}


def _prefixed_frames(camera: Path) -> bool:
    if not camera.is_dir():
        return False
    for path in camera.iterdir():
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            return bool(_FRAME_NAME[camera.name].match(path.stem))
    return False


def looks_like(folder: Path) -> bool:
    return _prefixed_frames(folder / "visible") or _prefixed_frames(folder / "infrared")


def read(folder: Path) -> Sequence:
    require_folder(folder)
    visible = camera_frames(folder / "visible", colour=True)
    thermal = camera_frames(folder / "infrared", colour=False)
    check_same_length(visible, thermal, folder)
    frames = len(visible if visible is not None else thermal)
    thermal_boxes = None
    if (folder / "infrared.txt").is_file():
        thermal_boxes = check_rows(read_boxes(folder / "infrared.txt"), frames, folder / "infrared.txt")
    main = first_existing(folder, "visible.txt", "infrared.txt")
    if main is not None:
        groundtruth = check_rows(read_boxes(main), frames, main)
    elif (folder / "init.txt").is_file():
        groundtruth = init_only(read_boxes(folder / "init.txt"), frames, folder / "init.txt")
    else:
        raise InputError(f"LasHeR sequence {folder} has no visible.txt, infrared.txt or init.txt")
    return Sequence(
        name=folder.name, visible=visible, thermal=thermal, groundtruth=groundtruth, protocol=PROTOCOL,
        groundtruth_thermal=thermal_boxes,
    )
