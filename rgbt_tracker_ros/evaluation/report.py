"""What an evaluation campaign prints and writes: the tables (PR / SR / NPR / fps and the box size),
the JSON report (results.json, --json), precision / success plots and the failure analysis images."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from rgbt_tracker_ros.evaluation.analysis import timeline_plot, worst_frames_strip
from rgbt_tracker_ros.evaluation.box_size import AREA_BAND, BoxSize
from rgbt_tracker_ros.evaluation.campaign import Overall, SequenceOutcome
from rgbt_tracker_ros.evaluation.metrics import protocol_rules
from rgbt_tracker_ros.evaluation.plots import precision_plot, success_plot

def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def _size_entry(size: BoxSize) -> dict:
    return {"area_within_band": _number(size.within_band), "area_ratio_median": _number(size.median)}


def report_json(results: list[SequenceOutcome], overall: dict[str, Overall], settings: dict) -> dict:
    """The results.json / --json report; `settings` records how the run was made."""
    sequences = []
    for result in results:
        trackers = {}
        for o in result.outcomes:
            entry = {"modality": o.modality, "PR": None, "SR": None, "NPR": None, "fps": None,
                     "area_within_band": None, "area_ratio_median": None,
                     "frames": 0, "input_errors": 0, "ignored_frames": {}, "error": o.failure}
            if o.scores is not None:
                entry.update(PR=_number(o.scores.pr), SR=_number(o.scores.sr), NPR=_number(o.scores.npr),
                             fps=_number(o.run.fps), frames=o.scores.frames, input_errors=o.run.input_errors,
                             ignored_frames=o.run.ignored_frames(), **_size_entry(o.size))
            trackers[o.tracker] = entry
        seq = result.sequence
        sequences.append({"name": seq.name, "protocol": seq.protocol, "modalities": seq.modalities,
                          "length": len(seq), "trackers": trackers})
    return {
        "sequences": sequences,
        "overall": {
            name: {"PR": _number(o.scores.pr), "SR": _number(o.scores.sr), "NPR": _number(o.scores.npr),
                   "fps": _number(o.fps), "sequences": o.sequences, "frames": o.scores.frames,
                   **_size_entry(o.size)}
            for name, o in overall.items()
        },
        "area_band": list(AREA_BAND),
        "settings": settings,
    }


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _best_first(value: float) -> float:
    return -value if math.isfinite(value) else math.inf


def _size_columns(size: BoxSize) -> str:
    return f"{_percent(size.within_band):>9}  {_fmt(size.median, 2):>6}"


def _percent(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{100 * value:.0f} %"


def print_tables(results: list[SequenceOutcome], overall: dict[str, Overall], out: TextIO) -> None:
    """Per sequence and tracker, then averaged per tracker (best SR first): PR, SR, NPR, fps, the
    fraction of frames whose box area is within AREA_BAND of the ground truth and the median ratio."""
    low, high = AREA_BAND
    band = f"{low:g}-{high:g}x"
    width = max([len("sequence")] + [len(r.sequence.name) for r in results])
    twidth = max([len("tracker")] + [len(o.tracker) for r in results for o in r.outcomes])
    scores = f"{'PR':>6}  {'SR':>6}  {'NPR':>6}  {'fps':>7}  {'in ' + band:>9}  {'area x':>6}"
    header = f"{'sequence':<{width}}  {'tracker':<{twidth}}  {scores}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for result in results:
        for o in result.outcomes:
            if o.scores is None:
                row = f"failed: {o.failure}"
            else:
                s = o.scores
                row = (f"{_fmt(s.pr):>6}  {_fmt(s.sr):>6}  {_fmt(s.npr):>6}  {_fmt(o.run.fps, 1):>7}  "
                       f"{_size_columns(o.size)}")
            print(f"{result.sequence.name:<{width}}  {o.tracker:<{twidth}}  {row}", file=out)
    print("", file=out)
    print(f"average over sequences ({len(results)} in all; area columns pool the frames)", file=out)
    header = f"{'tracker':<{twidth}}  {scores}  {'sequences':>9}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for name, o in sorted(overall.items(), key=lambda item: _best_first(item[1].scores.sr)):
        s = o.scores
        print(f"{name:<{twidth}}  {_fmt(s.pr):>6}  {_fmt(s.sr):>6}  {_fmt(s.npr):>6}  {_fmt(o.fps, 1):>7}  "
              f"{_size_columns(o.size)}  {o.sequences:>9}", file=out)


def _file_stem(name: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "sequence"
    candidate, n = stem, 2
    while candidate in used:
        candidate, n = f"{stem}_{n}", n + 1
    used.add(candidate)
    return candidate


def write_outputs(results: list[SequenceOutcome], overall: dict[str, Overall], report: dict,
                  output_dir: Path, analysis: bool = False, progress: bool = True) -> None:
    """results.json, precision / success plots per sequence and overall; with `analysis`, per
    sequence and tracker `<sequence>_<tracker>_timeline.png` and `<sequence>_<tracker>_worst.png`."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    used: set[str] = {"overall"}
    stems = {}
    for result in results:
        scores = {o.tracker: o.scores for o in result.outcomes if o.scores is not None}
        if not scores:
            continue
        stem = stems[id(result)] = _file_stem(result.sequence.name, used)
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
    if analysis:
        runs = [(r, o) for r in results if id(r) in stems for o in r.outcomes if o.scores is not None]
        for result, o in tqdm(runs, desc="failure analysis", unit="run", disable=not progress,
                              file=sys.stderr, leave=False):
            name = f"{stems[id(result)]}_{_file_stem(o.tracker, set())}"
            title = f"{o.tracker} on {result.sequence.name}: SR {_fmt(o.scores.sr)}, PR {_fmt(o.scores.pr)}"
            timeline_plot(o.run, o.errors, o.size, output_dir / f"{name}_timeline.png", title)
            worst_frames_strip(o.run, result.sequence, o.errors, o.size, output_dir / f"{name}_worst.png",
                               f"worst frames: {o.tracker} on {result.sequence.name}")
