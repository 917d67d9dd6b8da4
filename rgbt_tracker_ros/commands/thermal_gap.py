"""`rgbt-tracker thermal-gap`: how far each synthetic thermal world is from real thermal frames
(evaluation/thermal_gap.py), and a picture of both side by side.

Prints, per world, the Jensen-Shannon distance of the gradient and intensity histograms to the real
frames' and the edge share; writes gap.json and worlds.png (rows: real frames, the blurred world,
the structured world; the ground-truth box drawn) and worlds_synthetic.png (the synthetic rows only,
for publishing: the real sequences may not be republished) to --output-dir.
Exit codes: 0 done; 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from rgbt_tracker_ros.commands.runner import guarded, standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers import load_sequences
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, synthetic_sequences
from rgbt_tracker_ros.data.synthetic.config import THERMAL_WORLDS
from rgbt_tracker_ros.evaluation.thermal_gap import frame_set_statistics, gap, stretched

# The structured world as the training configs draw it (config/training/student_thermal_world.yaml).
WORLD_RANGES = {"blurred": {}, "structured": {"target_size": (0.03, 0.5), "aspect_ratio": (0.2, 5.0)}}
_TILE = (240, 180)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sequences", required=True, metavar="DIR",
                        help="real thermal sequences (any layout the readers know), e.g. ../shared/data/real")
    parser.add_argument("--synthetic", type=int, default=40, help="validation sequences per world (default %(default)s)")
    parser.add_argument("--every", type=int, default=10,
                        help="every k-th real frame and every (2.5 k)-th synthetic frame (default %(default)s)")
    parser.add_argument("--output-dir", default="outputs/thermal_gap", metavar="DIR")


def run(args: argparse.Namespace) -> int:
    return guarded("thermal-gap", lambda: _run(args))


def _frames(sequences, every: int):
    for sequence in sequences:
        for i in range(0, len(sequence), every):
            yield sequence.thermal[i]


def _tile(sequence, index: int) -> np.ndarray:
    image = (stretched(sequence.thermal[index]) * 255.0).astype(np.uint8)
    scale = image.shape[1] / sequence.thermal[index].shape[1]
    image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    x, y, w, h = (np.asarray(sequence.groundtruth[index]) * scale).round().astype(int)
    cv2.rectangle(image, (x, y), (x + w, y + h), (0, 200, 0), 1)
    return cv2.resize(image, _TILE, interpolation=cv2.INTER_AREA)


def _run(args: argparse.Namespace) -> int:
    if args.synthetic < 1 or args.every < 1:
        raise InputError("--synthetic and --every must be at least 1")
    real = [s for s in load_sequences(args.sequences) if s.thermal is not None]
    if not real:
        raise InputError(f"no thermal sequence in {args.sequences}")
    reference = frame_set_statistics(_frames(real, args.every))
    report = {"real": {"sequences": [s.name for s in real], "frames": reference.frames,
                       "edge_share": reference.edge_share}, "worlds": {}}
    rows = [[_tile(s, len(s) // 3) for s in real] + [_tile(s, 2 * len(s) // 3) for s in real]]
    print(f"real: {len(real)} sequences, {reference.frames} frames, edge share {reference.edge_share:.3f}")
    print(f"{'world':<12}{'gradient JS':>13}{'intensity JS':>14}{'edge share':>12}")
    for world in THERMAL_WORLDS:
        config = SyntheticConfig(width=320, height=256, length=100, thermal_world=world, **WORLD_RANGES[world])
        sequences = synthetic_sequences("val", args.synthetic, config)
        figures = gap(reference, frame_set_statistics(_frames(sequences, max(1, int(2.5 * args.every)))))
        report["worlds"][world] = figures
        print(f"{world:<12}{figures['gradient_js']:>13.3f}{figures['intensity_js']:>14.3f}{figures['edge_share']:>12.3f}")
        rows.append([_tile(s, 30) for s in sequences[: len(rows[0])]])
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    width = max(len(r) for r in rows)
    blank = np.zeros((_TILE[1], _TILE[0], 3), np.uint8)
    picture = np.vstack([np.hstack(r + [blank] * (width - len(r))) for r in rows])
    cv2.imwrite(str(out / "worlds.png"), picture)
    # Without the real row: the real sequences are test material that may not be republished.
    cv2.imwrite(str(out / "worlds_synthetic.png"), picture[_TILE[1]:])
    (out / "gap.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {out / 'gap.json'} and {out / 'worlds.png'} (rows: real, {', '.join(THERMAL_WORLDS)})")
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main("thermal-gap", __doc__, add_arguments, run, argv)
