"""`rgbt-tracker bench`: parameters, GFLOPs and latency of the student, and its per-frame time beside
the OpenCV peers' on the same frames (evaluation/bench.py, evaluation/peer_bench.py).

With --json exactly one JSON object goes to stdout and the human summary to stderr.
Exit codes: 0 done; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys

from rgbt_tracker_ros.commands.runner import add_runtime_arguments, guarded, json_output, standalone_main
from rgbt_tracker_ros.evaluation.bench import BenchSettings, benchmark
from rgbt_tracker_ros.evaluation.peer_bench import STUDENT_RGBT, STUDENT_THERMAL
from rgbt_tracker_ros.tracking.config import parse_providers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, metavar="PATH",
                        help="model folder or model.json; default: the shipped student")
    parser.add_argument("--runs", type=int, default=5,
                        help="repetitions; each figure is their median (default %(default)s)")
    parser.add_argument("--steps", type=int, default=200, help="timed calls per run (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls before each run (default %(default)s)")
    parser.add_argument("--peers", default=None, metavar="LIST",
                        help="OpenCV peers timed beside the student on the thermal frames: comma list of csrt, "
                             "kcf, nano, vit, or none; default csrt,kcf, plus nano,vit with --peer-models")
    parser.add_argument("--peer-models", default=None, metavar="DIR",
                        help="folder with the nano and vit peers' ONNX files, e.g. ../shared/models/peers")
    add_runtime_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout; human text to stderr")


def run(args: argparse.Namespace) -> int:
    return guarded("bench", lambda: _bench(args))


def _bench(args: argparse.Namespace) -> int:
    stdout, human, redirect = json_output(args.json)
    with redirect:
        settings = BenchSettings(model=args.model, runs=args.runs, steps=args.steps, warmup=args.warmup,
                                 threads=args.threads, providers=parse_providers(args.providers),
                                 peers=args.peers, peer_models=args.peer_models)
        report = benchmark(settings)
    print_summary(report, human)
    if args.json:
        print(json.dumps(report), file=stdout)
    return 0


def print_summary(report: dict, out) -> None:
    load = report["load_average_1min"]
    print(f"model {report['model']} {report['model_version']} on {report['provider']}, "
          f"{report['threads']} threads", file=out)
    if report["gflops"] is None:
        print(f"params / GFLOPs not counted: {report.get('note')}", file=out)
    else:
        print(f"params {report['params']:,} (search graph; template graph {report['params_template_graph']:,})",
              file=out)
        print(f"GFLOPs per tracking step {report['gflops']:.3f} (Conv/ConvTranspose/MatMul/Gemm, 2 per MAC; "
              f"element-wise {report['other_gflops_not_counted']:.4f} not counted)", file=out)
    print(f"search step  p50 {report['step_ms_p50']:.2f} ms  p95 {report['step_ms_p95']:.2f} ms", file=out)
    print(f"full frame   p50 {report['frame_ms_p50']:.2f} ms  p95 {report['frame_ms_p95']:.2f} ms  "
          f"({report['fps']:.1f} fps; 640x512 uint16 thermal + 640x480 RGB in, box out)", file=out)
    print_peers(report, out)
    print(f"median over {report['runs']} runs of {report['steps']} steps; load average {load['before']} -> "
          f"{load['after']} on {report['cpu_count']} CPUs", file=out)


def print_peers(report: dict, out) -> None:
    for note in report["peer_notes"]:
        print(f"rgbt-tracker bench: {note}", file=out)
    comparison = report["peers"]
    if comparison is None:
        return
    print("per-frame time beside the peers (interleaved frame by frame on the same frames; peers and "
          "student-thermal on the 640x512 thermal frames):", file=out)
    width = max(len(name) for name in comparison["trackers"])
    print(f"  {'tracker':<{width}}  {'p50 ms':>7}  {'p95 ms':>7}  {'lost':>4}  "
          f"{STUDENT_THERMAL + ' / peer':>22}  {STUDENT_RGBT + ' / peer':>19}", file=out)
    for name, entry in comparison["trackers"].items():
        ratio = comparison["ratios"].get(name)
        ratios = "" if ratio is None else f"  {ratio[STUDENT_THERMAL]:>22.2f}  {ratio[STUDENT_RGBT]:>19.2f}"
        print(f"  {name:<{width}}  {entry['frame_ms_p50']:>7.2f}  {entry['frame_ms_p95']:>7.2f}  "
              f"{entry['lost_frames_last_run']:>4}{ratios}", file=out)


def main(argv: list[str] | None = None) -> int:
    return standalone_main("bench", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
