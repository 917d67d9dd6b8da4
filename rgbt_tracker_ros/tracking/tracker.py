"""RGBTTracker: the student network through ONNX Runtime plus the crop / score-map post-processing."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.common.boxes import center, clip_to_image, crop_side, from_center, validate_box
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.backend import NetworkBackend, OnnxBackend
from rgbt_tracker_ros.tracking.camera_templates import CameraTemplates
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.frame_check import FrameCheck, FrameCheckConfig, Uninformative, lacks_finite_values
from rgbt_tracker_ros.tracking.geometry import Size, default_thermal_to_visible, mapped_extent
from rgbt_tracker_ros.tracking.model_bundle import ModelBundle
from rgbt_tracker_ros.tracking.preprocessing import CropWindow, as_thermal, as_visible_rgb, crop_pair
from rgbt_tracker_ros.tracking.redetection import TileSweep
from rgbt_tracker_ros.tracking.result import TrackResult, TrackState
from rgbt_tracker_ros.tracking.scale_prior import next_size, size_penalty
from rgbt_tracker_ros.tracking.search_window import search_side
from rgbt_tracker_ros.tracking.template_update import TemplateMemory, TemplateUpdate

log = logging.getLogger("rgbt_tracker_ros.tracking")

# A box more than this many image sizes wide or high is a caller's mistake, not a target.
_MAX_BOX_IMAGE_RATIO = 2.0


@dataclass
class _Target:
    """Everything the tracker remembers about its target between frames."""

    templates: TemplateMemory            # the initial template (anchor) and the dynamic one
    frame_size: Size                     # the image the boxes live in (visible, or thermal without one)
    visible_size: Size | None            # None: no visible camera at initialisation
    thermal_size: Size | None
    thermal_to_visible: np.ndarray | None
    anchor: np.ndarray                   # last confident box: centre and scale of the search window
    initial_side: float                  # search window side at initialisation (the window's floor)
    growth: float = 1.0                  # search window side multiplier (> 1 while unsure)
    misses: int = 0                      # consecutive frames with a score below score_lost
    sweep: TileSweep | None = None       # re-detection tiles while lost
    warned_new_modality: bool = False
    camera_templates: CameraTemplates | None = None  # initialised on both cameras: templates without one


@dataclass(frozen=True)
class _Candidate:
    """The best cell of one score map: its box in image pixels, raw score and size penalty."""

    box: np.ndarray
    score: float
    penalty: float


@dataclass(frozen=True)
class TargetFrame:
    """Where the current target's boxes live, and the cameras it was initialised with (read-only)."""

    camera: str                          # "visible" or "thermal": whose pixels the boxes are in
    size: Size                           # (width, height) of the image the boxes live in
    thermal_to_visible: np.ndarray | None  # homography the thermal image is brought in with (None: as is)
    visible: bool                        # a visible image was given at initialisation
    thermal: bool                        # a thermal image was given at initialisation


class RGBTTracker:
    """Single-object RGB-T tracker (see docs/design.md, "The tracker contract").

    `initialize(visible, thermal, box)` once, then `track(visible, thermal)` per frame; either image
    may be None, not both. Bad input raises InputError and leaves the tracker as it was. A frame
    that holds no information (uniform, frozen, mostly non-finite: `tracking.frame_check`) is not
    fed to the network: that camera counts as missing for the frame, and the result says so.
    """

    def __init__(self, config: TrackerConfig | None = None, backend: NetworkBackend | None = None,
                 frame_check: FrameCheckConfig | None = None):
        """`backend`: the network to run; by default the config's model in ONNX Runtime.
        `frame_check`: when a frame is not evidence; by default the thresholds of FrameCheckConfig(),
        on or off as `config.frame_check` says (an explicit FrameCheckConfig takes precedence)."""
        if config is None:
            config = TrackerConfig()
        if not isinstance(config, TrackerConfig):
            raise InputError(f"config must be a TrackerConfig, got {type(config).__name__}")
        self.config = config
        if frame_check is None:
            frame_check = FrameCheckConfig(enabled=config.frame_check)
        self.frame_check = FrameCheck(frame_check)
        self.backend: NetworkBackend = OnnxBackend(config) if backend is None else backend
        self.model: ModelBundle = self.backend.bundle
        #: Where the per-frame (search) graph runs, e.g. "CPUExecutionProvider".
        self.provider: str = self.backend.provider
        self._prepare_buffers()

    def _prepare_buffers(self) -> None:
        """The Hann window and the input buffers reused every frame (sized from the model)."""
        z, s = self.model.template_size, self.model.search_size
        h, w = self.model.feature_size
        hann = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
        self._hann_term = (self.config.hann_weight * hann / max(float(hann.max()), 1e-12)).astype(np.float32)
        self._score_weight = np.float32(1.0 - self.config.hann_weight)
        self._blend = np.empty((h, w), dtype=np.float32)
        self._penalty = np.ones((h, w), dtype=np.float32)
        self._grey = np.empty((s, s), dtype=np.uint8)
        self._template_inputs = {
            "template_visible": np.empty((1, 3, z, z), dtype=np.float32),
            "template_thermal": np.empty((1, 1, z, z), dtype=np.float32),
        }
        self._search_inputs = {
            "template_features": None,
            "search_visible": np.empty((1, 3, s, s), dtype=np.float32),
            "search_thermal": np.empty((1, 1, s, s), dtype=np.float32),
        }
        self._target: _Target | None = None

    # ------------------------------------------------------------------ public API

    @property
    def name(self) -> str:
        """The model's name (what evaluation reports call this tracker)."""
        return self.model.name

    @property
    def initialized(self) -> bool:
        return self._target is not None

    @property
    def target_frame(self) -> TargetFrame | None:
        """The current target's coordinate frame and cameras; None before initialize()."""
        target = self._target
        if target is None:
            return None
        return TargetFrame(
            # Visible pixels also for a target whose visible frame was left out at initialisation.
            camera="visible" if target.visible_size is not None or target.thermal_to_visible is not None else "thermal",
            size=target.frame_size,
            thermal_to_visible=None if target.thermal_to_visible is None else target.thermal_to_visible.copy(),
            visible=target.visible_size is not None,
            thermal=target.thermal_size is not None,
        )

    def box_camera(self, with_visible: bool) -> str:
        """Whose pixels `initialize` takes the box in and `track` reports it in, for a target
        initialised with (`with_visible`) or without a visible image: "visible", or "thermal" when
        there is no visible image and the configuration gives no thermal-to-visible homography."""
        return "visible" if with_visible or self.config.thermal_to_visible is not None else "thermal"

    def initialize(self, visible: np.ndarray | None, thermal: np.ndarray | None, box) -> None:
        """Start tracking the target in `box` (x, y, w, h in visible pixels; thermal pixels without visible).

        A camera whose frame holds no information is left out, as if absent (the box stays in the
        pixels of the cameras given); when no camera's frame holds any, InputError."""
        dead_thermal = self.frame_check.enabled and visible is not None and lacks_finite_values(thermal)
        visible, thermal = _check_images(visible, None if dead_thermal else thermal)
        visible_size = _size(visible)
        thermal_size = _size(thermal)
        if visible is not None:
            frame_size = visible_size
            homography = (default_thermal_to_visible(thermal_size, visible_size, self.config.thermal_to_visible_matrix())
                          if thermal is not None else None)
        else:
            # Thermal only: boxes are in thermal pixels, unless the config gives a homography, in which
            # case they are in the pixels of the (absent) visible camera it maps onto.
            homography = self.config.thermal_to_visible_matrix()
            frame_size = thermal_size if homography is None else mapped_extent(homography, thermal_size)
        box = validate_box(box, frame_size, min_size=self.config.min_box)
        if box[2] > _MAX_BOX_IMAGE_RATIO * frame_size[0] or box[3] > _MAX_BOX_IMAGE_RATIO * frame_size[1]:
            raise InputError(
                f"box {box.tolist()} is far larger than the {frame_size[0]}x{frame_size[1]} image"
            )
        left_out = self._uninformative_at_initialisation(visible, thermal)
        if dead_thermal:
            left_out["thermal"] = Uninformative.NON_FINITE.value
        if "visible" in left_out:
            visible, visible_size = None, None
        if "thermal" in left_out:
            thermal, thermal_size = None, None
            homography = None if visible is not None else homography

        window = CropWindow.around(box, self.model.template_factor, self.model.template_size)
        crops = self._fill(visible, thermal, window, homography,
                           self._template_inputs["template_visible"], self._template_inputs["template_thermal"])
        features = self.backend.template(self._template_inputs)
        both = visible is not None and thermal is not None
        cfg = self.config
        rule = TemplateUpdate(cfg.template_weight, cfg.template_update_score, cfg.template_update_interval)
        self._target = _Target(
            templates=TemplateMemory(features, rule),
            frame_size=frame_size,
            visible_size=visible_size,
            thermal_size=thermal_size,
            thermal_to_visible=homography,
            anchor=box,
            initial_side=crop_side(box, self.model.search_factor),
            camera_templates=CameraTemplates(*crops) if both else None,
        )
        self._search_inputs["template_features"] = self._target.templates.features
        self.frame_check.forget()
        for camera, reason in left_out.items():
            log.warning("initialised without the %s camera: its frame is %s", camera, reason)

    def track(self, visible: np.ndarray | None, thermal: np.ndarray | None) -> TrackResult:
        """Locate the target in the next frame."""
        target = self._target
        if target is None:
            raise InputError("track() called before initialize()")
        visible, thermal, ignored = self._evidence(visible, thermal, target)
        if visible is None and thermal is None:
            return self._no_evidence(target, ignored)

        features = self._template_for(target, visible, thermal)
        self._search_inputs["template_features"] = features
        candidate = self._search(visible, thermal, self._search_window(target), target, hann=True)
        result = self._update(target, candidate)
        if result.state is TrackState.LOST:
            target.templates.forget()
            result = self._redetect(visible, thermal, target, result)
        if result.state is TrackState.TRACKING and features is target.templates.features:
            # A frame with a camera missing or set aside is substituted: not the target's appearance to learn.
            self._adapt(visible, thermal, target, result.score)
        return dataclasses.replace(result, ignored=ignored) if ignored else result

    # ------------------------------------------------------------------ steps

    def _template_for(self, target: _Target, visible, thermal) -> np.ndarray:
        """The template features to search this frame with: the target's own, or, when the frame
        lacks a camera the target was initialised with, the anchor with that camera substituted."""
        if target.camera_templates is None or (visible is not None and thermal is not None):
            return target.templates.features
        missing = "thermal" if thermal is None else "visible"
        return target.camera_templates.without(missing, self._template_pass)

    def _template_pass(self, crop_v: np.ndarray, crop_t: np.ndarray) -> np.ndarray:
        """Template features of one pair of template crops."""
        _load(crop_v, crop_t, self._template_inputs["template_visible"], self._template_inputs["template_thermal"])
        return self.backend.template(self._template_inputs)

    def _search_window(self, target: _Target) -> CropWindow:
        """Around the last confident box, widened while unsure, never below the floor."""
        cx, cy = center(target.anchor)
        side = search_side(target.anchor, self.model.search_factor, target.growth, target.initial_side,
                           self.config.window_floor)
        return CropWindow(cx, cy, side, self.model.search_size)

    def _search(self, visible, thermal, window: CropWindow, target: _Target, hann: bool) -> _Candidate:
        """One pass of the search graph over `window` and its best cell."""
        self._fill(visible, thermal, window, target.thermal_to_visible,
                   self._search_inputs["search_visible"], self._search_inputs["search_thermal"])
        score, size, offset = self.backend.search(self._search_inputs)
        return self._decode(score[0, 0], size[0], offset[0], window, target.anchor, hann)

    def _decode(self, score: np.ndarray, size: np.ndarray, offset: np.ndarray, window: CropWindow,
                current_box: np.ndarray, hann: bool) -> _Candidate:
        """Score map times the size penalty (against `current_box`), blended with the Hann window
        when `hann` -> best cell -> box in image pixels, its raw score and penalty."""
        h, w = score.shape
        s = self.model.search_size
        penalty = self._penalty  # stays all ones when the penalty is off
        if self.config.scale_penalty > 0.0:
            to_crop = window.scale / s  # image pixels -> fractions of the crop, the size map's unit
            size_penalty(size, (current_box[2] * to_crop, current_box[3] * to_crop),
                         self.config.scale_penalty, out=penalty)
        np.multiply(score, penalty, out=self._blend)
        if hann:
            self._blend *= self._score_weight
            self._blend += self._hann_term
        i, j = divmod(int(np.argmax(self._blend)), w)
        cx = (j + float(offset[0, i, j])) * s / w
        cy = (i + float(offset[1, i, j])) * s / h
        bw = float(size[0, i, j]) * s
        bh = float(size[1, i, j]) * s
        box = window.box_to_image((cx - bw / 2.0, cy - bh / 2.0, bw, bh))
        return _Candidate(box, float(score[i, j]), float(penalty[i, j]))

    def _update(self, target: _Target, candidate: _Candidate) -> TrackResult:
        """The state machine: trust a confident prediction, otherwise hold the last confident box
        and widen the search (bounded) until the target is found again."""
        cfg = self.config
        if candidate.score >= cfg.score_tracking and np.all(np.isfinite(candidate.box)):
            self._accept(target, candidate)
            state = TrackState.TRACKING
        else:
            if candidate.score < cfg.score_lost:
                target.misses += 1
            target.growth = min(target.growth * cfg.search_growth, cfg.max_search_growth)
            state = TrackState.LOST if target.misses >= cfg.lost_after else TrackState.UNCERTAIN
        return TrackResult(box=target.anchor.copy(), score=candidate.score, state=state)

    def _accept(self, target: _Target, candidate: _Candidate) -> None:
        """The candidate's centre, and a size that follows its prediction at a rate that falls with
        a low score or a large size change, bounded per frame."""
        cfg = self.config
        rate = cfg.size_lr * candidate.score * candidate.penalty
        width, height = next_size((target.anchor[2], target.anchor[3]), (candidate.box[2], candidate.box[3]),
                                  rate, cfg.max_scale_step, cfg.min_box)
        target.anchor = clip_to_image(from_center(*center(candidate.box), width, height), target.frame_size,
                                      min_size=min(cfg.min_box, *target.frame_size))
        target.growth = 1.0
        target.misses = 0
        target.sweep = None

    def _redetect(self, visible, thermal, target: _Target, lost: TrackResult) -> TrackResult:
        """While lost, one tile of the sweep of the whole frame; a peak at or above redetect_score
        re-acquires the target there."""
        cfg = self.config
        if cfg.redetect_score >= 1.0:
            return lost
        if target.sweep is None:
            side = search_side(target.anchor, self.model.search_factor, 1.0, target.initial_side, cfg.window_floor)
            target.sweep = TileSweep(target.frame_size, side, center(target.anchor), self.model.search_size)
        candidate = self._search(visible, thermal, target.sweep.next_window(), target, hann=False)
        if candidate.score < cfg.redetect_score or not np.all(np.isfinite(candidate.box)):
            return lost
        self._accept(target, candidate)
        return TrackResult(box=target.anchor.copy(), score=candidate.score, state=TrackState.TRACKING)

    def _adapt(self, visible, thermal, target: _Target, score: float) -> None:
        """On a confident frame, when due, this frame's box becomes the dynamic template."""
        if not target.templates.due(score):
            return
        window = CropWindow.around(target.anchor, self.model.template_factor, self.model.template_size)
        self._fill(visible, thermal, window, target.thermal_to_visible,
                   self._template_inputs["template_visible"], self._template_inputs["template_thermal"])
        target.templates.update(self.backend.template(self._template_inputs))

    def _fill(self, visible, thermal, window: CropWindow, homography, visible_input, thermal_input):
        """Crop the frame into the network inputs (a missing modality substituted); the two crops."""
        crop_v, crop_t = crop_pair(visible, thermal, window, homography, grey_out=self._grey)
        _load(crop_v, crop_t, visible_input, thermal_input)
        return crop_v, crop_t

    # ------------------------------------------------------------------ input checks

    def _evidence(self, visible, thermal, target: _Target):
        """(visible, thermal, ignored): the frame's images that the target can use and that hold
        information (None otherwise), and the cameras left out for lack of information, with why.
        Bad input raises InputError before the frame check remembers anything."""
        ignored: dict[str, str] = {}
        if self.frame_check.enabled and lacks_finite_values(thermal):
            # The image checks would refuse it as bad input; from a working camera it is a dead frame.
            ignored["thermal"], thermal = Uninformative.NON_FINITE.value, None
            if visible is None:
                return None, None, ignored
        visible, thermal = _check_images(visible, thermal)
        visible = self._usable(visible, target.visible_size, "visible", target)
        thermal = self._usable(thermal, target.thermal_size, "thermal", target)
        if visible is None and thermal is None:
            if ignored:
                return None, None, ignored
            raise InputError(
                "the frame only has a modality that was absent at initialisation; re-initialise to use it"
            )
        if not self.frame_check.enabled:
            return visible, thermal, ignored
        looks = [self.frame_check.look(camera, image)
                 for camera, image in (("visible", visible), ("thermal", thermal)) if image is not None]
        self.frame_check.remember(looks)
        ignored.update({look.camera: look.reason.value for look in looks if look.reason is not None})
        return (None if "visible" in ignored else visible, None if "thermal" in ignored else thermal, ignored)

    def _no_evidence(self, target: _Target, ignored: dict[str, str]) -> TrackResult:
        """No camera gave information: the box is held and not to be trusted (a lost target stays lost);
        nothing is fed to the network, so nothing it would learn from garbage changes the target."""
        lost = target.misses >= self.config.lost_after
        return TrackResult(box=target.anchor.copy(), score=0.0,
                           state=TrackState.LOST if lost else TrackState.UNCERTAIN, ignored=ignored)

    def _uninformative_at_initialisation(self, visible, thermal) -> dict[str, str]:
        """The cameras whose initialisation frame holds no information, with why; InputError when
        that leaves none."""
        if not self.frame_check.enabled:
            return {}
        given = {camera: image for camera, image in (("visible", visible), ("thermal", thermal)) if image is not None}
        left_out = {camera: reason.value for camera, image in given.items()
                    if (reason := self.frame_check.content(image)) is not None}
        if left_out and len(left_out) == len(given):
            said = " and ".join(f"the {camera} frame is {reason}" for camera, reason in left_out.items())
            raise InputError(f"nothing to initialise on: {said}; initialise on a frame that shows the target")
        return left_out

    @staticmethod
    def _usable(image, size_at_init: Size | None, name: str, target: _Target):
        """The image if it can be used with this target; None if its camera was absent at initialisation."""
        if image is None:
            return None
        if size_at_init is None:
            if not target.warned_new_modality:
                log.warning("ignoring the %s image: there was none at initialisation", name)
                target.warned_new_modality = True
            return None
        if _size(image) != size_at_init:
            w, h = _size(image)
            raise InputError(
                f"{name} frame is {w}x{h} but was {size_at_init[0]}x{size_at_init[1]} at initialisation"
            )
        return image


def _load(crop_v: np.ndarray, crop_t: np.ndarray, visible_input: np.ndarray, thermal_input: np.ndarray) -> None:
    """Two crops (HxWx3, HxW uint8) into a graph's two image inputs (1x3xHxW, 1x1xHxW float32)."""
    visible_input[0] = crop_v.transpose(2, 0, 1)
    thermal_input[0, 0] = crop_t


def _check_images(visible, thermal):
    if visible is None and thermal is None:
        raise InputError("no image given: pass a visible image, a thermal image or both")
    return (
        as_visible_rgb(visible) if visible is not None else None,
        as_thermal(thermal) if thermal is not None else None,
    )


def _size(image: np.ndarray | None) -> Size | None:
    return None if image is None else (int(image.shape[1]), int(image.shape[0]))
