"""`rgbt-tracker compress`: a tiny run of the whole pipeline (RGB teacher, distil, prune, fine-tune,
export), a second run that skips the finished stages, and a bad override."""

import json

import pytest

from helpers.tiny_runs import TINY_DATA, run_cli, tiny_optim

pytestmark = pytest.mark.torch


TINY = "name: tiny_thermal\n" + TINY_DATA + f"""
teacher:
  optim: {tiny_optim(1)}
optim: {tiny_optim(1)}
finetune: {tiny_optim(1)}
pruning: {{keep: 0.5}}
export: {{output: OUT/thermal_pruned}}
run: {{output_dir: OUT/run, workers: 0, threads: 1}}
"""


@pytest.mark.slow
def test_tiny_compress_pipeline_completes_and_exports(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.replace("OUT", str(tmp_path)))
    proc = run_cli("compress", "--config", str(config), "--no-progress", "--set", "compression.levels=[1, 2, -1]")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "max |ONNX - PyTorch|" in proc.stdout
    run = tmp_path / "run"
    for name in ("teacher/best.pt", "distil/best.pt", "distil/history.jsonl", "pruned.pt", "finetune/best.pt",
                 "compression.json"):
        assert (run / name).is_file(), name
    summary = json.loads((run / "compression.json").read_text())
    assert 0.4 <= summary["pruning"]["kept_fraction"]["macs"] <= 0.5
    history = [json.loads(line) for line in (run / "distil" / "history.jsonl").read_text().splitlines()]
    assert "compress" in history[0] and history[0]["val_compress"] > 0
    meta = json.loads((tmp_path / "thermal_pruned" / "model.json").read_text())
    assert meta["name"] == "thermal_pruned" and meta["input_modality"] == "thermal"
    assert {"template.onnx", "search.onnx", "student.pt"} <= {p.name for p in (tmp_path / "thermal_pruned").iterdir()}
    # A second run skips the finished stages; another pruning fraction redoes only the fine-tuning
    # (here in bf16: a change of precision keeps the finished stages).
    proc = run_cli("compress", "--config", str(config), "--no-progress", "--set", "compression.levels=[1, 2, -1]",
                   "--set", "pruning.keep=0.7", "--set", "run.precision=bf16")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "stage teacher: done already" in proc.stderr and "stage distil: done already" in proc.stderr
    assert "stage finetune:" in proc.stderr and "starting the stage afresh" in proc.stderr
    summary = json.loads((run / "compression.json").read_text())
    assert 0.6 <= summary["pruning"]["kept_fraction"]["macs"] <= 0.7


def test_compress_rejects_a_bad_override(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.replace("OUT", str(tmp_path)))
    proc = run_cli("compress", "--config", str(config), "--set", "pruning.keep=2")
    assert proc.returncode == 2 and "pruning.keep" in proc.stderr and "Traceback" not in proc.stderr
