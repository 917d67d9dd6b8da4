"""Re-acquisition after a full occlusion and a jump. A sequence is spliced so the target vanishes
(a panel at the local background's level covers it in both cameras) for `hidden` frames and then
reappears far from where it vanished (every later frame shifted, as after a camera jump). Frames to
re-acquire: from the reappearance to the first frame whose box overlaps the target at IoU > 0.5."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.common.boxes import iou
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence

REACQUIRED_IOU = 0.5
# The occluding panel is the target's box grown by this share of its size on each side.
_PANEL_MARGIN = 0.2


@dataclass(frozen=True)
class Splice:
    """The target is covered on frames [start, start + hidden) and reappears shifted by `shift`
    (visible pixels; whole frame, wrapped) from frame start + hidden on."""

    start: int
    hidden: int
    shift: tuple[int, int]

    @property
    def reappears(self) -> int:
        return self.start + self.hidden


def far_shift(box, frame_size: tuple[int, int]) -> tuple[int, int]:
    """The shift that moves the box's centre to the centre of the frame's farthest quadrant, or as
    near it as keeps the whole box inside the frame."""
    width, height = frame_size
    cx, cy = box[0] + box[2] / 2.0, box[1] + box[3] / 2.0
    quadrants = [(width * qx, height * qy) for qx in (0.25, 0.75) for qy in (0.25, 0.75)]
    tx, ty = max(quadrants, key=lambda q: (q[0] - cx) ** 2 + (q[1] - cy) ** 2)
    tx = min(max(tx, box[2] / 2.0), width - box[2] / 2.0)
    ty = min(max(ty, box[3] / 2.0), height - box[3] / 2.0)
    return int(round(tx - cx)), int(round(ty - cy))


def _cover(image: np.ndarray, box, scale: tuple[float, float]) -> np.ndarray:
    """The image with the box (visible pixels, scaled to this image by `scale`) covered by a
    panel of the median of a ring around it."""
    out = image.copy()
    x, y, w, h = box
    mx, my = _PANEL_MARGIN * w, _PANEL_MARGIN * h
    rows, cols = image.shape[:2]
    x0, x1 = int(max((x - mx) * scale[0], 0)), int(min((x + w + mx) * scale[0] + 1, cols))
    y0, y1 = int(max((y - my) * scale[1], 0)), int(min((y + h + my) * scale[1] + 1, rows))
    if x1 <= x0 or y1 <= y0:
        return out
    ring = image[max(y0 - 8, 0):min(y1 + 8, rows), max(x0 - 8, 0):min(x1 + 8, cols)]
    out[y0:y1, x0:x1] = np.median(ring.reshape(-1, *image.shape[2:]), axis=0).astype(image.dtype)
    return out


def splice(sequence: Sequence, start: int, hidden: int) -> tuple[Sequence, Splice]:
    """The sequence with the target covered on [start, start + hidden) and everything shifted from
    then on so the target reappears in the frame's farthest quadrant. Ground truth is NaN while the
    target is covered and wherever the shifted box is not wholly inside the frame."""
    gt = sequence.groundtruth.copy()
    first = sequence.visible[0] if sequence.visible is not None else sequence.thermal[0]
    frame_size = (first.shape[1], first.shape[0])
    cut = Splice(start, hidden, far_shift(gt[start + hidden], frame_size))
    cameras = {}
    for name in ("visible", "thermal"):
        source = getattr(sequence, name)
        if source is None:
            cameras[name] = None
            continue
        shape = source[0].shape
        scale = (shape[1] / frame_size[0], shape[0] / frame_size[1])
        shift = (int(round(cut.shift[1] * scale[1])), int(round(cut.shift[0] * scale[0])))
        frames = []
        for i in range(len(sequence)):
            image = source[i]
            if start <= i < cut.reappears:
                image = _cover(image, gt[i], scale)
            elif i >= cut.reappears:
                image = np.roll(image, shift, axis=(0, 1))
            frames.append(image)
        cameras[name] = ArrayFrames(frames)
    gt[start:cut.reappears] = np.nan
    gt[cut.reappears:, :2] += cut.shift
    tail = gt[cut.reappears:]
    outside = (tail[:, 0] < 0) | (tail[:, 1] < 0) | (tail[:, 0] + tail[:, 2] > frame_size[0]) | \
        (tail[:, 1] + tail[:, 3] > frame_size[1])
    tail[outside] = np.nan
    spliced = dataclasses.replace(sequence, name=f"{sequence.name}_jump", visible=cameras["visible"],
                                  thermal=cameras["thermal"], groundtruth=gt, attributes={})
    return spliced, cut


def frames_to_reacquire(predictions: np.ndarray, sequence: Sequence, cut: Splice) -> int | None:
    """Frames from the reappearance to the first annotated frame whose predicted box (a run's
    `predictions`) has IoU > 0.5 (0: at once); None when that never happens before the end."""
    for i in range(cut.reappears, len(sequence)):
        gt = sequence.groundtruth[i]
        if np.all(np.isfinite(gt)) and iou(predictions[i], gt)[0] > REACQUIRED_IOU:
            return i - cut.reappears
    return None
