"""LasHeR: `seq/visible/v000.jpg ...`, `seq/infrared/i000.jpg ...`, `visible.txt` and `infrared.txt`
(or only `init.txt`) with comma-separated `x,y,w,h`; w = h = 0 marks a frame where the target is absent.

Told apart from RGBT234, which has the same folders, by the `v`/`i` prefix of the frame names.
"""

from __future__ import annotations

import re
from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers.common import IMAGE_EXTENSIONS, read_annotations, read_cameras
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
    visible, thermal, frames = read_cameras(folder, "visible", "infrared")
    groundtruth, thermal_boxes = read_annotations(folder, "visible.txt", "infrared.txt", frames,
                                                  init_file="init.txt", thermal_first=True)
    if groundtruth is None:
        raise InputError(f"LasHeR sequence {folder} has no visible.txt, infrared.txt or init.txt")
    return Sequence(
        name=folder.name, visible=visible, thermal=thermal, groundtruth=groundtruth, protocol=PROTOCOL,
        groundtruth_thermal=thermal_boxes,
    )
