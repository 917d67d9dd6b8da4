"""The one in-memory shape every reader and the synthetic generator produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence as SequenceType

import cv2
import numpy as np

from rgbt_tracker_ros.common.errors import InputError


class FrameSource(Protocol):
    """Random access to the frames of one camera, in order."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...


class ImageFiles:
    """Frames stored as image files. Visible frames come back RGB; thermal frames as stored (8/16-bit)."""

    def __init__(self, paths: SequenceType[Path], colour: bool):
        self.paths = list(paths)
        self.colour = colour

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        path = self.paths[index]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR if self.colour else cv2.IMREAD_UNCHANGED)
        if image is None:
            raise InputError(f"cannot read image {path} (missing, truncated or not an image)")
        if self.colour:
            return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        return image


class ArrayFrames:
    """Frames held in memory (the synthetic generator)."""

    def __init__(self, frames: SequenceType[np.ndarray]):
        self.frames = list(frames)

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.frames[index]


@dataclass
class Sequence:
    """One RGB-T tracking sequence.

    groundtruth is (N, 4) float64 x, y, w, h in visible-image pixels (thermal pixels when there is no
    visible camera); rows of NaN mark frames without annotation; w = h = 0 marks an absent target
    (LasHeR). protocol names the evaluation convention: 'gtot', 'rgbt234', 'lasher', 'vtuav', 'otb'.
    """

    name: str
    visible: FrameSource | None
    thermal: FrameSource | None
    groundtruth: np.ndarray
    protocol: str = "otb"
    groundtruth_thermal: np.ndarray | None = None
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    thermal_to_visible: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.visible is None and self.thermal is None:
            raise InputError(f"sequence {self.name} has neither visible nor thermal frames")
        counts = {len(s) for s in (self.visible, self.thermal) if s is not None}
        if len(counts) != 1:
            raise InputError(
                f"sequence {self.name}: visible has {len(self.visible)} frames but thermal has {len(self.thermal)}"
            )
        self.groundtruth = np.asarray(self.groundtruth, dtype=np.float64).reshape(-1, 4)

    def __len__(self) -> int:
        return len(self.visible if self.visible is not None else self.thermal)

    @property
    def modalities(self) -> str:
        if self.visible is not None and self.thermal is not None:
            return "rgbt"
        return "visible" if self.visible is not None else "thermal"

    def frame(self, index: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(visible RGB or None, thermal or None) of frame `index`."""
        visible = self.visible[index] if self.visible is not None else None
        thermal = self.thermal[index] if self.thermal is not None else None
        return visible, thermal

    def first_annotated(self) -> int:
        valid = np.flatnonzero(np.all(np.isfinite(self.groundtruth), axis=1) & (self.groundtruth[:, 2] > 0))
        if valid.size == 0:
            raise InputError(f"sequence {self.name} has no annotated frame to initialise on")
        return int(valid[0])
