"""Does the box keep the target's size? Predicted area / ground-truth area per scored frame, and the
fraction of frames within AREA_BAND (issue 12's bar: at least 90 % within [0.5, 2]x)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.evaluation.metrics import FrameErrors

AREA_BAND = (0.5, 2.0)


@dataclass(frozen=True)
class BoxSize:
    """Area ratios of one run (or of several, concatenated) on the frames with a ground-truth box."""

    frames: np.ndarray   # (M,) frame indices
    ratios: np.ndarray   # (M,) predicted area / ground-truth area; NaN where there was no prediction

    def __len__(self) -> int:
        return int(self.frames.size)

    @property
    def within_band(self) -> float:
        """Fraction of frames whose ratio is inside AREA_BAND (a frame without prediction is outside)."""
        if not len(self):
            return float("nan")
        low, high = AREA_BAND
        with np.errstate(invalid="ignore"):
            return float(np.mean((self.ratios >= low) & (self.ratios <= high)))

    @property
    def median(self) -> float:
        finite = self.ratios[np.isfinite(self.ratios)]
        return float(np.median(finite)) if finite.size else float("nan")


def area_ratios(predictions: np.ndarray, groundtruth: np.ndarray, errors: FrameErrors) -> BoxSize:
    """Ratios on the frames `errors` scores whose ground truth is a box (not an absent target)."""
    frames = errors.frames
    gt = np.asarray(groundtruth, dtype=np.float64)[frames]
    predicted = np.asarray(predictions, dtype=np.float64)[frames]
    present = np.all(np.isfinite(gt), axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    gt, predicted, frames = gt[present], predicted[present], frames[present]
    with np.errstate(invalid="ignore"):
        ratios = (predicted[:, 2] * predicted[:, 3]) / (gt[:, 2] * gt[:, 3])
    ratios[~np.all(np.isfinite(predicted), axis=1)] = np.nan
    return BoxSize(frames.copy(), ratios)


def combine_sizes(sizes: list[BoxSize]) -> BoxSize:
    """Frames of several runs pooled (frame indices kept as they were, per run)."""
    if not sizes:
        return BoxSize(np.zeros(0, dtype=np.int64), np.zeros(0))
    return BoxSize(np.concatenate([s.frames for s in sizes]), np.concatenate([s.ratios for s in sizes]))
