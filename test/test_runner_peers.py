"""The sequence runner, the OpenCV peers and the eval command on small in-memory sequences and on a real
thermal sequence (read from ../shared/data/real, skipped when that folder is absent)."""

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import ArrayFrames, ImageFiles, Sequence
from rgbt_tracker_ros.evaluation import eval_command
from rgbt_tracker_ros.evaluation.metrics import score
from rgbt_tracker_ros.evaluation.peers import OpenCVPeer, peers_for, thermal_to_visible_of
from rgbt_tracker_ros.evaluation.runner import run_errors, run_tracker
from rgbt_tracker_ros.tracking.result import TrackResult, TrackState

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
SIDE = 20


def moving_square(n: int = 30, thermal_step: int = 1, thermal_dtype=np.uint16, name: str = "square") -> Sequence:
    """A textured square moving 3 px right and 1.5 px down per frame over a blocky static background;
    visible uint8 RGB 160x120, thermal radiometric counts (decimated by thermal_step)."""
    rng = np.random.default_rng(0)
    background = np.kron(rng.normal(0.0, 1.0, (15, 20)), np.ones((8, 8)))
    texture = rng.normal(0.0, 1.0, (SIDE, SIDE))
    visible, thermal, gt = [], [], []
    for i in range(n):
        x, y = 20 + round(3 * i), 20 + round(1.5 * i)
        grey = 100.0 + 20.0 * background
        grey[y:y + SIDE, x:x + SIDE] = 200.0 + 20.0 * texture
        visible.append(np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2))
        counts = 8000.0 + 50.0 * background
        counts[y:y + SIDE, x:x + SIDE] = 8600.0 + 80.0 * texture
        thermal.append(counts[::thermal_step, ::thermal_step].astype(thermal_dtype))
        gt.append([x, y, SIDE, SIDE])
    return Sequence(name, ArrayFrames(visible), ArrayFrames(thermal), np.array(gt, dtype=np.float64))


class RecordingTracker:
    """Stays on its init box; remembers what it was fed; raises InputError on chosen frames."""

    name = "recorder"

    def __init__(self, fail_on: tuple[int, ...] = ()):
        self.fail_on = fail_on
        self.calls = 0
        self.fed: list[tuple[bool, bool]] = []

    def initialize(self, visible, thermal, box):
        self.box = np.asarray(box, dtype=np.float64)
        self.fed.append((visible is not None, thermal is not None))

    def track(self, visible, thermal):
        self.calls += 1
        self.fed.append((visible is not None, thermal is not None))
        if self.calls in self.fail_on:
            raise InputError("bad frame")
        self.box = self.box + [1.0, 0.0, 0.0, 0.0]
        return TrackResult(self.box.copy(), 0.9, TrackState.TRACKING)


def test_csrt_follows_moving_square_on_each_modality():
    sequence = moving_square()
    peers = peers_for("csrt", sequence)
    assert [p.name for p in peers] == ["csrt-visible", "csrt-thermal"]
    for peer in peers:
        run = run_tracker(peer, sequence, modality=peer.modality, progress=False)
        assert run.predictions.shape == (len(sequence), 4)
        assert run.tracked_frames == len(sequence) - 1 and run.fps > 0
        scores = score(run_errors(run, sequence))
        assert scores.pr == 1.0
        assert scores.sr > 0.75, peer.name  # measured 0.946 visible, 0.857 thermal (max 20/21)
        assert set(run.states[1:]) == {TrackState.TRACKING} and np.all(run.scores[1:] == 1.0)


def test_thermal_peer_maps_boxes_through_the_homography():
    # Thermal at half resolution (float32 temperatures): boxes in and out stay in visible pixels.
    sequence = moving_square(thermal_step=2, thermal_dtype=np.float32)
    homography = thermal_to_visible_of(sequence)  # default: thermal scaled onto the visible size
    np.testing.assert_allclose(homography, np.diag([2.0, 2.0, 1.0]))
    run = run_tracker(OpenCVPeer("csrt", "thermal", homography), sequence, modality="thermal", progress=False)
    np.testing.assert_allclose(run.predictions[-1], sequence.groundtruth[-1], atol=6.0)
    assert score(run_errors(run, sequence)).pr == 1.0


def test_runner_init_frame_rows_and_switched_off_modality():
    sequence = moving_square(n=8)
    tracker = RecordingTracker()
    run = run_tracker(tracker, sequence, modality="thermal", init_frame=3, progress=False)
    assert np.all(np.isnan(run.predictions[:3]))
    np.testing.assert_allclose(run.predictions[3], sequence.groundtruth[3])
    np.testing.assert_allclose(run.predictions[7], sequence.groundtruth[3] + [4, 0, 0, 0])
    assert run.states[:4] == [None] * 4 and run.states[4] is TrackState.TRACKING
    assert tracker.fed == [(False, True)] * 5  # visible switched off: None every call
    assert run.modality == "thermal" and run.init_frame == 3
    # Custom init box; a thermal-only sequence run as 'rgbt' gets None for visible.
    thermal_only = Sequence("t", None, sequence.thermal, sequence.groundtruth)
    tracker = RecordingTracker()
    run = run_tracker(tracker, thermal_only, modality="rgbt", init_box=[10, 10, 5, 5], progress=False)
    np.testing.assert_allclose(run.predictions[0], [10, 10, 5, 5])
    assert run.modality == "thermal" and set(tracker.fed) == {(False, True)}
    with pytest.raises(InputError, match="no visible frames"):
        run_tracker(RecordingTracker(), thermal_only, modality="visible", progress=False)


def test_input_error_on_a_frame_does_not_end_the_run():
    sequence = moving_square(n=8)
    run = run_tracker(RecordingTracker(fail_on=(2, 3)), sequence, progress=False)  # frames 2 and 3
    assert run.error_frames == [2, 3] and run.input_errors == 2
    np.testing.assert_allclose(run.predictions[2], run.predictions[1])
    np.testing.assert_allclose(run.predictions[3], run.predictions[1])
    assert run.states[2] is None and np.isnan(run.scores[2])
    assert np.all(np.isfinite(run.predictions)) and run.states[7] is TrackState.TRACKING


def test_peer_rejects_missing_modality_and_unknown_kind():
    sequence = moving_square(n=2)
    visible, thermal = sequence.frame(0)
    peer = OpenCVPeer("kcf", "thermal")
    with pytest.raises(InputError, match="needs a thermal image"):
        peer.initialize(visible, None, sequence.groundtruth[0])
    with pytest.raises(InputError, match="before initialize"):
        peer.track(visible, thermal)
    with pytest.raises(InputError, match="unknown OpenCV peer"):
        OpenCVPeer("mosse", "thermal")


def _real_sequence(folder: str) -> Sequence:
    path = REAL_DATA / folder
    if not path.is_dir():
        pytest.skip(f"real data not found at {path}")
    gt = np.loadtxt(path / "groundtruth.txt", delimiter=",")
    return Sequence(folder, None, ImageFiles(sorted((path / "infrared").iterdir()), colour=False), gt)


def test_csrt_on_real_airplane_matches_reference():
    # README reference (OpenCV 5.0, thermal, first frame excluded): CSRT PR 1.000, SR 0.737.
    # Measured here with these metrics: PR 1.000, SR 0.737.
    sequence = _real_sequence("ptbtir_airplane_tir_only")
    run = run_tracker(OpenCVPeer("csrt", "thermal"), sequence, modality="thermal", progress=False)
    scores = score(run_errors(run, sequence))
    assert scores.frames == len(sequence) - 1
    assert scores.pr >= 0.95
    assert scores.sr >= 0.70


# --- the eval command --------------------------------------------------------------------------


def _run_eval(argv, monkeypatch, sequences=None):
    if sequences is not None:
        # Stands in for the dataset readers: every path loads the given in-memory sequences.
        readers = types.ModuleType("rgbt_tracker_ros.data.readers")
        readers.load_sequences = lambda path: list(sequences)
        monkeypatch.setitem(sys.modules, "rgbt_tracker_ros.data.readers", readers)
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

    tracker_module = types.ModuleType("rgbt_tracker_ros.tracking.tracker")
    tracker_module.RGBTTracker = fake_student
    monkeypatch.setitem(sys.modules, "rgbt_tracker_ros.tracking.tracker", tracker_module)
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
