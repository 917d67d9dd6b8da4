"""RGBTTracker: the student network through ONNX Runtime plus the crop / score-map post-processing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from rgbt_tracker_ros.common.boxes import center, clip_to_image, crop_side, from_center, validate_box
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.model_bundle import (
    SEARCH_INPUTS,
    SEARCH_OUTPUTS,
    TEMPLATE_INPUTS,
    TEMPLATE_OUTPUTS,
    ModelBundle,
    load_bundle,
)
from rgbt_tracker_ros.tracking.preprocessing import (
    CropWindow,
    as_thermal,
    as_visible_rgb,
    crop_thermal,
    crop_visible,
    scaling_homography,
    thermal_stretch,
)
from rgbt_tracker_ros.tracking.result import TrackResult, TrackState
from rgbt_tracker_ros.tracking.session import create_session, resolve_providers

log = logging.getLogger("rgbt_tracker_ros.tracking")

# A box more than this many image sizes wide or high is a caller's mistake, not a target.
_MAX_BOX_IMAGE_RATIO = 2.0

Size = tuple[int, int]  # (width, height)


@dataclass
class _Target:
    """Everything the tracker remembers about its target between frames."""

    features: np.ndarray                 # template features, computed once at initialisation
    frame_size: Size                     # the image the boxes live in (visible, or thermal without one)
    visible_size: Size | None            # None: no visible camera at initialisation
    thermal_size: Size | None
    thermal_to_visible: np.ndarray | None
    anchor: np.ndarray                   # last confident box: centre and scale of the search window
    growth: float = 1.0                  # search window side multiplier (> 1 while unsure)
    misses: int = 0                      # consecutive frames with a score below score_lost
    warned_new_modality: bool = False


class RGBTTracker:
    """Single-object RGB-T tracker (see docs/design.md, "The tracker contract").

    `initialize(visible, thermal, box)` once, then `track(visible, thermal)` per frame; either image
    may be None, not both. Bad input raises InputError and leaves the tracker as it was.
    """

    def __init__(self, config: TrackerConfig | None = None):
        if config is None:
            config = TrackerConfig()
        if not isinstance(config, TrackerConfig):
            raise InputError(f"config must be a TrackerConfig, got {type(config).__name__}")
        self.config = config
        self.model: ModelBundle = load_bundle(config.model)
        providers = resolve_providers(config)
        self._template_session = create_session(
            self.model.template_file, providers, config.threads, TEMPLATE_INPUTS, TEMPLATE_OUTPUTS
        )
        self._search_session = create_session(
            self.model.search_file, providers, config.threads, SEARCH_INPUTS, SEARCH_OUTPUTS
        )
        #: The execution provider the per-frame (search) graph runs on, e.g. "CPUExecutionProvider".
        self.provider: str = self._search_session.get_providers()[0]

        z, s = self.model.template_size, self.model.search_size
        self._check_input_shapes(
            self._template_session, {"template_visible": (1, 3, z, z), "template_thermal": (1, 1, z, z)}
        )
        self._check_input_shapes(
            self._search_session, {"search_visible": (1, 3, s, s), "search_thermal": (1, 1, s, s)}
        )

        self._prepare_buffers()

    def _prepare_buffers(self) -> None:
        """The Hann window and the input buffers reused every frame (sized from the model)."""
        z, s = self.model.template_size, self.model.search_size
        h, w = self.model.feature_size
        hann = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
        self._hann_term = (self.config.hann_weight * hann / max(float(hann.max()), 1e-12)).astype(np.float32)
        self._score_weight = np.float32(1.0 - self.config.hann_weight)
        self._blend = np.empty((h, w), dtype=np.float32)
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
        self._search_outputs = list(SEARCH_OUTPUTS)
        self._target: _Target | None = None

    # ------------------------------------------------------------------ public API

    @property
    def name(self) -> str:
        """The model's name (what evaluation reports call this tracker)."""
        return self.model.name

    @property
    def initialized(self) -> bool:
        return self._target is not None

    def initialize(self, visible: np.ndarray | None, thermal: np.ndarray | None, box) -> None:
        """Start tracking the target in `box` (x, y, w, h in visible pixels; thermal pixels without visible)."""
        visible, thermal = _check_images(visible, thermal)
        visible_size = _size(visible)
        thermal_size = _size(thermal)
        if visible is not None:
            frame_size = visible_size
            homography = self._thermal_to_visible(thermal_size, visible_size) if thermal is not None else None
        else:
            # Thermal only: boxes are in thermal pixels, unless the config gives a homography, in which
            # case they are in the pixels of the (absent) visible camera it maps onto.
            homography = self.config.thermal_to_visible_matrix()
            frame_size = thermal_size if homography is None else _mapped_extent(homography, thermal_size)
        box = validate_box(box, frame_size, min_size=self.config.min_box)
        if box[2] > _MAX_BOX_IMAGE_RATIO * frame_size[0] or box[3] > _MAX_BOX_IMAGE_RATIO * frame_size[1]:
            raise InputError(
                f"box {box.tolist()} is far larger than the {frame_size[0]}x{frame_size[1]} image"
            )

        window = CropWindow.around(box, self.model.template_factor, self.model.template_size)
        self._fill(visible, thermal, window, homography,
                   self._template_inputs["template_visible"], self._template_inputs["template_thermal"])
        features = self._template_session.run([TEMPLATE_OUTPUTS[0]], self._template_inputs)[0]
        self._target = _Target(
            features=np.ascontiguousarray(features),
            frame_size=frame_size,
            visible_size=visible_size,
            thermal_size=thermal_size,
            thermal_to_visible=homography,
            anchor=box,
        )
        self._search_inputs["template_features"] = self._target.features

    def track(self, visible: np.ndarray | None, thermal: np.ndarray | None) -> TrackResult:
        """Locate the target in the next frame."""
        target = self._target
        if target is None:
            raise InputError("track() called before initialize()")
        visible, thermal = _check_images(visible, thermal)
        visible = self._usable(visible, target.visible_size, "visible", target)
        thermal = self._usable(thermal, target.thermal_size, "thermal", target)
        if visible is None and thermal is None:
            raise InputError(
                "the frame only has a modality that was absent at initialisation; re-initialise to use it"
            )

        cx, cy = center(target.anchor)
        side = crop_side(target.anchor, self.model.search_factor) * target.growth
        window = CropWindow(cx, cy, side, self.model.search_size)
        self._fill(visible, thermal, window, target.thermal_to_visible,
                   self._search_inputs["search_visible"], self._search_inputs["search_thermal"])
        score, size, offset = self._search_session.run(self._search_outputs, self._search_inputs)
        prediction, confidence = self._decode(score[0, 0], size[0], offset[0], window)
        return self._update(target, prediction, confidence)

    # ------------------------------------------------------------------ steps

    def _decode(self, score: np.ndarray, size: np.ndarray, offset: np.ndarray, window: CropWindow):
        """Score map with the Hann window -> best cell -> box in image pixels and its raw score."""
        h, w = score.shape
        np.multiply(score, self._score_weight, out=self._blend)
        self._blend += self._hann_term
        i, j = divmod(int(np.argmax(self._blend)), w)
        s = self.model.search_size
        cx = (j + float(offset[0, i, j])) * s / w
        cy = (i + float(offset[1, i, j])) * s / h
        bw = float(size[0, i, j]) * s
        bh = float(size[1, i, j]) * s
        box = window.box_to_image((cx - bw / 2.0, cy - bh / 2.0, bw, bh))
        return box, float(score[i, j])

    def _update(self, target: _Target, prediction: np.ndarray, confidence: float) -> TrackResult:
        """The state machine: trust a confident prediction, otherwise hold the last confident box
        and widen the search (bounded) until the target is found again."""
        cfg = self.config
        if confidence >= cfg.score_tracking and np.all(np.isfinite(prediction)):
            lr = cfg.size_lr * confidence
            width = max((1.0 - lr) * target.anchor[2] + lr * prediction[2], cfg.min_box)
            height = max((1.0 - lr) * target.anchor[3] + lr * prediction[3], cfg.min_box)
            box = clip_to_image(from_center(*center(prediction), width, height), target.frame_size,
                                min_size=min(cfg.min_box, *target.frame_size))
            target.anchor = box
            target.growth = 1.0
            target.misses = 0
            state = TrackState.TRACKING
        else:
            if confidence < cfg.score_lost:
                target.misses += 1
            target.growth = min(target.growth * cfg.search_growth, cfg.max_search_growth)
            state = TrackState.LOST if target.misses >= cfg.lost_after else TrackState.UNCERTAIN
        return TrackResult(box=target.anchor.copy(), score=confidence, state=state)

    def _fill(self, visible, thermal, window: CropWindow, homography, visible_input, thermal_input) -> None:
        """Crop each available modality into the network inputs; substitute a missing one."""
        if visible is not None:
            crop = crop_visible(visible, window)
            visible_input[0] = crop.transpose(2, 0, 1)
        if thermal is not None:
            crop_t = crop_thermal(thermal, window, thermal_stretch(thermal), homography)
            thermal_input[0, 0] = crop_t
            if visible is None:
                visible_input[0] = crop_t  # broadcast to the three channels
        else:
            grey = self._grey if crop.shape[0] == self._grey.shape[0] else None
            thermal_input[0, 0] = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY, dst=grey)

    def _thermal_to_visible(self, thermal_size: Size, visible_size: Size) -> np.ndarray | None:
        override = self.config.thermal_to_visible_matrix()
        if override is not None:
            return override
        if thermal_size == visible_size:
            return None
        return scaling_homography(thermal_size, visible_size)

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

    @staticmethod
    def _check_input_shapes(session, expected: dict[str, tuple[int, ...]]) -> None:
        for node in session.get_inputs():
            want = expected.get(node.name)
            if want is None:
                continue
            have = tuple(node.shape)
            if len(have) != len(want) or any(isinstance(d, int) and d != e for d, e in zip(have, want)):
                raise InputError(f"model input {node.name} has shape {list(have)}; model.json implies {list(want)}")


def _check_images(visible, thermal):
    if visible is None and thermal is None:
        raise InputError("no image given: pass a visible image, a thermal image or both")
    return (
        as_visible_rgb(visible) if visible is not None else None,
        as_thermal(thermal) if thermal is not None else None,
    )


def _mapped_extent(homography: np.ndarray, size: Size) -> Size:
    """(width, height) of the region the corners of a `size` image map to (from the origin)."""
    w, h = size
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], dtype=np.float64) @ homography.T
    xy = corners[:, :2] / corners[:, 2:3]
    return max(1, int(round(xy[:, 0].max()))), max(1, int(round(xy[:, 1].max())))


def _size(image: np.ndarray | None) -> Size | None:
    return None if image is None else (int(image.shape[1]), int(image.shape[0]))
