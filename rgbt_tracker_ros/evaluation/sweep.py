"""Post-processing sweeps: variants of TrackerConfig run over the same sequences, scored by SR, PR
and how well the box keeps its size (share of frames whose box area is within [0.5, 2]x the ground
truth's, and the median area ratio). Sequences are read into memory once (`materialise`) and the
runs may be spread over worker processes that share them (fork)."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sys
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.evaluation.ablation import materialise
from rgbt_tracker_ros.evaluation.metrics import combine
from rgbt_tracker_ros.evaluation.runner import run_errors, run_tracker
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

AREA_BAND = (0.5, 2.0)  # the bar: predicted area within [0.5, 2]x the ground truth's


def area_ratios(predictions: np.ndarray, groundtruth: np.ndarray, init_frame: int) -> np.ndarray:
    """Predicted area / ground-truth area on the annotated frames after the initialisation frame."""
    pred = np.asarray(predictions, dtype=np.float64)[init_frame + 1:]
    gt = np.asarray(groundtruth, dtype=np.float64)[init_frame + 1:]
    keep = np.all(np.isfinite(gt), axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    pred, gt = pred[keep], gt[keep]
    with np.errstate(invalid="ignore"):
        ratio = (pred[:, 2] * pred[:, 3]) / (gt[:, 2] * gt[:, 3])
    return np.nan_to_num(ratio, nan=0.0)


def area_in_band(ratios: np.ndarray, band: tuple[float, float] = AREA_BAND) -> float:
    """Share of frames whose area ratio lies in the band (NaN when there is no frame)."""
    if ratios.size == 0:
        return float("nan")
    return float(np.mean((ratios >= band[0]) & (ratios <= band[1])))


@dataclass
class VariantResult:
    """One variant on one modality, over all sequences (SR, PR: mean over sequences)."""

    variant: str
    modality: str
    sr: float
    pr: float
    area_in_band: float            # pooled over frames
    area_median: float
    fps: float
    per_sequence_sr: list[float]
    predictions: list[np.ndarray] = dataclasses.field(default_factory=list, repr=False)  # per sequence

    def as_dict(self) -> dict:
        """Everything but the predictions (JSON-ready)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "predictions"}


_SHARED: list[Sequence] = []  # the sequences, inherited by forked workers


def _run_one(task: tuple[str, dict, str, int]):
    name, fields, modality, index = task
    sequence = _SHARED[index]
    tracker = RGBTTracker(TrackerConfig(**fields))
    run = run_tracker(tracker, sequence, modality=modality, progress=False)
    return name, modality, index, run_errors(run, sequence), \
        area_ratios(run.predictions, sequence.groundtruth, run.init_frame), run.tracked_frames, \
        run.track_seconds, run.predictions


def sweep(variants: dict[str, TrackerConfig], sequences: list[Sequence], modalities: tuple[str, ...],
          workers: int = 1, progress: bool = True, in_memory: bool = True) -> list[VariantResult]:
    """Every variant on every sequence and modality; one VariantResult per (variant, modality)."""
    global _SHARED
    _SHARED = [materialise(s) for s in sequences] if in_memory else list(sequences)
    tasks = [(name, _fields(config), modality, i) for name, config in variants.items()
             for modality in modalities for i in range(len(_SHARED))]
    collected: dict[tuple[str, str], list] = {}
    bar = tqdm(total=len(tasks), desc="sweep", unit="run", file=sys.stderr, disable=not progress)
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for out in pool.imap_unordered(_run_one, tasks):
                collected.setdefault(out[:2], []).append(out[2:])
                bar.update()
    else:
        for task in tasks:
            out = _run_one(task)
            collected.setdefault(out[:2], []).append(out[2:])
            bar.update()
    bar.close()
    results = []
    for name in variants:
        for modality in modalities:
            rows = sorted(collected[(name, modality)], key=lambda row: row[0])
            scores = combine([row[1] for row in rows])
            ratios = np.concatenate([row[2] for row in rows])
            frames, seconds = sum(row[3] for row in rows), sum(row[4] for row in rows)
            per_sequence = [float(combine([row[1]]).sr) for row in rows]
            results.append(VariantResult(name, modality, scores.sr, scores.pr, area_in_band(ratios),
                                         float(np.median(ratios)) if ratios.size else float("nan"),
                                         frames / seconds if seconds > 0 else float("nan"), per_sequence,
                                         [row[5] for row in rows]))
    return results


def _fields(config: TrackerConfig) -> dict:
    """The config as keyword arguments a worker rebuilds it from."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
