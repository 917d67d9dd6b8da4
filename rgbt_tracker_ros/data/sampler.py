"""Training pairs (template crop, search crop, target box) drawn from any mix of sequences.

The crops are made with the runtime's own preprocessing (`tracking.preprocessing.crop_pair`, the
thermal-to-visible geometry of `tracking.geometry`), so the network trains on exactly what it sees when
tracking, a missing modality substituted as the runtime substitutes it. The crop geometry is the
model's (`CropGeometry`, given apart from the augmentation settings of `SamplerConfig`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence as SequenceType

import cv2
import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.tracking.geometry import default_thermal_to_visible, mapped_extent
from rgbt_tracker_ros.tracking.preprocessing import CropWindow, as_thermal, as_visible_rgb, crop_pair


@dataclass(frozen=True)
class CropGeometry:
    """The network's crops: side in pixels and context factor of the template and the search crop
    (a model config's fields of the same names; the sampler has no geometry of its own)."""

    template_size: int
    search_size: int
    template_factor: float
    search_factor: float


@dataclass(frozen=True)
class SamplerConfig:
    """How pairs are drawn and augmented (the `data.sampler` section of a training config)."""

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


@dataclass(frozen=True)
class _Frame:
    """One frame as the runtime takes it: either image may be None (not both), boxes in visible
    pixels (thermal pixels, or the homography's target pixels, when there is no visible image)."""

    visible: np.ndarray | None
    thermal: np.ndarray | None
    thermal_to_visible: np.ndarray | None
    size: tuple[int, int]  # (width, height) of the frame the boxes live in

    def crops(self, window: CropWindow) -> tuple[np.ndarray, np.ndarray]:
        return crop_pair(self.visible, self.thermal, window, self.thermal_to_visible)


def _valid_frames(sequence: Sequence, min_box: float) -> np.ndarray:
    gt = sequence.groundtruth
    ok = np.all(np.isfinite(gt), axis=1) & (gt[:, 2] >= min_box) & (gt[:, 3] >= min_box)
    return np.flatnonzero(ok)


def _size(image: np.ndarray) -> tuple[int, int]:
    return image.shape[1], image.shape[0]


def _load_frame(sequence: Sequence, index: int) -> _Frame:
    """Frame `index` checked and converted, with the thermal-to-visible homography the tracker would
    use for it (the sequence's own, else the scaling of one image onto the other)."""
    visible, thermal = sequence.frame(index)
    if visible is not None:
        visible = as_visible_rgb(visible)
    if thermal is not None:
        thermal = as_thermal(thermal)
    if visible is None:
        homography = sequence.thermal_to_visible
        size = _size(thermal) if homography is None else mapped_extent(homography, _size(thermal))
        return _Frame(None, thermal, homography, size)
    homography = (default_thermal_to_visible(_size(thermal), _size(visible), sequence.thermal_to_visible)
                  if thermal is not None else None)
    return _Frame(visible, thermal, homography, _size(visible))


class PairSampler:
    """Draws TrainingPairs from weighted groups of sequences; deterministic given the rng."""

    def __init__(
        self,
        groups: SequenceType[tuple[Callable[[int], Sequence], int, float]],
        config: SamplerConfig,
        geometry: CropGeometry,
    ):
        """groups: (get_sequence(i), number of sequences, weight) per data source; geometry: the
        crops of the network being trained."""
        self.groups = [g for g in groups if g[1] > 0]
        if not self.groups:
            raise InputError("the sampler needs at least one non-empty source")
        weights = np.array([w for _, _, w in self.groups], dtype=np.float64)
        self.weights = weights / weights.sum()
        self.config = config
        self.geometry = geometry

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
        c, g = self.config, self.geometry
        t_index = int(rng.choice(valid))
        near = valid[np.abs(valid - t_index) <= c.max_gap]
        s_index = int(rng.choice(near))
        t_box = sequence.groundtruth[t_index]
        s_box = sequence.groundtruth[s_index]

        t_window = self._jittered_window(t_box, g.template_factor, g.template_size, c.template_shift,
                                         c.template_scale_jitter, rng)
        tv, tt = _load_frame(sequence, t_index).crops(t_window)

        has_target = rng.random() >= c.negative_prob
        if has_target:
            s_window = self._jittered_window(s_box, g.search_factor, g.search_size, c.search_shift,
                                             c.search_scale_jitter, rng)
            sv, st = _load_frame(sequence, s_index).crops(s_window)
            occluded = sequence.attributes.get("full_occlusion")
            if occluded is not None and bool(occluded[s_index]):
                has_target = False
        else:
            sv, st, s_window = self._negative_crop(s_box, rng)
        box = s_window.box_to_crop(s_box).astype(np.float32)

        if rng.random() < c.flip_prob:
            tv, tt, sv, st = (np.ascontiguousarray(a[:, ::-1]) for a in (tv, tt, sv, st))
            box[0] = g.search_size - box[0] - box[2]
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
        width, height = frame.size
        side = self.geometry.search_factor * math.sqrt(box[2] * box[3])
        window = CropWindow(rng.uniform(0, width), rng.uniform(0, height), side, self.geometry.search_size)
        sv, st = frame.crops(window)
        return sv, st, window
