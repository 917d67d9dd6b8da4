"""`rgbt-tracker provider-check --models NAME=FOLDER ...`: exported models on the execution providers
this machine offers against the CPU provider, in one run (evaluation/provider_check.py): where each
graph lands and what the runtime warned, the largest output and box differences on the same crops
and frames, step and frame latency on both, the step ratio of each model to the first.

On a CPU-only machine `--providers cpu` is the dry run of scripts/device_check.sh.
With --json exactly one JSON object goes to stdout and the human summary to stderr.
Exit codes: 0 done; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys

from rgbt_tracker_ros.commands.runner import guarded, json_output, standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.evaluation.ablation import ONNX, parse_models
from rgbt_tracker_ros.evaluation.provider_check import ProviderCheckSettings, provider_check
from rgbt_tracker_ros.tracking.config import parse_providers

NAME = "provider-check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", nargs="+", required=True, metavar="NAME=FOLDER",
                        help="exported model folders; the first is the base of the step ratios")
    parser.add_argument("--providers", default="tensorrt,cuda,cpu", metavar="LIST",
                        help="providers under test, in priority order (default %(default)s)")
    parser.add_argument("--reference", default="cpu", metavar="LIST", help="reference providers (default %(default)s)")
    parser.add_argument("--crops", type=int, default=8, help="noise crop sets for the output parity (default %(default)s)")
    parser.add_argument("--frames", type=int, default=60, help="tracked frames for the box parity (default %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="latency repetitions (default %(default)s)")
    parser.add_argument("--steps", type=int, default=100, help="timed calls per repetition (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls before each (default %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of ONNX Runtime (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout; human text to stderr")


def _models(specs: list[str]) -> dict[str, str]:
    """NAME=FOLDER as the ablation reads --models (evaluation.ablation.parse_models); a checkpoint,
    which the ablation also takes, is refused: the providers run exported graphs."""
    models = {}
    for spec in parse_models(specs):
        if spec.backend != ONNX:
            raise InputError(f"model {spec.name}: {spec.path} is a PyTorch checkpoint; provider-check runs "
                             "exported model folders (NAME=FOLDER with model.json): export it first")
        models[spec.name] = str(spec.path)
    return models


def run(args: argparse.Namespace) -> int:
    return guarded(NAME, lambda: _check(args))


def _check(args: argparse.Namespace) -> int:
    stdout, human, redirect = json_output(args.json)
    with redirect:
        settings = ProviderCheckSettings(
            models=_models(args.models), providers=parse_providers(args.providers),
            reference=parse_providers(args.reference), crops=args.crops, frames=args.frames,
            runs=args.runs, steps=args.steps, warmup=args.warmup, threads=args.threads,
        )
        report = provider_check(settings)
    print_summary(report, human)
    if args.json:
        print(json.dumps(report), file=stdout)
    return 0


def print_summary(report: dict, out) -> None:
    for name, entry in report["models"].items():
        print(f"{name} ({entry['kind']}, {entry['params']} params, {entry['folder']}): asked {','.join(entry['asked'])}; "
              f"template graph on {entry['template_provider']}, search graph on {entry['search_provider']}",
              file=out)
        for warning in entry["warnings"]:
            print(f"  runtime warning: {warning}", file=out)
        diff = entry["output_max_abs_diff"]
        print(f"  against {entry['reference_provider']}: max abs diff " +
              ", ".join(f"{k} {v:.2e}" for k, v in diff.items()) +
              f"; tracked boxes {entry['tracking_diff']['box_px']:.3f} px, scores "
              f"{entry['tracking_diff']['score']:.2e} over {entry['tracking_diff']['frames']} frames", file=out)
        for provider, figures in entry["latency"].items():
            print(f"  {provider}: step p50 {figures['step_ms_p50']:.2f} ms, p95 {figures['step_ms_p95']:.2f} ms; "
                  f"frame p50 {figures['frame_ms_p50']:.2f} ms, p95 {figures['frame_ms_p95']:.2f} ms", file=out)
        if entry["step_p50_ratio_to_first"] is not None:
            print(f"  step p50 / first model's: {entry['step_p50_ratio_to_first']:.2f}", file=out)


def main(argv: list[str] | None = None) -> int:
    return standalone_main(NAME, __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
