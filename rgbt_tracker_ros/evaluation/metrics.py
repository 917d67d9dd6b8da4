"""Tracking metrics under the official benchmark conventions: PR, SR, NPR and their curves.

Boxes are (N, 4) float arrays of x, y, w, h; row i is frame i. Conventions (all protocols):
- Centre = (x + w/2, y + h/2). Centre error is the Euclidean distance of the centres in pixels.
- PR: fraction of scored frames with centre error <= the protocol's threshold (20 px; GTOT 5 px).
- SR: mean of the success curve over IoU thresholds 0, 0.05, ..., 1.0 (21 points), where success at
  threshold t is the fraction of frames with IoU > t, strictly (the OTB toolkit's convention). So at
  t = 0 only overlapping boxes count, and at t = 1 nothing does: a perfect tracker scores 20/21.
- NPR (LasHeR / LaSOT): centre offset divided per axis by the ground-truth width and height,
  sqrt((dx/w)^2 + (dy/h)^2), fraction <= 0.2.
- Frames before the initialisation frame are never scored (nothing was tracked); the initialisation
  frame itself is excluded unless exclude_init=False. Unannotated (NaN) ground-truth rows are skipped.
- A missing prediction (NaN) after initialisation is a miss: infinite centre error, IoU 0.
Protocol rules (`PROTOCOLS`):
- gtot: 5 px PR threshold; averaging over sequences pools all frames instead of averaging sequences.
- rgbt234: each frame is scored against the visible and the thermal ground truth, keeping the smaller
  centre error and the larger IoU.
- lasher: ground truth with w or h <= 0 marks an absent target, a hit for PR/NPR and a miss for SR;
  predictions with w or h <= 0 (or NaN) are replaced by the previous frame's prediction. In the other
  protocols such ground-truth rows carry no box and are skipped like unannotated ones.
- vtuav, otb: the generic rules (VTUAV's sparse annotation arrives as NaN rows).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from rgbt_tracker_ros.common.boxes import iou
from rgbt_tracker_ros.common.errors import InputError

PRECISION_THRESHOLDS = np.arange(0.0, 51.0)          # px, OTB precision plot
SUCCESS_THRESHOLDS = np.arange(21) / 20.0             # IoU 0, 0.05, ..., 1 (k/20 exactly rounded)
NORMALIZED_THRESHOLDS = np.arange(51) / 100.0         # 0 .. 0.5, LaSOT / LasHeR normalised precision plot
NPR_THRESHOLD = 0.2


@dataclass(frozen=True)
class Protocol:
    name: str
    center_threshold: float          # px, where PR is read
    pool_frames: bool                # average over sequences by pooling frames (GTOT)
    dual_groundtruth: bool           # best of visible and thermal ground truth per frame (RGBT234)
    absent_targets: bool             # w or h <= 0 in ground truth = absent target (LasHeR)
    replace_empty_predictions: bool  # w or h <= 0 / NaN predictions take the previous box (LasHeR)


PROTOCOLS: dict[str, Protocol] = {
    "otb": Protocol("otb", 20.0, False, False, False, False),
    "gtot": Protocol("gtot", 5.0, True, False, False, False),
    "rgbt234": Protocol("rgbt234", 20.0, False, True, False, False),
    "lasher": Protocol("lasher", 20.0, False, False, True, True),
    "vtuav": Protocol("vtuav", 20.0, False, False, False, False),
}


def protocol_rules(name: str) -> Protocol:
    try:
        return PROTOCOLS[name.lower()]
    except (KeyError, AttributeError):
        raise InputError(f"unknown evaluation protocol {name!r}; known: {', '.join(PROTOCOLS)}") from None


@dataclass(frozen=True)
class FrameErrors:
    """Per-frame errors of the scored frames of one sequence (the input to every score)."""

    protocol: str
    frames: np.ndarray       # (M,) indices of the scored frames
    center: np.ndarray       # (M,) centre error in px (0 for an absent-target hit, inf for no prediction)
    normalized: np.ndarray   # (M,) centre error normalised by the ground-truth size
    overlap: np.ndarray      # (M,) IoU in 0..1

    def __len__(self) -> int:
        return int(self.frames.size)


@dataclass(frozen=True)
class Scores:
    """PR, SR, NPR and the curves they are read from. NaN when no frame was scored."""

    pr: float
    sr: float
    npr: float
    frames: int                      # scored frames (summed over sequences when combined)
    precision: np.ndarray            # over PRECISION_THRESHOLDS
    success: np.ndarray              # over SUCCESS_THRESHOLDS
    normalized_precision: np.ndarray  # over NORMALIZED_THRESHOLDS


def _as_boxes(boxes, what: str) -> np.ndarray:
    arr = np.array(boxes, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise InputError(f"{what} must be an (N, 4) array of x, y, w, h; got shape {arr.shape}")
    return arr


def _centers(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, :2] + boxes[:, 2:] / 2.0


def _fill_empty_predictions(predictions: np.ndarray, start: int) -> np.ndarray:
    out = predictions.copy()
    for i in range(start + 1, len(out)):
        w, h = out[i, 2], out[i, 3]
        if not np.all(np.isfinite(out[i])) or w <= 0 or h <= 0:
            out[i] = out[i - 1]
    return out


def _against(predictions: np.ndarray, gt: np.ndarray, rules: Protocol):
    """Errors against one ground truth; NaN in every output where that frame carries no box."""
    annotated = np.all(np.isfinite(gt), axis=1)
    present = annotated & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = _centers(predictions) - _centers(gt)
        center = np.hypot(offset[:, 0], offset[:, 1])
        normalized = np.hypot(offset[:, 0] / gt[:, 2], offset[:, 1] / gt[:, 3])
    missing = ~np.all(np.isfinite(predictions), axis=1)
    center[missing] = np.inf
    normalized[missing] = np.inf
    overlap = iou(predictions, gt)
    for arr in (center, normalized, overlap):
        arr[~present] = np.nan
    if rules.absent_targets:
        absent = annotated & ~present
        center[absent] = 0.0      # hit for PR and NPR
        normalized[absent] = 0.0
        overlap[absent] = 0.0     # IoU > t fails for every t >= 0: a miss for SR
    return center, normalized, overlap


def frame_errors(
    predictions,
    groundtruth,
    protocol: str = "otb",
    groundtruth_thermal=None,
    init_frame: int | None = None,
    exclude_init: bool = True,
) -> FrameErrors:
    """Per-frame centre errors and overlaps of the frames that count under `protocol`.

    init_frame: the frame the tracker was initialised on; None means the first row with a finite
    prediction (the runner leaves rows before initialisation NaN).
    groundtruth_thermal: the thermal-camera ground truth, used by protocols with dual ground truth.
    """
    rules = protocol_rules(protocol)
    pred = _as_boxes(predictions, "predictions")
    gt = _as_boxes(groundtruth, "ground truth")
    if len(pred) != len(gt):
        raise InputError(f"{len(pred)} predictions for {len(gt)} ground-truth frames")
    if init_frame is None:
        finite = np.flatnonzero(np.all(np.isfinite(pred), axis=1))
        if finite.size == 0:
            raise InputError("no finite prediction: cannot tell the initialisation frame")
        init_frame = int(finite[0])
    if not 0 <= init_frame < len(pred):
        raise InputError(f"init frame {init_frame} outside the {len(pred)} frames")
    if rules.replace_empty_predictions:
        pred = _fill_empty_predictions(pred, init_frame)

    truths = [gt]
    if rules.dual_groundtruth and groundtruth_thermal is not None:
        gt_t = _as_boxes(groundtruth_thermal, "thermal ground truth")
        if len(gt_t) != len(gt):
            raise InputError(f"thermal ground truth has {len(gt_t)} rows, visible {len(gt)}")
        truths.append(gt_t)
    per_truth = [_against(pred, g, rules) for g in truths]
    with warnings.catch_warnings():
        # All-NaN columns (frames no ground truth scores) warn; they are dropped just below.
        warnings.simplefilter("ignore", RuntimeWarning)
        center = np.nanmin(np.stack([c for c, _, _ in per_truth]), axis=0)
        normalized = np.nanmin(np.stack([n for _, n, _ in per_truth]), axis=0)
        overlap = np.nanmax(np.stack([o for _, _, o in per_truth]), axis=0)

    first_scored = init_frame + 1 if exclude_init else init_frame
    index = np.arange(len(pred))
    scored = (index >= first_scored) & np.isfinite(overlap)
    return FrameErrors(
        protocol=rules.name,
        frames=index[scored],
        center=center[scored],
        normalized=normalized[scored],
        overlap=overlap[scored],
    )


def precision_curve(center_errors, thresholds=PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with centre error <= each threshold (NaN for no frames)."""
    errors = np.asarray(center_errors, dtype=np.float64).reshape(-1, 1)
    if errors.size == 0:
        return np.full(len(thresholds), np.nan)
    return np.mean(errors <= np.asarray(thresholds)[None, :], axis=0)


def success_curve(overlaps, thresholds=SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with IoU > each threshold, strictly (NaN for no frames)."""
    values = np.asarray(overlaps, dtype=np.float64).reshape(-1, 1)
    if values.size == 0:
        return np.full(len(thresholds), np.nan)
    return np.mean(values > np.asarray(thresholds)[None, :], axis=0)


def score(errors: FrameErrors) -> Scores:
    """PR, SR, NPR and curves of one sequence's (or pooled) frames."""
    rules = protocol_rules(errors.protocol)
    if len(errors) == 0:
        nan = float("nan")
        return Scores(nan, nan, nan, 0, precision_curve([]), success_curve([]),
                      precision_curve([], NORMALIZED_THRESHOLDS))
    success = success_curve(errors.overlap)
    return Scores(
        pr=float(np.mean(errors.center <= rules.center_threshold)),
        sr=float(np.mean(success)),
        npr=float(np.mean(errors.normalized <= NPR_THRESHOLD)),
        frames=len(errors),
        precision=precision_curve(errors.center),
        success=success,
        normalized_precision=precision_curve(errors.normalized, NORMALIZED_THRESHOLDS),
    )


def evaluate(
    predictions,
    groundtruth,
    protocol: str = "otb",
    groundtruth_thermal=None,
    init_frame: int | None = None,
    exclude_init: bool = True,
) -> Scores:
    """Scores of one sequence: `frame_errors` then `score`."""
    return score(frame_errors(predictions, groundtruth, protocol, groundtruth_thermal, init_frame, exclude_init))


def combine(per_sequence: list[FrameErrors]) -> Scores:
    """Scores over several sequences: frames pooled when every sequence is under a pooling protocol
    (GTOT); otherwise the mean over sequences of each sequence's scores and curves (sequences with no
    scored frame are left out)."""
    if not per_sequence:
        raise InputError("no sequence to average over")
    if all(protocol_rules(e.protocol).pool_frames for e in per_sequence) and \
            len({e.protocol for e in per_sequence}) == 1:
        pooled = FrameErrors(
            protocol=per_sequence[0].protocol,
            frames=np.concatenate([e.frames for e in per_sequence]),
            center=np.concatenate([e.center for e in per_sequence]),
            normalized=np.concatenate([e.normalized for e in per_sequence]),
            overlap=np.concatenate([e.overlap for e in per_sequence]),
        )
        return score(pooled)
    scores = [score(e) for e in per_sequence if len(e) > 0]
    if not scores:
        return score(per_sequence[0])
    return Scores(
        pr=float(np.mean([s.pr for s in scores])),
        sr=float(np.mean([s.sr for s in scores])),
        npr=float(np.mean([s.npr for s in scores])),
        frames=sum(s.frames for s in scores),
        precision=np.mean([s.precision for s in scores], axis=0),
        success=np.mean([s.success for s in scores], axis=0),
        normalized_precision=np.mean([s.normalized_precision for s in scores], axis=0),
    )
