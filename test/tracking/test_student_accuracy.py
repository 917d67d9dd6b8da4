"""Accuracy floors of the shipped student, set a little below what was measured (README, "Results"),
so that a regression in the model, the preprocessing or the post-processing fails here."""

import numpy as np
import pytest
from rgbt_tracker_ros.data.readers import load_sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, synthetic_sequences
from rgbt_tracker_ros.evaluation.metrics import evaluate
from rgbt_tracker_ros.evaluation.runner import run_tracker
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

pytestmark = pytest.mark.slow

# Measured with the shipped model (see README "Results"); floors leave room for run-to-run noise only.
# The default since issue 13 (structured thermal world, CMD from the teacher and the real-image peer,
# student_both_distill.yaml); the previous issue-13 default measured 0.876, 0.878, 0.595 and 0.692, 0.486:
SYNTHETIC_FLOORS = {"rgbt": 0.84, "thermal": 0.85, "visible": 0.59}  # measured 0.875, 0.876, 0.626
REAL_FLOORS = {"ptbtir_airplane_tir_only": 0.67, "vottir_birds_tir_only": 0.48}  # measured 0.697, 0.507
# The post-processing sweep's choice (docs/postprocessing.md; not the default), on the same sequences.
SWEEP_CHOICE = {"scale_penalty": 3.0, "window_floor": 0.75, "redetect_score": 0.4}
# Visible-only is the issue-13 defaults' weak side (0.708 before issue 13): the floor follows it.
SWEEP_CHOICE_FLOORS = {"rgbt": 0.82, "thermal": 0.84, "visible": 0.59}  # measured 0.848, 0.865, 0.616


@pytest.fixture(scope="module")
def tracker():
    return RGBTTracker()


@pytest.fixture(scope="module")
def validation_sequences():
    # Three sequences of the synthetic validation split (never trained on), shortened.
    return synthetic_sequences("val", 3, SyntheticConfig(width=640, height=480, length=60))


@pytest.mark.parametrize("modality", ["rgbt", "thermal", "visible"])
def test_synthetic_validation_success_rate(tracker, validation_sequences, modality):
    rates = []
    for sequence in validation_sequences:
        run = run_tracker(tracker, sequence, modality=modality, progress=False)
        rates.append(evaluate(run.predictions, sequence.groundtruth, sequence.protocol).sr)
    assert np.mean(rates) >= SYNTHETIC_FLOORS[modality], f"{modality}: SR per sequence {np.round(rates, 3)}"


@pytest.mark.parametrize("modality", ["rgbt", "thermal", "visible"])
def test_sweep_choice_synthetic_validation_success_rate(validation_sequences, modality):
    tracker = RGBTTracker(TrackerConfig(**SWEEP_CHOICE))
    rates = []
    for sequence in validation_sequences:
        run = run_tracker(tracker, sequence, modality=modality, progress=False)
        rates.append(evaluate(run.predictions, sequence.groundtruth, sequence.protocol).sr)
    assert np.mean(rates) >= SWEEP_CHOICE_FLOORS[modality], f"{modality}: SR per sequence {np.round(rates, 3)}"


@pytest.mark.parametrize("name", sorted(REAL_FLOORS))
def test_real_thermal_success_rate(tracker, real_data, name):
    sequence = load_sequence(real_data / name)
    run = run_tracker(tracker, sequence, modality="thermal", progress=False)
    scores = evaluate(run.predictions, sequence.groundtruth, sequence.protocol)
    assert scores.sr >= REAL_FLOORS[name], f"{name}: PR {scores.pr:.3f} SR {scores.sr:.3f}"
