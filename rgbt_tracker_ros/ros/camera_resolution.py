"""Which frame size each camera's frames are used at: one odd frame is dropped, a new size that
persists is followed (pure Python, no rclpy).

A camera's first frame sets its size. A frame of another size (a corrupt or mis-sized message, a
driver's one-off) is not used and counted as rejected; the track goes on with the other camera for
that frame. When `confirm_frames` frames in a row come at the same new size, the camera has really
changed its resolution: that size is taken from then on and the session re-initialises the target
on it, the box mapped into the new pixels. With a configured thermal_to_visible homography, which
holds for the sizes it was calibrated at, a new size is never taken: its frames stay unused and the
reason says to recalibrate.
"""

from __future__ import annotations

from dataclasses import dataclass

from rgbt_tracker_ros.tracking.geometry import Size

# Frames in a row at a new size before a camera counts as having changed its resolution: a third of
# a second at 30 Hz, so a few odd frames (three 4K frames mid-stream) are dropped, not followed.
CONFIRM_FRAMES = 10


@dataclass(frozen=True)
class ResolutionChange:
    camera: str
    old: Size
    new: Size

    def __str__(self) -> str:
        return f"{self.camera} camera changed resolution {_fmt(self.old)} -> {_fmt(self.new)}"


@dataclass(frozen=True)
class Admission:
    """What to do with one frame: `problem` says why it is not used (None: used); `change` is set on
    the frame that confirms a new resolution."""

    problem: str | None = None
    change: ResolutionChange | None = None


class CameraResolution:
    """One camera's established frame size and the new size it may be changing to."""

    def __init__(self, camera: str, follow: bool = True, confirm_frames: int = CONFIRM_FRAMES):
        if confirm_frames < 1:
            raise ValueError(f"confirm_frames must be >= 1, got {confirm_frames!r}")
        self.camera = camera
        self.follow = follow
        self.confirm_frames = int(confirm_frames)
        self.size: Size | None = None              # the size the camera's frames are used at
        self._candidate: tuple[Size, int] | None = None  # (new size, frames in a row at it)

    def admit(self, size: Size) -> Admission:
        size = (int(size[0]), int(size[1]))
        if self.size is None:
            self.size = size
            return Admission()
        if size == self.size:
            self._candidate = None
            return Admission()
        seen = self._candidate[1] + 1 if self._candidate is not None and self._candidate[0] == size else 1
        self._candidate = (size, seen)
        if self.follow and seen >= self.confirm_frames:
            change = ResolutionChange(self.camera, self.size, size)
            self.size, self._candidate = size, None
            return Admission(change=change)
        return Admission(problem=self._why(size))

    def _why(self, size: Size) -> str:
        said = f"{self.camera} frame is {_fmt(size)}, but the camera sends {_fmt(self.size)}: not used"
        if not self.follow:
            return (f"{said} (thermal_to_visible holds for the cameras' sizes it was calibrated at; "
                    "recalibrate it and restart the node to use another size)")
        return f"{said} (a camera that keeps sending {_fmt(size)} is followed after {self.confirm_frames} frames)"


def scale_box(box, old: Size, new: Size) -> tuple[float, float, float, float]:
    """A box (x, y, w, h) in an image of size `old` in the pixels of the same view at size `new`."""
    sx, sy = new[0] / old[0], new[1] / old[1]
    x, y, w, h = (float(v) for v in box)
    return x * sx, y * sy, w * sx, h * sy


def _fmt(size: Size) -> str:
    return f"{size[0]}x{size[1]}"
