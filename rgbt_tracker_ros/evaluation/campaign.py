"""An evaluation campaign: trackers (the student and OpenCV peers) over sequences, scored with the
official conventions; per-sequence and overall tables, the JSON report, precision / success plots."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers import load_sequences
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, synthetic_sequences
from rgbt_tracker_ros.evaluation.metrics import FrameErrors, Scores, combine, protocol_rules, score
from rgbt_tracker_ros.evaluation.peers import PEER_KINDS, PEER_MODALITIES, peers_for
from rgbt_tracker_ros.evaluation.plots import precision_plot, success_plot
from rgbt_tracker_ros.evaluation.runner import RunResult, fed_modality, run_errors, run_tracker
from rgbt_tracker_ros.evaluation.stress import StressSpec, apply_stress
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

STUDENT = "student"
DEFAULT_TRACKERS = "student,csrt,kcf"


@dataclass
class Outcome:
    """One tracker on one sequence."""

    tracker: str
    modality: str
    run: RunResult | None = None
    errors: FrameErrors | None = None
    scores: Scores | None = None
    failure: str | None = None


@dataclass
class SequenceOutcome:
    sequence: Sequence
    outcomes: list[Outcome]


def parse_trackers(text: str) -> list[str]:
    """'student,csrt,kcf-thermal' -> names, checked; csrt / kcf mean every modality a sequence has."""
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


def _planned_runs(names: list[str], sequence: Sequence, student: StudentFactory | None,
                  modality: str) -> list[tuple[str, str, Callable[[], object]]]:
    """(name, modality fed, tracker builder) of each tracker to run on this sequence."""
    plan: list[tuple[str, str, Callable[[], object]]] = []
    for name in names:
        if name == STUDENT:
            plan.append((STUDENT, _student_modality(modality, sequence), lambda: student.for_sequence(sequence)))
            continue
        kind, _, only = name.partition("-")  # 'csrt' (every modality) or 'csrt-thermal'
        for peer in peers_for(kind, sequence):
            if only in ("", peer.modality) and all(peer.name != planned[0] for planned in plan):
                plan.append((peer.name, peer.modality, lambda peer=peer: peer))
    return plan


def evaluate_all(names: list[str], sequences: list[Sequence], student: StudentFactory | None,
                 modality: str, exclude_init: bool, progress: bool,
                 on_failure: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
                 ) -> list[SequenceOutcome]:
    """Every planned tracker on every sequence; a run that fails on bad input is recorded (and
    reported through on_failure), the others go on."""
    results: list[SequenceOutcome] = []
    for sequence in sequences:
        outcomes: list[Outcome] = []
        for name, fed, build in _planned_runs(names, sequence, student, modality):
            outcome = Outcome(name, fed)
            try:
                outcome.run = run_tracker(build(), sequence, modality=fed, progress=progress)
                outcome.errors = run_errors(outcome.run, sequence, exclude_init=exclude_init)
                outcome.scores = score(outcome.errors)
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
        overall[name] = Overall(combine([o.errors for o in outcomes]), fps, len(outcomes))
    return overall


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def report_json(results: list[SequenceOutcome], overall: dict[str, Overall], settings: dict) -> dict:
    """The results.json / --json report; `settings` records how the run was made."""
    sequences = []
    for result in results:
        trackers = {}
        for o in result.outcomes:
            entry = {"modality": o.modality, "PR": None, "SR": None, "NPR": None, "fps": None,
                     "frames": 0, "input_errors": 0, "error": o.failure}
            if o.scores is not None:
                entry.update(PR=_number(o.scores.pr), SR=_number(o.scores.sr), NPR=_number(o.scores.npr),
                             fps=_number(o.run.fps), frames=o.scores.frames, input_errors=o.run.input_errors)
            trackers[o.tracker] = entry
        seq = result.sequence
        sequences.append({"name": seq.name, "protocol": seq.protocol, "modalities": seq.modalities,
                          "length": len(seq), "trackers": trackers})
    return {
        "sequences": sequences,
        "overall": {
            name: {"PR": _number(o.scores.pr), "SR": _number(o.scores.sr), "NPR": _number(o.scores.npr),
                   "fps": _number(o.fps), "sequences": o.sequences, "frames": o.scores.frames}
            for name, o in overall.items()
        },
        "settings": settings,
    }


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _best_first(value: float) -> float:
    return -value if math.isfinite(value) else math.inf


def print_tables(results: list[SequenceOutcome], overall: dict[str, Overall], out: TextIO) -> None:
    width = max([len("sequence")] + [len(r.sequence.name) for r in results])
    twidth = max([len("tracker")] + [len(o.tracker) for r in results for o in r.outcomes])
    header = f"{'sequence':<{width}}  {'tracker':<{twidth}}  {'PR':>6}  {'SR':>6}  {'NPR':>6}  {'fps':>7}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for result in results:
        for o in result.outcomes:
            if o.scores is None:
                row = f"failed: {o.failure}"
            else:
                s = o.scores
                row = f"{_fmt(s.pr):>6}  {_fmt(s.sr):>6}  {_fmt(s.npr):>6}  {_fmt(o.run.fps, 1):>7}"
            print(f"{result.sequence.name:<{width}}  {o.tracker:<{twidth}}  {row}", file=out)
    print("", file=out)
    print(f"average over sequences ({len(results)} in all)", file=out)
    header = f"{'tracker':<{twidth}}  {'PR':>6}  {'SR':>6}  {'NPR':>6}  {'fps':>7}  {'sequences':>9}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for name, o in sorted(overall.items(), key=lambda item: _best_first(item[1].scores.sr)):
        s = o.scores
        print(f"{name:<{twidth}}  {_fmt(s.pr):>6}  {_fmt(s.sr):>6}  {_fmt(s.npr):>6}  {_fmt(o.fps, 1):>7}"
              f"  {o.sequences:>9}", file=out)


def _file_stem(name: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "sequence"
    candidate, n = stem, 2
    while candidate in used:
        candidate, n = f"{stem}_{n}", n + 1
    used.add(candidate)
    return candidate


def write_outputs(results: list[SequenceOutcome], overall: dict[str, Overall], report: dict,
                  output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    used: set[str] = {"overall"}
    for result in results:
        scores = {o.tracker: o.scores for o in result.outcomes if o.scores is not None}
        if not scores:
            continue
        stem = _file_stem(result.sequence.name, used)
        threshold = protocol_rules(result.sequence.protocol).center_threshold
        precision_plot(scores, output_dir / f"{stem}_precision.png", f"Precision: {result.sequence.name}", threshold)
        success_plot(scores, output_dir / f"{stem}_success.png", f"Success: {result.sequence.name}")
    if overall:
        protocols = {r.sequence.protocol for r in results}
        threshold = protocol_rules(protocols.pop()).center_threshold if len(protocols) == 1 else 20.0
        scores = {name: o.scores for name, o in overall.items()}
        title = f"{len(results)} sequences"
        precision_plot(scores, output_dir / "overall_precision.png", f"Precision: {title}", threshold)
        success_plot(scores, output_dir / "overall_success.png", f"Success: {title}")
