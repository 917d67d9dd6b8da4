"""`rgbt-tracker eval` on small in-memory sequences: JSON and plots, bad input, camera fallback, failed runs."""

import json

import pytest

from helpers.paths import PEER_MODELS
from helpers.sequences import RecordingTracker, moving_square
from rgbt_tracker_ros.commands import eval as eval_command
from rgbt_tracker_ros.data.sequence import Sequence
from rgbt_tracker_ros.evaluation import campaign


def _run_eval(argv, monkeypatch, sequences=None):
    if sequences is not None:
        # Stands in for the dataset readers: every path loads the given in-memory sequences.
        monkeypatch.setattr(campaign, "load_sequences", lambda path: list(sequences))
    return eval_command.main(argv)


def test_eval_json_and_outputs(tmp_path, monkeypatch, capsys):
    sequences = [moving_square(n=12, name="a"), moving_square(n=10, name="b")]
    code = _run_eval(["--sequences", str(tmp_path), "--trackers", "kcf,csrt-thermal", "--json",
                      "--no-progress", "--output-dir", str(tmp_path / "out")], monkeypatch, sequences)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)  # exactly one JSON object on stdout
    assert [s["name"] for s in report["sequences"]] == ["a", "b"]
    entry = report["sequences"][0]["trackers"]["csrt-thermal"]
    assert set(entry) >= {"PR", "SR", "NPR", "fps", "modality", "frames", "input_errors", "error"}
    assert entry["frames"] == 11 and entry["modality"] == "thermal" and entry["error"] is None
    assert set(report["overall"]) == {"kcf-visible", "kcf-thermal", "csrt-thermal"}
    assert report["overall"]["csrt-thermal"]["sequences"] == 2
    assert "PR" in captured.err and "csrt-thermal" in captured.err  # the table went to stderr
    out = tmp_path / "out"
    assert json.loads((out / "results.json").read_text()) == report
    for stem in ("a", "b", "overall"):
        assert (out / f"{stem}_precision.png").stat().st_size > 0
        assert (out / f"{stem}_success.png").stat().st_size > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--trackers", "csrt,mosse", "--sequences", "."], "unknown tracker 'mosse'"),
        (["--trackers", "csrt", "--sequences", "/no/such/folder"], "no such file or folder"),
        (["--trackers", "csrt"], "nothing to evaluate"),
    ],
)
def test_eval_bad_input_exits_2_with_one_line(argv, message, monkeypatch, capsys):
    assert _run_eval(argv, monkeypatch) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_eval_empty_folder_exits_2(tmp_path, monkeypatch, capsys):
    assert _run_eval(["--trackers", "kcf", "--sequences", str(tmp_path)], monkeypatch, sequences=[]) == 2
    assert "no sequence found" in capsys.readouterr().err


def test_eval_student_falls_back_to_the_camera_a_sequence_has(monkeypatch, capsys):
    # A stand-in RGBTTracker: the command's plumbing, not the network, is under test here.
    built = []

    def fake_student(config):
        built.append(config)
        return RecordingTracker()

    monkeypatch.setattr(campaign, "RGBTTracker", fake_student)
    square = moving_square(n=6)
    thermal_only = Sequence("thermal-only", None, square.thermal, square.groundtruth)
    code = _run_eval(["--sequences", ".", "--trackers", "student,kcf-thermal,kcf", "--modality", "visible",
                      "--threads", "3", "--json", "--no-progress"], monkeypatch, [thermal_only])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    trackers = report["sequences"][0]["trackers"]
    assert list(trackers) == ["student", "kcf-thermal"]  # kcf-thermal once; no visible camera for kcf-visible
    assert trackers["student"]["modality"] == "thermal"
    assert len(built) == 1 and built[0].threads == 3 and built[0].model is None


def test_eval_run_that_cannot_initialise_is_reported_and_exits_2(monkeypatch, capsys):
    sequence = moving_square(n=5)
    sequence.groundtruth[0] = [20, 20, 1, 1]  # too small to track
    code = _run_eval(["--sequences", ".", "--trackers", "kcf-thermal", "--json", "--no-progress"],
                     monkeypatch, [sequence])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    entry = json.loads(captured.out)["sequences"][0]["trackers"]["kcf-thermal"]
    assert entry["PR"] is None and "too small" in entry["error"]


def test_eval_stress_variants_are_named_and_a_missing_camera_is_skipped(monkeypatch, capsys):
    square = moving_square(n=12)
    thermal_only = Sequence("t", None, square.thermal, square.groundtruth)
    code = _run_eval(["--sequences", ".", "--trackers", "csrt-thermal", "--json", "--no-progress",
                      "--stress", "none,blank-thermal:0.5-1", "--stress", "frozen-visible:0.2-0.4"],
                     monkeypatch, [thermal_only])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert [s["name"] for s in report["sequences"]] == ["t", "t@blank-thermal:0.5-1"]
    assert report["settings"]["stress"] == ["none", "blank-thermal:0.5-1", "frozen-visible:0.2-0.4"]
    assert "skipped: stress frozen-visible:0.2-0.4: sequence t has no visible camera" in captured.err
    trackers = [s["trackers"]["csrt-thermal"] for s in report["sequences"]]
    assert trackers[0]["SR"] > 0.75 and trackers[1]["SR"] < trackers[0]["SR"]  # blind for half of it


def test_eval_bad_stress_spec_exits_2_with_one_line(monkeypatch, capsys):
    assert _run_eval(["--sequences", ".", "--trackers", "kcf", "--stress", "blank-thermal:0.6-0.2"],
                     monkeypatch, [moving_square(n=4)]) == 2
    err = capsys.readouterr().err
    assert "bad stress spec 'blank-thermal:0.6-0.2'" in err and len(err.strip().splitlines()) == 1


def test_eval_analysis_writes_timelines_and_strips_and_reports_box_size(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(campaign, "RGBTTracker", lambda config: RecordingTracker())
    out = tmp_path / "out"
    code = _run_eval(["--sequences", ".", "--trackers", "student,kcf-thermal", "--json", "--no-progress",
                      "--analysis", "--output-dir", str(out)], monkeypatch, [moving_square(n=10, name="sq")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    student = report["sequences"][0]["trackers"]["student"]
    assert student["area_within_band"] == 1.0 and student["area_ratio_median"] == 1.0  # keeps the init size
    assert report["overall"]["student"]["area_within_band"] == 1.0 and report["area_band"] == [0.5, 2.0]
    assert "in 0.5-2x" in captured.err and "100 %" in captured.err
    for tracker in ("student", "kcf-thermal"):
        assert (out / f"sq_{tracker}_timeline.png").stat().st_size > 10_000
        assert (out / f"sq_{tracker}_worst.png").stat().st_size > 10_000


def test_eval_analysis_needs_an_output_dir(monkeypatch, capsys):
    assert _run_eval(["--sequences", ".", "--trackers", "kcf", "--analysis"], monkeypatch, [moving_square(n=4)]) == 2
    assert "--analysis writes images: give --output-dir" in capsys.readouterr().err


def test_eval_network_peer_without_models_is_skipped_with_one_note(tmp_path, monkeypatch, capsys):
    code = _run_eval(["--sequences", ".", "--trackers", "nano,vit-thermal,kcf-thermal,nano-visible", "--json",
                      "--no-progress", "--peer-models", str(tmp_path)], monkeypatch, [moving_square(n=5)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert list(json.loads(captured.out)["overall"]) == ["kcf-thermal"]
    notes = [line for line in captured.err.splitlines() if "skipped" in line]
    assert notes == [f"rgbt-tracker eval: nano skipped: nanotrack_v2_backbone.onnx, nanotrack_v2_head.onnx "
                     f"not found in {tmp_path}",
                     f"rgbt-tracker eval: vit skipped: vittrack_2023sep.onnx not found in {tmp_path}"]
    assert _run_eval(["--sequences", ".", "--trackers", "vit"], monkeypatch, [moving_square(n=5)]) == 2
    assert "no tracker left to run" in capsys.readouterr().err


def test_eval_with_peer_models_runs_nano_and_vit_by_default(monkeypatch, capsys):
    if not PEER_MODELS.is_dir():
        pytest.skip(f"peer models not found at {PEER_MODELS}")
    monkeypatch.setattr(campaign, "RGBTTracker", lambda config: RecordingTracker())
    code = _run_eval(["--sequences", ".", "--json", "--no-progress", "--peer-models", str(PEER_MODELS)],
                     monkeypatch, [moving_square(n=8)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["settings"]["trackers"] == "student,csrt,kcf,nano,vit"
    assert set(report["overall"]) == {"student", *(f"{k}-{m}" for k in ("csrt", "kcf", "nano", "vit")
                                                  for m in ("visible", "thermal"))}
    for name in ("nano-thermal", "vit-visible"):
        assert report["overall"][name]["PR"] == 1.0 and report["overall"][name]["fps"] > 0
