"""`rgbt-tracker train-bench`: seconds per training step under each precision, nothing written."""

import pytest

from helpers.tiny_runs import TINY_DATA, run_cli, tiny_optim

pytestmark = [pytest.mark.torch, pytest.mark.slow]

TINY_CONFIG = "name: tiny\n" + TINY_DATA + f"""
optim: {tiny_optim(2)}
run: {{output_dir: OUT, workers: 0, threads: 1}}
"""


def test_train_bench_times_both_precisions_and_writes_nothing(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG.replace("OUT", str(tmp_path / "run")))
    proc = run_cli("train-bench", "--config", str(config), "--steps", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split(" | ") for line in proc.stdout.splitlines() if line.startswith(("fp32 |", "bf16 |"))]
    assert [r[0] for r in rows] == ["fp32", "bf16"]
    assert all(float(r[1]) > 0 and r[3].endswith("x") for r in rows)
    assert not (tmp_path / "run").exists()
    proc = run_cli("train-bench", "--config", str(config), "--steps", "0")
    assert proc.returncode == 2 and "--steps must be at least 1" in proc.stderr
