"""Training pairs (template crop, search crop, target box) drawn from any mix of sequences.

The crops are made with the runtime's own preprocessing (`tracking.preprocessing.crop_pair`, the
thermal-to-visible geometry of `tracking.geometry`), so the network trains on exactly what it sees when
tracking, a missing modality substituted as the runtime substitutes it. The crop geometry is the
model's (`CropGeometry`, given apart from the augmentation settings of `SamplerConfig`).

Dead-camera augmentation (issue 12): one camera's search crop is replaced by what a camera without
information sends, the template and the other camera untouched, so the network learns to track on
the other one where the runtime's frame check (tracking/frame_check.py) cannot tell: a blank crop
(black, saturated or one colour), a frozen one (the same window of an earlier frame:
the template's, or one up to `max_gap` before), noise only, or the runtime's own substitution for a
camera it set aside (the other camera's crop in its place, against a template that has both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
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
    # A dead camera, per sample (exclusive with the dropout draws above; pairs with the target and
    # both cameras only); the camera is visible or thermal at even odds. 0: off, and the pairs are
    # the same as without these settings.
    dead_blank_prob: float = 0.0      # uniform crop: black, saturated or one colour, noise sigma < 1
    dead_frozen_prob: float = 0.0     # the crop of the same window in an earlier frame
    dead_noise_prob: float = 0.0      # Gaussian noise only (random mean, sigma 8..60, maybe blurred)
    dead_missing_prob: float = 0.0    # the runtime's substitution for a camera it set aside

    @property
    def dead_prob(self) -> float:
        return self.dead_blank_prob + self.dead_frozen_prob + self.dead_noise_prob + self.dead_missing_prob


@dataclass
class TrainingPair:
    template_visible: np.ndarray  # Z x Z x 3 uint8
    template_thermal: np.ndarray  # Z x Z uint8
    search_visible: np.ndarray    # S x S x 3 uint8
    search_thermal: np.ndarray    # S x S uint8
    box: np.ndarray               # (4,) float32 x, y, w, h in search-crop pixels
    has_target: bool
    dead: str = ""                # "thermal:frozen": that search crop replaced by a dead camera's ("" none)


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
        own_window = has_target  # the search window is on this sequence (a negative's is on another)
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

        flipped = rng.random() < c.flip_prob
        if flipped:
            tv, tt, sv, st = (np.ascontiguousarray(a[:, ::-1]) for a in (tv, tt, sv, st))
            box[0] = g.search_size - box[0] - box[2]
        grey = rng.random() < c.grey_prob
        if grey:
            tv, sv = (_grey_rgb(a) for a in (tv, sv))
        draw = rng.random()
        dead = ""
        substituted = c.visible_dropout + c.thermal_dropout + c.grey_pair_prob
        if draw < c.visible_dropout:
            tv, sv = (cv2.cvtColor(a, cv2.COLOR_GRAY2RGB) for a in (tt, st))
        elif draw < c.visible_dropout + c.thermal_dropout:
            tt, st = (cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) for a in (tv, sv))
        elif draw < substituted:
            tt, st = (cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) for a in (tv, sv))
            tv, sv = (cv2.cvtColor(a, cv2.COLOR_GRAY2RGB) for a in (tt, st))
        elif draw < substituted + c.dead_prob and own_window and sequence.visible is not None \
                and sequence.thermal is not None:
            earlier = _earlier_frame(t_index, s_index, c.max_gap, rng)
            frozen = partial(self._frozen_crops, sequence, earlier, s_window, flipped, grey)
            sv, st, dead = self._dead_camera(sv, st, frozen, rng)
        return TrainingPair(tv, tt, sv, st, box, has_target, dead)

    def _dead_camera(self, sv, st, frozen_crops: Callable[[], tuple[np.ndarray, np.ndarray]],
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
        """One camera's search crop replaced by a dead camera's: (sv, st, "camera:kind");
        frozen_crops() makes the earlier frame's crops, only when they are needed."""
        c = self.config
        camera = "visible" if rng.random() < 0.5 else "thermal"
        pick = rng.random() * c.dead_prob
        if pick < c.dead_blank_prob:
            kind, crop = "blank", _blank_crop(sv if camera == "visible" else st, rng)
        elif pick < c.dead_blank_prob + c.dead_frozen_prob:
            kind, crop = "frozen", frozen_crops()[0 if camera == "visible" else 1]
        elif pick < c.dead_blank_prob + c.dead_frozen_prob + c.dead_noise_prob:
            kind, crop = "noise", _noise_crop(sv if camera == "visible" else st, rng)
        else:  # what crop_pair feeds for a camera without an image
            kind = "missing"
            crop = cv2.cvtColor(st, cv2.COLOR_GRAY2RGB) if camera == "visible" else cv2.cvtColor(sv, cv2.COLOR_RGB2GRAY)
        if camera == "visible":
            return crop, st, f"{camera}:{kind}"
        return sv, crop, f"{camera}:{kind}"

    @staticmethod
    def _frozen_crops(sequence: Sequence, index: int, window: CropWindow, flipped: bool, grey: bool):
        """The search window's crops in frame `index`, with the pair's flip and grey applied."""
        sv, st = _load_frame(sequence, index).crops(window)
        if flipped:
            sv, st = (np.ascontiguousarray(a[:, ::-1]) for a in (sv, st))
        return (_grey_rgb(sv) if grey else sv), st

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


def _grey_rgb(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def _earlier_frame(t_index: int, s_index: int, max_gap: int, rng: np.random.Generator) -> int:
    """Where a frozen camera stopped: the template's frame, or a frame up to max_gap before the search one."""
    if rng.random() < 0.5 or s_index == 0:
        return t_index
    return int(rng.integers(max(0, s_index - max_gap), s_index))


def _blank_crop(like: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniform crop shaped like `like`: black, saturated or one random colour, noise sigma < 1
    (what the runtime's frame check calls uniform; fainter contrast than any real frame's)."""
    channels = 1 if like.ndim == 2 else like.shape[2]
    level = rng.choice([0.0, 255.0, -1.0])
    colour = rng.uniform(0.0, 255.0, channels) if level < 0 else np.full(channels, level)
    crop = np.broadcast_to(colour, (*like.shape[:2], channels)) + rng.normal(0.0, rng.uniform(0.0, 1.0),
                                                                         (*like.shape[:2], channels))
    return np.clip(np.rint(crop), 0, 255).astype(np.uint8).reshape(like.shape)


def _noise_crop(like: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noise only, shaped like `like`: per pixel Gaussian at a random mean and spread, blurred half the
    time; its spread is above the runtime frame check's uniform threshold, so only training covers it."""
    crop = rng.normal(rng.uniform(30.0, 220.0), rng.uniform(8.0, 60.0), like.shape).astype(np.float32)
    if rng.random() < 0.5:
        crop = cv2.GaussianBlur(crop, (0, 0), 1.0)
    return np.clip(np.rint(crop), 0, 255).astype(np.uint8)
