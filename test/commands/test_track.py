"""`rgbt-tracker track`: lines aligned with frames, bad input, a sequence folder."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
from rgbt_tracker_ros.commands import track as track_command
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.data.writer import write_sequence_folder

from helpers.oracle_model import frames as _frames
from helpers.paths import REPO

CPU = "CPUExecutionProvider"
GFLOP_BUDGET = 1.0  # per tracking step (the search graph)


def _small_sequence(first_annotated: int = 3, n: int = 7) -> Sequence:
    frames = [_frames(i) for i in range(n)]
    groundtruth = np.array([f[2] for f in frames])
    groundtruth[:first_annotated] = np.nan
    return Sequence(
        name="small", visible=ArrayFrames([f[0] for f in frames]), thermal=ArrayFrames([f[1] for f in frames]),
        groundtruth=groundtruth,
    )


def _track_args(tmp_path: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    track_command.add_arguments(parser)
    return parser.parse_args(["--synthetic", "0", "--output", str(tmp_path / "boxes.txt"), "--providers", "cpu",
                              "--threads", "1", "--no-progress", *extra])


def _read_boxes(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split(",")] for line in path.read_text().splitlines()]


def test_track_command_writes_lines_aligned_with_frames(tmp_path, monkeypatch, capsys):
    sequence = _small_sequence(first_annotated=3)
    monkeypatch.setattr(track_command, "make_sequence", lambda seed: sequence)
    assert track_command.run(_track_args(tmp_path)) == 0
    rows = _read_boxes(tmp_path / "boxes.txt")
    assert len(rows) == len(sequence)
    assert all(np.isnan(v) for row in rows[:3] for v in row)
    assert (tmp_path / "boxes.txt").read_text().splitlines()[0] == "NaN,NaN,NaN,NaN"
    assert np.allclose(rows[3], sequence.groundtruth[3], atol=0.01)
    assert all(np.all(np.isfinite(row)) for row in rows[3:])
    out = capsys.readouterr().out
    assert CPU in out and "fps" in out and "PR" in out and "SR" in out

    # --init starts on frame 0 with the given box.
    assert track_command.run(_track_args(tmp_path, "--init", "300,220,40,40", "--modality", "thermal")) == 0
    rows = _read_boxes(tmp_path / "boxes.txt")
    assert len(rows) == len(sequence) and np.allclose(rows[0], [300, 220, 40, 40])


def test_track_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert track_command.run(_track_args(tmp_path, "--init", "1,2,nan,4")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NaN" in err[0]
    parser = argparse.ArgumentParser()
    track_command.add_arguments(parser)
    args = parser.parse_args(["--sequence", str(tmp_path / "nope"), "--output", str(tmp_path / "b.txt")])
    assert track_command.run(args) == 2
    assert "no such sequence" in capsys.readouterr().err


def test_track_cli_exit_code_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "rgbt_tracker_ros.cli", "track", "--synthetic", "0", "--output",
         str(tmp_path / "missing_dir" / "b.txt")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "does not exist" in proc.stderr




def test_track_command_on_a_sequence_folder(tmp_path, capsys):

    sequence = _small_sequence(first_annotated=2, n=5)
    folder = write_sequence_folder(sequence, tmp_path / "seq")
    parser = argparse.ArgumentParser()
    track_command.add_arguments(parser)
    args = parser.parse_args(["--sequence", str(folder), "--output", str(tmp_path / "boxes.txt"),
                              "--providers", "cpu", "--no-progress"])
    assert track_command.run(args) == 0
    lines = (tmp_path / "boxes.txt").read_text().splitlines()
    assert len(lines) == 5 and lines[:2] == ["NaN,NaN,NaN,NaN"] * 2
    assert np.allclose([float(v) for v in lines[2].split(",")], sequence.groundtruth[2], atol=0.01)
    assert "initialised on frame 2" in capsys.readouterr().out
