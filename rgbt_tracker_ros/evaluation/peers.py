"""OpenCV trackers behind the tracker interface, each on one modality (e.g. `csrt-thermal`): CSRT and
KCF (correlation filters), NanoTrack v2 (`nano`, cv2.TrackerNano) and VitTrack (`vit`, cv2.TrackerVit),
the last two from ONNX files in a peer-model folder (`PeerModels`; ../shared/models/peers here).

Boxes in and out are in visible-image pixels like every tracker's (thermal pixels when there is no
visible camera); a thermal peer on an RGB-T sequence maps them through the thermal-to-visible
homography given at construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from rgbt_tracker_ros.common.boxes import validate_box
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.tracking.geometry import default_thermal_to_visible, map_box
from rgbt_tracker_ros.tracking.preprocessing import (
    apply_stretch,
    as_thermal,
    as_visible_rgb,
    thermal_stretch,
)
from rgbt_tracker_ros.tracking.result import TrackResult, TrackState

# The files each network peer loads from the peer-model folder.
MODEL_FILES = {
    "nano": ("nanotrack_v2_backbone.onnx", "nanotrack_v2_head.onnx"),
    "vit": ("vittrack_2023sep.onnx",),
}
PEER_KINDS = ("csrt", "kcf", *MODEL_FILES)
PEER_MODALITIES = ("visible", "thermal")


@dataclass(frozen=True)
class PeerModels:
    """The folder holding the network peers' ONNX files (`--peer-models DIR`)."""

    folder: Path

    def missing(self, kind: str) -> list[str]:
        """The files of `kind` that are not in the folder (none for csrt / kcf)."""
        return [name for name in MODEL_FILES.get(kind, ()) if not (Path(self.folder) / name).is_file()]

    def path(self, name: str) -> str:
        return str(Path(self.folder) / name)


def unavailable_note(kind: str, models: PeerModels | None) -> str | None:
    """Why peer `kind` cannot run (one line), or None when it can."""
    if kind not in MODEL_FILES:
        return None
    if models is None:
        return f"{kind} skipped: it needs --peer-models DIR holding {', '.join(MODEL_FILES[kind])}"
    missing = models.missing(kind)
    if missing:
        return f"{kind} skipped: {', '.join(missing)} not found in {models.folder}"
    return None


def _create(kind: str, models: PeerModels | None):
    if kind == "csrt":
        return cv2.TrackerCSRT.create()
    if kind == "kcf":
        return cv2.TrackerKCF.create()
    note = unavailable_note(kind, models)
    if note is not None:
        raise InputError(note)
    # OpenCV's DNN warns at every load that its new graph engine ignores the (default) target.
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        if kind == "nano":
            params = cv2.TrackerNano_Params()
            params.backbone, params.neckhead = (models.path(name) for name in MODEL_FILES["nano"])
            return cv2.TrackerNano_create(params)
        params = cv2.TrackerVit_Params()
        params.net = models.path(MODEL_FILES["vit"][0])
        return cv2.TrackerVit_create(params)
    except cv2.error as exc:
        raise InputError(f"{kind}: OpenCV cannot load the models in {models.folder}: "
                         f"{str(exc).strip().splitlines()[-1]}") from None
    finally:
        cv2.utils.logging.setLogLevel(level)


class OpenCVPeer:
    """An OpenCV tracker on one modality. The score is found / not found, as CSRT and KCF give no
    confidence (NanoTrack's and VitTrack's own scores are not used, so all peers read alike): score
    1.0 and TRACKING when found, else score 0.0, LOST and the previous box."""

    def __init__(self, kind: str, modality: str, thermal_to_visible: np.ndarray | None = None,
                 models: PeerModels | None = None):
        if kind not in PEER_KINDS:
            raise InputError(f"unknown OpenCV peer {kind!r}; known: {', '.join(PEER_KINDS)}")
        if modality not in PEER_MODALITIES:
            raise InputError(f"an OpenCV peer runs on {' or '.join(PEER_MODALITIES)}, got {modality!r}")
        note = unavailable_note(kind, models)
        if note is not None:
            raise InputError(note)
        self.kind = kind
        self.modality = modality
        self.models = models
        self.name = f"{kind}-{modality}"
        # Only the thermal peer converts boxes; None means thermal and visible pixels coincide.
        self._to_visible = None
        self._to_thermal = None
        if modality == "thermal" and thermal_to_visible is not None:
            self._to_visible = np.asarray(thermal_to_visible, dtype=np.float64).reshape(3, 3)
            self._to_thermal = np.linalg.inv(self._to_visible)
        self._tracker = None
        self._box: np.ndarray | None = None

    def _image(self, visible, thermal) -> np.ndarray:
        """The frame of this peer's modality as 8-bit BGR, as OpenCV trackers expect."""
        if self.modality == "visible":
            if visible is None:
                raise InputError(f"{self.name} needs a visible image, got None")
            return cv2.cvtColor(as_visible_rgb(visible), cv2.COLOR_RGB2BGR)
        if thermal is None:
            raise InputError(f"{self.name} needs a thermal image, got None")
        thermal = as_thermal(thermal)
        return cv2.cvtColor(apply_stretch(thermal, *thermal_stretch(thermal)), cv2.COLOR_GRAY2BGR)

    def initialize(self, visible, thermal, box) -> None:
        image = self._image(visible, thermal)
        box = validate_box(box)
        local = map_box(box, self._to_thermal) if self._to_thermal is not None else box
        height, width = image.shape[:2]
        validate_box(local, (width, height), min_size=1.0)
        x, y = int(round(local[0])), int(round(local[1]))
        w, h = max(1, int(round(local[2]))), max(1, int(round(local[3])))
        tracker = _create(self.kind, self.models)
        tracker.init(image, (x, y, w, h))
        self._tracker = tracker
        self._box = box

    def track(self, visible, thermal) -> TrackResult:
        if self._tracker is None:
            raise InputError(f"{self.name}: track() called before initialize()")
        image = self._image(visible, thermal)
        found, rect = self._tracker.update(image)
        if not found:
            return TrackResult(self._box.copy(), 0.0, TrackState.LOST)
        local = np.asarray(rect, dtype=np.float64)
        self._box = map_box(local, self._to_visible) if self._to_visible is not None else local
        return TrackResult(self._box.copy(), 1.0, TrackState.TRACKING)


def thermal_to_visible_of(sequence: Sequence) -> np.ndarray | None:
    """The sequence's thermal-to-visible homography; by default the thermal image scaled onto the
    visible one (None for single-camera sequences and same-size images)."""
    if sequence.thermal_to_visible is not None:
        return np.asarray(sequence.thermal_to_visible, dtype=np.float64)
    if sequence.visible is None or sequence.thermal is None:
        return None
    visible, thermal = sequence.frame(0)
    return default_thermal_to_visible(thermal.shape[1::-1], visible.shape[1::-1])


def peers_for(kind: str, sequence: Sequence, models: PeerModels | None = None) -> list[OpenCVPeer]:
    """One `kind` peer per modality the sequence has (csrt-visible and csrt-thermal on RGB-T)."""
    homography = thermal_to_visible_of(sequence) if sequence.thermal is not None else None
    return [
        OpenCVPeer(kind, modality, homography if modality == "thermal" else None, models)
        for modality, frames in (("visible", sequence.visible), ("thermal", sequence.thermal))
        if frames is not None
    ]
