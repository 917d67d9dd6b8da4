"""Run one tracker over one sequence and keep what it said each frame."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rgbt_tracker_ros.common.boxes import validate_box
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.evaluation.metrics import FrameErrors, frame_errors
from rgbt_tracker_ros.tracking.result import TrackResult, TrackState

MODALITIES = ("rgbt", "visible", "thermal")


class Tracker(Protocol):
    def initialize(self, visible: np.ndarray | None, thermal: np.ndarray | None, box) -> None: ...

    def track(self, visible: np.ndarray | None, thermal: np.ndarray | None) -> TrackResult: ...


@dataclass
class RunResult:
    """What a tracker produced on a sequence. Rows before init_frame are NaN; row init_frame is the
    initialisation box (score NaN, state None). Frames whose track() raised InputError hold the
    previous box, score NaN and state None, and are listed in error_frames. ignored[i] is what
    TrackResult.ignored said on frame i (cameras given but not used, and why; empty for peers)."""

    tracker: str
    sequence: str
    modality: str                      # what the tracker was fed: rgbt, visible or thermal
    init_frame: int
    predictions: np.ndarray            # (N, 4) x, y, w, h
    scores: np.ndarray                 # (N,)
    states: list[TrackState | None]
    track_seconds: float               # time spent inside track() calls
    error_frames: list[int] = field(default_factory=list)
    ignored: list[dict[str, str]] = field(default_factory=list)

    @property
    def tracked_frames(self) -> int:
        """Number of track() calls (frames after the initialisation frame)."""
        return len(self.predictions) - self.init_frame - 1

    @property
    def fps(self) -> float:
        if self.tracked_frames <= 0 or self.track_seconds <= 0:
            return float("nan")
        return self.tracked_frames / self.track_seconds

    @property
    def input_errors(self) -> int:
        return len(self.error_frames)

    def ignored_frames(self) -> dict[str, int]:
        """Per camera, the number of frames the tracker left it out."""
        counts: dict[str, int] = {}
        for cameras in self.ignored:
            for camera in cameras:
                counts[camera] = counts.get(camera, 0) + 1
        return counts


def tracker_name(tracker) -> str:
    return str(getattr(tracker, "name", type(tracker).__name__))


def fed_modality(requested: str, sequence: Sequence) -> str:
    """The modalities the tracker actually gets: the requested ones the sequence has."""
    if requested not in MODALITIES:
        raise InputError(f"modality must be one of {', '.join(MODALITIES)}, got {requested!r}")
    use_visible = requested in ("rgbt", "visible") and sequence.visible is not None
    use_thermal = requested in ("rgbt", "thermal") and sequence.thermal is not None
    if use_visible and use_thermal:
        return "rgbt"
    if use_visible or use_thermal:
        return "visible" if use_visible else "thermal"
    raise InputError(f"sequence {sequence.name} has no {requested} frames (it has {sequence.modalities})")


def run_tracker(
    tracker: Tracker,
    sequence: Sequence,
    modality: str = "rgbt",
    init_box=None,
    init_frame: int | None = None,
    progress: bool = True,
) -> RunResult:
    """Initialise `tracker` on init_frame (default: the first annotated frame, with its ground truth)
    and track every later frame. InputError from initialize() propagates; from track() it is counted
    and the previous box is kept for that frame."""
    from tqdm import tqdm

    fed = fed_modality(modality, sequence)
    use_visible = fed in ("rgbt", "visible")
    use_thermal = fed in ("rgbt", "thermal")
    n = len(sequence)
    if init_frame is None:
        init_frame = sequence.first_annotated()
    if not 0 <= init_frame < n:
        raise InputError(f"init frame {init_frame} outside sequence {sequence.name} of {n} frames")
    if init_box is None:
        init_box = sequence.groundtruth[init_frame]
    box = validate_box(init_box)

    def frame(i: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (sequence.visible[i] if use_visible else None, sequence.thermal[i] if use_thermal else None)

    predictions = np.full((n, 4), np.nan)
    scores = np.full(n, np.nan)
    states: list[TrackState | None] = [None] * n
    ignored: list[dict[str, str]] = [{} for _ in range(n)]
    tracker.initialize(*frame(init_frame), box)
    predictions[init_frame] = box

    name = tracker_name(tracker)
    error_frames: list[int] = []
    seconds = 0.0
    for i in tqdm(range(init_frame + 1, n), desc=f"{name} on {sequence.name}", disable=not progress,
                  file=sys.stderr, leave=False, unit="frame"):
        visible, thermal = frame(i)
        start = time.perf_counter()
        try:
            result = tracker.track(visible, thermal)
        except InputError:
            seconds += time.perf_counter() - start
            error_frames.append(i)
            predictions[i] = predictions[i - 1]
            continue
        seconds += time.perf_counter() - start
        predictions[i] = np.asarray(result.box, dtype=np.float64).reshape(4)
        scores[i] = float(result.score)
        states[i] = result.state
        ignored[i] = dict(getattr(result, "ignored", None) or {})
    return RunResult(name, sequence.name, fed, init_frame, predictions, scores, states, seconds, error_frames,
                     ignored)


def run_errors(run: RunResult, sequence: Sequence, exclude_init: bool = True) -> FrameErrors:
    """Per-frame errors of a run against its sequence's ground truth under the sequence's protocol."""
    return frame_errors(
        run.predictions,
        sequence.groundtruth,
        protocol=sequence.protocol,
        groundtruth_thermal=sequence.groundtruth_thermal,
        init_frame=run.init_frame,
        exclude_init=exclude_init,
    )
