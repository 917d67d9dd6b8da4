"""Training pairs (template crop, search crop, target box) drawn from any mix of sequences.

The crops are made with the runtime's own preprocessing (`tracking.preprocessing`), so the network
trains on exactly what it sees when tracking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence as SequenceType

import cv2
import numpy as np

from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.tracking.geometry import scaling_homography
from rgbt_tracker_ros.tracking.preprocessing import (
    CropWindow,
    as_thermal,
    as_visible_rgb,
    crop_thermal,
    crop_visible,
    thermal_stretch,
)


@dataclass(frozen=True)
class SamplerConfig:
    template_size: int = 80
    search_size: int = 160
    template_factor: float = 2.0
    search_factor: float = 4.0
    max_gap: int = 40                 # frames between template and search frame
    search_shift: float = 1.0         # max centre jitter, in units of sqrt(w*h) of the target
    search_scale_jitter: float = 0.3  # log-normal sigma of the search window size
    template_shift: float = 0.08
    template_scale_jitter: float = 0.05
    negative_prob: float = 0.08       # search crop without the target (confidence calibration)
    visible_dropout: float = 0.25     # visible replaced by thermal (camera blind), per sample
    thermal_dropout: float = 0.1      # thermal replaced by grey visible
    grey_pair_prob: float = 0.15      # both inputs = grey visible: textured single-channel tracking,
                                      # closer to real thermal people than the smooth synthetic thermal
    grey_prob: float = 0.1
    flip_prob: float = 0.5
    min_box: float = 6.0              # skip annotations smaller than this (pixels)


@dataclass
class TrainingPair:
    template_visible: np.ndarray  # Z x Z x 3 uint8
    template_thermal: np.ndarray  # Z x Z uint8
    search_visible: np.ndarray    # S x S x 3 uint8
    search_thermal: np.ndarray    # S x S uint8
    box: np.ndarray               # (4,) float32 x, y, w, h in search-crop pixels
    has_target: bool


def _valid_frames(sequence: Sequence, min_box: float) -> np.ndarray:
    gt = sequence.groundtruth
    ok = np.all(np.isfinite(gt), axis=1) & (gt[:, 2] >= min_box) & (gt[:, 3] >= min_box)
    return np.flatnonzero(ok)


def _load_frame(sequence: Sequence, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(visible RGB, thermal 2-D, thermal-to-visible homography), substituting a missing modality."""
    visible, thermal = sequence.frame(index)
    if visible is not None:
        visible = as_visible_rgb(visible)
    if thermal is not None:
        thermal = as_thermal(thermal)
    if visible is None:
        visible = cv2.cvtColor(_to_uint8(thermal), cv2.COLOR_GRAY2RGB)
    if thermal is None:
        thermal = cv2.cvtColor(visible, cv2.COLOR_RGB2GRAY)
    homography = sequence.thermal_to_visible
    if homography is None and thermal.shape[:2] != visible.shape[:2]:
        homography = scaling_homography(thermal.shape[1::-1], visible.shape[1::-1])
    return visible, thermal, homography


def _to_uint8(thermal: np.ndarray) -> np.ndarray:
    if thermal.dtype == np.uint8:
        return thermal
    lo, hi = thermal_stretch(thermal)
    return np.clip((thermal.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)


def _crops(frame, window: CropWindow) -> tuple[np.ndarray, np.ndarray]:
    visible, thermal, homography = frame
    return crop_visible(visible, window), crop_thermal(thermal, window, thermal_stretch(thermal), homography)


class PairSampler:
    """Draws TrainingPairs from weighted groups of sequences; deterministic given the rng."""

    def __init__(
        self,
        groups: SequenceType[tuple[Callable[[int], Sequence], int, float]],
        config: SamplerConfig = SamplerConfig(),
    ):
        """groups: (get_sequence(i), number of sequences, weight) per data source."""
        self.groups = [g for g in groups if g[1] > 0]
        if not self.groups:
            raise ValueError("the sampler needs at least one non-empty source")
        weights = np.array([w for _, _, w in self.groups], dtype=np.float64)
        self.weights = weights / weights.sum()
        self.config = config

    def _random_sequence(self, rng: np.random.Generator) -> Sequence:
        get, count, _ = self.groups[rng.choice(len(self.groups), p=self.weights)]
        return get(int(rng.integers(count)))

    def sample(self, rng: np.random.Generator) -> TrainingPair:
        for _ in range(20):
            sequence = self._random_sequence(rng)
            valid = _valid_frames(sequence, self.config.min_box)
            if valid.size:
                return self._pair(sequence, valid, rng)
        raise RuntimeError("no annotated frames found in 20 sequences drawn from the training sources")

    def _jittered_window(self, box, factor, size, shift, scale_sigma, rng) -> CropWindow:
        side_unit = math.sqrt(box[2] * box[3])
        cx = box[0] + box[2] / 2 + rng.uniform(-shift, shift) * side_unit
        cy = box[1] + box[3] / 2 + rng.uniform(-shift, shift) * side_unit
        side = factor * side_unit * math.exp(rng.normal(0.0, scale_sigma))
        return CropWindow(cx, cy, side, size)

    def _pair(self, sequence: Sequence, valid: np.ndarray, rng: np.random.Generator) -> TrainingPair:
        c = self.config
        t_index = int(rng.choice(valid))
        near = valid[np.abs(valid - t_index) <= c.max_gap]
        s_index = int(rng.choice(near))
        t_box = sequence.groundtruth[t_index]
        s_box = sequence.groundtruth[s_index]

        t_window = self._jittered_window(t_box, c.template_factor, c.template_size, c.template_shift,
                                         c.template_scale_jitter, rng)
        tv, tt = _crops(_load_frame(sequence, t_index), t_window)

        has_target = rng.random() >= c.negative_prob
        if has_target:
            s_window = self._jittered_window(s_box, c.search_factor, c.search_size, c.search_shift,
                                             c.search_scale_jitter, rng)
            sv, st = _crops(_load_frame(sequence, s_index), s_window)
            occluded = sequence.attributes.get("full_occlusion")
            if occluded is not None and bool(occluded[s_index]):
                has_target = False
        else:
            sv, st, s_window = self._negative_crop(s_box, rng)
        box = s_window.box_to_crop(s_box).astype(np.float32)

        if rng.random() < c.flip_prob:
            tv, tt, sv, st = (np.ascontiguousarray(a[:, ::-1]) for a in (tv, tt, sv, st))
            box[0] = c.search_size - box[0] - box[2]
        if rng.random() < c.grey_prob:
            tv, sv = (cv2.cvtColor(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB) for a in (tv, sv))
        draw = rng.random()
        if draw < c.visible_dropout:
            tv, sv = (cv2.cvtColor(a, cv2.COLOR_GRAY2RGB) for a in (tt, st))
        elif draw < c.visible_dropout + c.thermal_dropout:
            tt, st = (cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) for a in (tv, sv))
        elif draw < c.visible_dropout + c.thermal_dropout + c.grey_pair_prob:
            tt, st = (cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) for a in (tv, sv))
            tv, sv = (cv2.cvtColor(a, cv2.COLOR_GRAY2RGB) for a in (tt, st))
        return TrainingPair(tv, tt, sv, st, box, has_target)

    def _negative_crop(self, box, rng):
        """A search crop from another sequence, so no target is in it."""
        other = self._random_sequence(rng)
        valid = _valid_frames(other, self.config.min_box)
        index = int(rng.choice(valid)) if valid.size else 0
        frame = _load_frame(other, index)
        height, width = frame[0].shape[:2]
        side = self.config.search_factor * math.sqrt(box[2] * box[3])
        window = CropWindow(rng.uniform(0, width), rng.uniform(0, height), side, self.config.search_size)
        sv, st = _crops(frame, window)
        return sv, st, window
