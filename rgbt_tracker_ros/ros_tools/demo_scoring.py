"""The demo's results against the ground truth: each `~/target` matched to its frame by header stamp.

A frame the node skipped keeps the last published box (what a consumer of `~/target` had at that
time); the boxes are then scored with the sequence's protocol (evaluation.metrics) from the
initialisation frame on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.evaluation.metrics import evaluate
from rgbt_tracker_ros.ros_tools.tracker_client import TargetRecord


@dataclass
class DemoOutcome:
    frames: int
    init_frame: int
    processed: int
    predictions: np.ndarray          # (frames, 4), the last published box held over unprocessed frames
    scores: np.ndarray               # (frames,) NaN where unknown
    states: list[str]
    latencies_ms: list[float]
    pr: float
    sr: float
    scored_frames: int


def score_records(records: list[TargetRecord], frame_of: dict[int, int], sequence, frames: int,
                  init_frame: int) -> DemoOutcome:
    """Match results to frames by stamp (frame_of: visible stamp -> frame, from the player's stamp log)
    and score the first `frames` frames against the ground truth, initialised on init_frame."""
    n, start = frames, init_frame
    predictions = np.full((n, 4), np.nan)
    scores = np.full(n, np.nan)
    states = [""] * n
    processed = np.zeros(n, bool)
    latencies = []
    for record in records:
        frame = frame_of.get(record.stamp_ns)
        if frame is None or not start <= frame < n or processed[frame]:
            continue
        processed[frame] = True
        latencies.append(record.latency_ms)
        if record.box is not None:
            predictions[frame] = record.box
        scores[frame], states[frame] = record.score, record.state
    if not processed[start] or not np.all(np.isfinite(predictions[start])):
        predictions[start] = sequence.groundtruth[start]
    # A frame the node skipped (it always takes the newest pair) keeps the last published box:
    # that is what a consumer of ~/target had at that time.
    for frame in range(start + 1, n):
        if not processed[frame]:
            predictions[frame] = predictions[frame - 1]
            states[frame] = states[frame - 1]
    scores_ = evaluate(predictions, sequence.groundtruth[:n], protocol=sequence.protocol,
                       groundtruth_thermal=(None if sequence.groundtruth_thermal is None
                                            else sequence.groundtruth_thermal[:n]),
                       init_frame=start)
    return DemoOutcome(n, start, int(processed[start + 1:].sum()), predictions, scores, states, latencies,
                       scores_.pr, scores_.sr, scores_.frames)
