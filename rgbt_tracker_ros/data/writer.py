"""Write a Sequence as a plain folder that `readers.folder` (and people) can read back.

Layout: `visible/000001.png ...` (RGB), `infrared/000001.png ...` (8- or 16-bit PNG), `groundtruth.txt`
with one `x,y,w,h` line per frame (`NaN,NaN,NaN,NaN` for unannotated frames), and
`thermal_to_visible.txt` (3x3) when the thermal camera has its own geometry.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.tracking.preprocessing import apply_stretch, thermal_stretch

FRAME_NAME = "{:06d}.png"


def format_box(box: np.ndarray, decimals: int | None = None) -> str:
    """`x,y,w,h` (NaN,NaN,NaN,NaN for a missing box); decimals None: up to 4, trailing zeros dropped."""
    if not np.all(np.isfinite(box)):
        return "NaN,NaN,NaN,NaN"
    if decimals is not None:
        return ",".join(f"{value:.{decimals}f}" for value in box)
    return ",".join(f"{value:.4f}".rstrip("0").rstrip(".") for value in box)


def write_boxes(path: Path, boxes: np.ndarray, decimals: int | None = None) -> None:
    """One `x,y,w,h` line per row of boxes (a tracker's raw result, a ground truth)."""
    rows = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    Path(path).write_text("".join(format_box(row, decimals) + "\n" for row in rows))


def _thermal_to_bits(thermal: np.ndarray, bits: int | None) -> np.ndarray:
    if bits is None:
        if thermal.dtype in (np.uint8, np.uint16):
            return thermal
        bits = 8  # float temperatures have no PNG form: store display counts
    if bits == 16:
        if thermal.dtype != np.uint16:
            raise InputError(f"cannot write {thermal.dtype} thermal frames as 16-bit counts")
        return thermal
    if bits == 8:
        return thermal if thermal.dtype == np.uint8 else apply_stretch(thermal, *thermal_stretch(thermal))
    raise InputError(f"thermal_bits must be 8, 16 or None, got {bits}")


def write_sequence_folder(
    sequence: Sequence, directory: str | Path, thermal_bits: int | None = None, progress: bool = False
) -> Path:
    """Write `sequence` under `directory` (created if needed) and return the folder.

    thermal_bits: None keeps the frames' own depth; 8 stretches 16-bit counts per frame to display
    counts (the runtime's percentile stretch); 16 requires 16-bit frames.
    """
    if thermal_bits not in (None, 8, 16):
        raise InputError(f"thermal_bits must be 8, 16 or None, got {thermal_bits}")
    folder = Path(directory)
    cameras = [(n, s) for n, s in (("visible", sequence.visible), ("infrared", sequence.thermal)) if s is not None]
    for name, _ in cameras:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for index in tqdm(range(len(sequence)), desc=f"writing {sequence.name}", disable=not progress, unit="frame"):
        for name, source in cameras:
            image = source[index]
            if name == "visible":
                image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
            else:
                image = _thermal_to_bits(image, thermal_bits)
            path = folder / name / FRAME_NAME.format(index + 1)
            if not cv2.imwrite(str(path), image):
                raise InputError(f"cannot write {path}")
    lines = [format_box(box) for box in sequence.groundtruth]
    (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    if sequence.thermal_to_visible is not None:
        np.savetxt(folder / "thermal_to_visible.txt", sequence.thermal_to_visible)
    return folder
