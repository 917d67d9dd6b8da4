"""`rgbt-tracker ablation`: one table comparing models, written as JSON and markdown and printed.

`--models name=PATH ...`: PATH is an exported model folder (model.json + ONNX, run by ONNX Runtime
through RGBTTracker) or a PyTorch checkpoint (.pt: a training checkpoint or an exported student.pt,
run by RGBTTracker with a PyTorch backend, the same crops and post-processing; for models without an
ONNX export, e.g. a teacher). The columns are described in evaluation/ablation.py.
Exit codes: 0 done; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import os

# PyTorch's OpenMP threads spin-wait between operations; on a busy CPU (another run training, this
# process niced) that turns a 10 ms step into seconds. Passive waiting keeps the PyTorch-backed rows
# measurable; it must be set before torch loads, hence before the imports below.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from rgbt_tracker_ros.commands.runner import guarded, standalone_main  # noqa: E402
from rgbt_tracker_ros.evaluation.ablation import (  # noqa: E402
    ONNX,
    AblationSettings,
    ModelSpec,
    OnnxModel,
    ablation,
    markdown,
    print_table,
)
from rgbt_tracker_ros.evaluation.plots import ablation_plot  # noqa: E402
from rgbt_tracker_ros.training.torch_backend import TorchModel  # noqa: E402


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", nargs="+", required=True, metavar="NAME=PATH",
                        help="models to compare: an exported model folder or a .pt checkpoint each")
    parser.add_argument("--synthetic", type=int, default=40, metavar="N",
                        help="synthetic validation sequences (default %(default)s; 0 = none)")
    parser.add_argument("--synthetic-length", type=int, default=0, metavar="FRAMES",
                        help="frames per synthetic sequence (default: the generator's default)")
    parser.add_argument("--real", default=None, metavar="PATH",
                        help="real thermal-only sequences (a sequence folder or a dataset root), e.g. ../shared/data/real")
    parser.add_argument("--output", type=Path, default=Path("docs/ablation.json"), help="JSON table (default %(default)s)")
    parser.add_argument("--markdown", type=Path, default=Path("docs/ablation.md"), help="markdown table (default %(default)s)")
    parser.add_argument("--plot", type=Path, default=None,
                        help="bar chart of the SRs (default: the markdown path with .png)")
    parser.add_argument("--reference", default="", metavar="NAME",
                        help="add columns relative to this model: SR difference and step-latency speed-up")
    parser.add_argument("--baseline", default="", metavar="NAME",
                        help="add a column of SR differences to this model (e.g. the student without distillation)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of ONNX Runtime and torch (default %(default)s)")
    parser.add_argument("--latency-steps", type=int, default=100, help="timed steps per model per round (default %(default)s)")
    parser.add_argument("--latency-rounds", type=int, default=3, help="interleaved rounds (default %(default)s)")
    parser.add_argument("--latency-warmup", type=int, default=10, help="untimed steps before each round (default %(default)s)")
    parser.add_argument("--no-single-camera", "--no-synthetic-thermal", action="store_true", dest="no_single_camera",
                        help="skip the thermal-only and visible-only runs on the synthetic sequences")
    parser.add_argument("--title", default="Ablation", help="markdown heading")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def build_model(spec: ModelSpec, threads: int):
    return OnnxModel(spec, threads) if spec.backend == ONNX else TorchModel(spec, threads)


def run(args: argparse.Namespace) -> int:
    return guarded("ablation", lambda: _ablation(args))


def _ablation(args: argparse.Namespace) -> int:
    settings = AblationSettings(
        models=tuple(args.models), synthetic=args.synthetic, synthetic_length=args.synthetic_length,
        real=args.real, reference=args.reference, baseline=args.baseline, threads=args.threads,
        latency_steps=args.latency_steps, latency_rounds=args.latency_rounds, latency_warmup=args.latency_warmup,
        single_camera=not args.no_single_camera, progress=not args.no_progress,
    )
    report = ablation(settings, build_model)
    print_table(report["rows"], sys.stdout)  # first: an unwritable output path must not lose the run
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(args.title, report["rows"], report["settings"]))
        plot = ablation_plot(report["rows"], args.plot or args.markdown.with_suffix(".png"), args.title)
    except OSError as exc:
        print(f"rgbt-tracker ablation: error: cannot write the results: {exc}", file=sys.stderr)
        return 2
    print(f"\nwritten {args.output}, {args.markdown} and {plot}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main("ablation", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
