"""`rgbt-tracker thermal-gap` on the real thermal sequences (read in place): the structured world is
closer to them than the blurred one, the picture and the JSON are written."""

import json

import cv2
import pytest

from helpers.paths import REAL_DATA
from helpers.tiny_runs import run_cli

pytestmark = pytest.mark.skipif(not REAL_DATA.is_dir(), reason="real sequences absent")


def test_structured_world_is_closer_to_real_thermal_frames(tmp_path):
    proc = run_cli("thermal-gap", "--sequences", str(REAL_DATA), "--synthetic", "12", "--every", "20",
                   "--output-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((tmp_path / "gap.json").read_text())
    blurred, structured = report["worlds"]["blurred"], report["worlds"]["structured"]
    # Measured with 40 sequences, every 10th real frame: gradient JS 0.336 -> 0.231, edge share 0.035 -> 0.133.
    assert structured["gradient_js"] < blurred["gradient_js"] - 0.02  # this run: 0.304 -> 0.262
    assert structured["edge_share"] > 1.4 * blurred["edge_share"]  # this run: 0.058 -> 0.093
    picture = cv2.imread(str(tmp_path / "worlds.png"))
    published = cv2.imread(str(tmp_path / "worlds_synthetic.png"))
    assert picture.shape[0] == 3 * 180 and published.shape[0] == 2 * 180


def test_a_folder_without_sequences_is_one_line(tmp_path):
    proc = run_cli("thermal-gap", "--sequences", str(tmp_path), "--output-dir", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
