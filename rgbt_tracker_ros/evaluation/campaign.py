"""An evaluation campaign: trackers (the student and OpenCV peers) over sequences, scored with the
official conventions, with the box size kept (evaluation/box_size.py); evaluation/report.py turns
the outcomes into tables, JSON and images."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers import load_sequences
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, synthetic_sequences
from rgbt_tracker_ros.evaluation.box_size import BoxSize, area_ratios, combine_sizes
from rgbt_tracker_ros.evaluation.metrics import FrameErrors, Scores, combine, score
from rgbt_tracker_ros.evaluation.peers import (
    MODEL_FILES,
    PEER_KINDS,
    PEER_MODALITIES,
    PeerModels,
    peers_for,
    unavailable_note,
)
from rgbt_tracker_ros.evaluation.runner import RunResult, fed_modality, run_errors, run_tracker
from rgbt_tracker_ros.evaluation.stress import StressSpec, apply_stress
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

STUDENT = "student"
DEFAULT_TRACKERS = "student,csrt,kcf"
DEFAULT_TRACKERS_WITH_MODELS = "student,csrt,kcf,nano,vit"


@dataclass
class Outcome:
    """One tracker on one sequence."""

    tracker: str
    modality: str
    run: RunResult | None = None
    errors: FrameErrors | None = None
    scores: Scores | None = None
    size: BoxSize | None = None
    failure: str | None = None


@dataclass
class SequenceOutcome:
    sequence: Sequence
    outcomes: list[Outcome]


def default_trackers(models: PeerModels | None) -> str:
    """The --trackers default: the network peers join when a peer-model folder is given."""
    return DEFAULT_TRACKERS if models is None else DEFAULT_TRACKERS_WITH_MODELS


def parse_trackers(text: str) -> list[str]:
    """'student,csrt,nano-thermal' -> names, checked; a peer kind alone (csrt) means every modality a
    sequence has."""
    known = [STUDENT, *PEER_KINDS, *(f"{k}-{m}" for k in PEER_KINDS for m in PEER_MODALITIES)]
    names: list[str] = []
    for name in (part.strip().lower() for part in text.split(",")):
        if not name:
            continue
        if name not in known:
            raise InputError(f"unknown tracker {name!r}; known: {', '.join(known)}")
        if name not in names:
            names.append(name)
    if not names:
        raise InputError(f"no tracker named in --trackers {text!r}")
    return names


def runnable_trackers(names: list[str], models: PeerModels | None,
                      on_skip: Callable[[str], None] = lambda message: print(message, file=sys.stderr)) -> list[str]:
    """The names whose peer can run: a network peer without its model files is dropped with a note."""
    kept, noted = [], set()
    for name in names:
        kind = name.partition("-")[0]
        note = unavailable_note(kind, models) if kind in MODEL_FILES else None
        if note is None:
            kept.append(name)
        elif kind not in noted:
            noted.add(kind)
            on_skip(note)
    if not kept:
        raise InputError("no tracker left to run (see the notes above)")
    return kept


def collect_sequences(paths: list[str], synthetic: int) -> list[Sequence]:
    sequences: list[Sequence] = []
    for text in paths:
        if not Path(text).exists():
            raise InputError(f"no such file or folder: {text}")
    if paths:
        for text in paths:
            found = list(load_sequences(Path(text)))
            if not found:
                raise InputError(f"no sequence found in {text}")
            sequences.extend(found)
    if synthetic < 0:
        raise InputError(f"--synthetic must be 0 or more, got {synthetic}")
    if synthetic:
        sequences.extend(synthetic_sequences("val", synthetic, SyntheticConfig()))
    if not sequences:
        raise InputError("nothing to evaluate: give --sequences PATH and/or --synthetic N")
    return sequences


def with_stress(sequences: list[Sequence], specs: list[StressSpec],
                on_skip: Callable[[str], None] = lambda message: print(message, file=sys.stderr)) -> list[Sequence]:
    """Each sequence under each stress variant (the sequences as they are without specs); a variant
    that does not apply (a camera the sequence lacks) is skipped with a note."""
    if not specs:
        return sequences
    stressed = []
    for sequence in sequences:
        for spec in specs:
            try:
                stressed.append(apply_stress(sequence, spec))
            except InputError as exc:
                on_skip(f"skipped: {exc}")
    if not stressed:
        raise InputError("nothing to evaluate: no stress variant applies to the sequences given")
    return stressed


class StudentFactory:
    """Builds the student once; a sequence with its own thermal-to-visible homography gets its own."""

    def __init__(self, model: str | None, threads: int):
        # model None is the shipped student (TrackerConfig's default). Loaded now, so that a bad
        # --model stops the command before any sequence is run.
        self.config = TrackerConfig(model=model, threads=threads)
        self._default = RGBTTracker(self.config)

    def for_sequence(self, sequence: Sequence):
        if sequence.thermal_to_visible is not None and sequence.modalities == "rgbt":
            return RGBTTracker(dataclasses.replace(self.config, thermal_to_visible=sequence.thermal_to_visible))
        return self._default


def _student_modality(requested: str, sequence: Sequence) -> str:
    try:
        return fed_modality(requested, sequence)
    except InputError:
        return sequence.modalities  # e.g. --modality visible on a thermal-only sequence


def _planned_runs(names: list[str], sequence: Sequence, student: StudentFactory | None, modality: str,
                  models: PeerModels | None) -> list[tuple[str, str, Callable[[], object]]]:
    """(name, modality fed, tracker builder) of each tracker to run on this sequence."""
    plan: list[tuple[str, str, Callable[[], object]]] = []
    for name in names:
        if name == STUDENT:
            plan.append((STUDENT, _student_modality(modality, sequence), lambda: student.for_sequence(sequence)))
            continue
        kind, _, only = name.partition("-")  # 'csrt' (every modality) or 'csrt-thermal'
        for peer in peers_for(kind, sequence, models):
            if only in ("", peer.modality) and all(peer.name != planned[0] for planned in plan):
                plan.append((peer.name, peer.modality, lambda peer=peer: peer))
    return plan


def evaluate_all(names: list[str], sequences: list[Sequence], student: StudentFactory | None,
                 modality: str, exclude_init: bool, progress: bool,
                 on_failure: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
                 models: PeerModels | None = None) -> list[SequenceOutcome]:
    """Every planned tracker on every sequence; a run that fails on bad input is recorded (and
    reported through on_failure), the others go on."""
    results: list[SequenceOutcome] = []
    for sequence in sequences:
        outcomes: list[Outcome] = []
        for name, fed, build in _planned_runs(names, sequence, student, modality, models):
            outcome = Outcome(name, fed)
            try:
                outcome.run = run_tracker(build(), sequence, modality=fed, progress=progress)
                outcome.errors = run_errors(outcome.run, sequence, exclude_init=exclude_init)
                outcome.scores = score(outcome.errors)
                outcome.size = area_ratios(outcome.run.predictions, sequence.groundtruth, outcome.errors)
            except InputError as exc:
                outcome.failure = str(exc)
                on_failure(f"{name} on {sequence.name}: {exc}")
            outcomes.append(outcome)
        results.append(SequenceOutcome(sequence, outcomes))
    return results


@dataclass
class Overall:
    scores: Scores
    fps: float
    sequences: int
    size: BoxSize


def overall_by_tracker(results: list[SequenceOutcome]) -> dict[str, Overall]:
    """Per tracker, scores combined over the sequences it ran on (GTOT pools frames) and overall fps."""
    by_tracker: dict[str, list[Outcome]] = {}
    for result in results:
        for outcome in result.outcomes:
            if outcome.errors is not None:
                by_tracker.setdefault(outcome.tracker, []).append(outcome)
    overall = {}
    for name, outcomes in by_tracker.items():
        frames = sum(o.run.tracked_frames for o in outcomes)
        seconds = sum(o.run.track_seconds for o in outcomes)
        fps = frames / seconds if seconds > 0 else float("nan")
        overall[name] = Overall(combine([o.errors for o in outcomes]), fps, len(outcomes),
                                combine_sizes([o.size for o in outcomes]))
    return overall
