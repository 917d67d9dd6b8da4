"""`rgbt-tracker eval`: run trackers over sequences, print PR / SR / NPR / fps, write plots and JSON.

Exit codes: 0 all runs done; 2 bad input (missing path, empty folder, unknown tracker, a sequence a
tracker could not be initialised on), with a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rgbt_tracker_ros.commands.runner import guarded, json_output, standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.evaluation.campaign import (
    DEFAULT_TRACKERS,
    DEFAULT_TRACKERS_WITH_MODELS,
    STUDENT,
    StudentFactory,
    collect_sequences,
    default_trackers,
    evaluate_all,
    overall_by_tracker,
    parse_trackers,
    runnable_trackers,
    with_stress,
)
from rgbt_tracker_ros.evaluation.peers import MODEL_FILES, PeerModels
from rgbt_tracker_ros.evaluation.report import print_tables, report_json, write_outputs
from rgbt_tracker_ros.evaluation.runner import MODALITIES
from rgbt_tracker_ros.evaluation.stress import parse_stress_list


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sequences", nargs="+", default=[], metavar="PATH",
                        help="sequence folders or dataset roots")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="also evaluate on N sequences of the synthetic validation split")
    parser.add_argument("--trackers", default=None,
                        help="comma list of student, csrt, kcf, nano (NanoTrack v2), vit (VitTrack); a peer "
                             "runs on each modality a sequence has, csrt-thermal etc. pick one; default "
                             f"{DEFAULT_TRACKERS}, {DEFAULT_TRACKERS_WITH_MODELS} with --peer-models")
    parser.add_argument("--peer-models", type=Path, default=None, metavar="DIR",
                        help="folder with the nano and vit peers' ONNX files ("
                             + ", ".join(name for names in MODEL_FILES.values() for name in names)
                             + "), e.g. ../shared/models/peers; a peer whose files are missing is skipped")
    parser.add_argument("--modality", choices=MODALITIES, default="rgbt",
                        help="the student's input (single-camera sequences use the camera they have)")
    parser.add_argument("--stress", action="append", default=[], metavar="SPEC",
                        help="evaluate stress variants of every sequence instead of the sequences as they "
                             "are (repeatable or comma list; 'none' keeps the original beside them): "
                             "blank-CAM:A-B, saturated-CAM:A-B, frozen-CAM:A-B, noise-CAM:A-B (CAM thermal "
                             "or visible, A-B fractions of the sequence), shift-CAM:N (pixels), every:K")
    parser.add_argument("--model", default=None, metavar="PATH",
                        help="student model folder; default: the shipped student")
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads of the student")
    parser.add_argument("--output-dir", type=Path, default=None, metavar="DIR",
                        help="write precision / success plots (PNG) and results.json here")
    parser.add_argument("--analysis", action="store_true",
                        help="with --output-dir: per sequence and tracker, a timeline (IoU, box area / "
                             "ground-truth area, score, state per frame) and a strip of the worst frames")
    parser.add_argument("--score-init-frame", action="store_true",
                        help="score the initialisation frame too (excluded by default)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object on stdout; human output goes to stderr")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    return guarded("eval", lambda: _evaluate(args))


def _evaluate(args: argparse.Namespace) -> int:
    stdout, human, redirect = json_output(args.json)
    with redirect:
        if args.analysis and args.output_dir is None:
            raise InputError("--analysis writes images: give --output-dir DIR too")
        models = PeerModels(args.peer_models) if args.peer_models is not None else None
        trackers = args.trackers if args.trackers is not None else default_trackers(models)
        names = runnable_trackers(parse_trackers(trackers), models,
                                  on_skip=lambda note: print(f"rgbt-tracker eval: {note}", file=sys.stderr))
        specs = parse_stress_list(args.stress)
        sequences = with_stress(collect_sequences(args.sequences, args.synthetic), specs,
                                on_skip=lambda message: print(f"rgbt-tracker eval: {message}", file=sys.stderr))
        student = StudentFactory(args.model, args.threads) if STUDENT in names else None
        results = evaluate_all(names, sequences, student, args.modality,
                               exclude_init=not args.score_init_frame, progress=not args.no_progress,
                               on_failure=lambda message: print(f"rgbt-tracker eval: {message}", file=sys.stderr),
                               models=models)
        overall = overall_by_tracker(results)
        report = report_json(results, overall, {
            "trackers": trackers, "modality": args.modality, "model": args.model,
            "peer_models": None if models is None else str(models.folder), "analysis": bool(args.analysis),
            "score_init_frame": bool(args.score_init_frame), "stress": [spec.label for spec in specs]})
        print_tables(results, overall, human)
        if args.output_dir is not None:
            write_outputs(results, overall, report, args.output_dir, analysis=args.analysis,
                          progress=not args.no_progress)
            print(f"plots and results.json written to {args.output_dir}", file=human)
    if args.json:
        print(json.dumps(report), file=stdout)
    failures = sum(o.failure is not None for r in results for o in r.outcomes)
    if failures:
        print(f"rgbt-tracker eval: error: {failures} run(s) failed, see above", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main("eval", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
