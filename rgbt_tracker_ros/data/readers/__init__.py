"""Dataset readers: one module per layout, and loaders that recognise the layout of a folder.

Layouts: GTOT (`v/`, `i/`), RGBT234 (`visible/`, `infrared/`, `visible.txt`), LasHeR (the same folders
with `v000.jpg`/`i000.jpg` frames), VTUAV (`rgb/`, `ir/`, sparse boxes) and the plain folder
(`visible/`, `infrared/`, `groundtruth.txt`). A recorded bag (a rosbag2 folder, or a `.mcap` / `.db3`
file: readers/bag.py) is read as a sequence too.
"""

from __future__ import annotations

from pathlib import Path

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers import bag, folder, gtot, lasher, rgbt234, vtuav
from rgbt_tracker_ros.data.readers.common import natural_key, require_folder
from rgbt_tracker_ros.data.sequence import Sequence

# Checked in this order: the first layout whose folders match reads the sequence.
LAYOUTS = {"bag": bag, "gtot": gtot, "vtuav": vtuav, "lasher": lasher, "rgbt234": rgbt234, "folder": folder}


def detect_layout(path: str | Path) -> str | None:
    """Name of the layout of a sequence folder ('gtot', 'vtuav', 'lasher', 'rgbt234', 'folder') or
    bag ('bag'), or None."""
    path = Path(path)
    if bag.looks_like(path):
        return "bag"
    if not path.is_dir():
        return None
    return next((name for name, module in LAYOUTS.items() if module.looks_like(path)), None)


def load_sequence(path: str | Path, layout: str | None = None) -> Sequence:
    """Read one sequence folder or bag; its layout is detected unless given."""
    path = Path(path)
    if bag.looks_like(path) and layout in (None, "bag"):
        return bag.read(path)
    path = require_folder(path)
    if layout is None:
        layout = detect_layout(path)
        if layout is None:
            raise InputError(
                f"{path} is not a sequence folder of a known layout: expected v/ + i/ (GTOT), visible/ + "
                "infrared/ (RGBT234, LasHeR, plain folder) or rgb/ + ir/ (VTUAV)"
            )
    elif layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    return LAYOUTS[layout].read(path)


def load_sequences(path: str | Path, layout: str | None = None) -> list[Sequence]:
    """The sequence in `path`, or every sequence folder (or bag) directly inside it (a dataset root),
    by name. With `layout` given, only folders of that layout count as sequences.
    """
    path = Path(path)
    if bag.looks_like(path) and layout in (None, "bag"):
        return [bag.read(path)]
    path = require_folder(path)
    if layout is not None and layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")

    def is_sequence(folder: Path) -> bool:
        if layout is None:
            return detect_layout(folder) is not None
        return (folder.is_dir() or layout == "bag") and LAYOUTS[layout].looks_like(folder)

    if is_sequence(path):
        return [load_sequence(path, layout)]
    children = sorted((p for p in path.iterdir() if is_sequence(p)), key=lambda p: natural_key(p.name))
    if not children:
        raise InputError(f"{path} is neither a sequence folder nor a folder of sequence folders")
    return [load_sequence(child, layout) for child in children]


__all__ = ["LAYOUTS", "detect_layout", "load_sequence", "load_sequences"]
