"""RGBTTracker, its config and model folder, provider fallback; geometry and the state machine on the
hand-built oracle model (test/helpers/oracle_model.py), not on what the shipped student learned."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from rgbt_tracker_ros.common.boxes import iou
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.evaluation.bench import MovingTarget
from rgbt_tracker_ros.tracking.backend import open_sessions
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.frame_check import FrameCheckConfig
from rgbt_tracker_ros.tracking.model_bundle import default_model_dir, load_bundle
from rgbt_tracker_ros.tracking.result import TrackResult, TrackState
from rgbt_tracker_ros.tracking.tracker import RGBTTracker

from helpers.oracle_model import SCENE, write_oracle_model
from helpers.oracle_model import frames as _frames

CPU = "CPUExecutionProvider"
GFLOP_BUDGET = 1.0  # per tracking step (the search graph)


@pytest.fixture(scope="module")
def student() -> RGBTTracker:
    return RGBTTracker(TrackerConfig(providers=("cpu",), threads=1))


@pytest.fixture(scope="module")
def oracle_dir(tmp_path_factory) -> Path:
    return write_oracle_model(tmp_path_factory.mktemp("oracle"))


def _same(a: TrackResult, b: TrackResult) -> bool:
    return np.allclose(a.box, b.box) and a.state == b.state and abs(a.score - b.score) < 1e-6


def _check_result(result: TrackResult, size=(640, 480)) -> None:
    assert isinstance(result, TrackResult)
    assert result.box.shape == (4,) and np.all(np.isfinite(result.box))
    x, y, w, h = result.box
    assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= size[0] + 1e-6 and y + h <= size[1] + 1e-6
    assert 0.0 <= result.score <= 1.0
    assert isinstance(result.state, TrackState)



# ------------------------------------------------------------------------------ config and model

@pytest.mark.parametrize("kwargs", [
    {"threads": 0}, {"threads": 1.5}, {"hann_weight": 1.5}, {"size_lr": -0.1}, {"score_tracking": float("nan")},
    {"score_lost": 0.9, "score_tracking": 0.5}, {"lost_after": 0}, {"search_growth": 0.5},
    {"max_search_growth": 100.0}, {"min_box": 0.0}, {"providers": ()}, {"providers": ("gpu",)},
    {"thermal_to_visible": np.zeros((3, 3))}, {"thermal_to_visible": np.eye(2)}, {"model": 3},
])
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(InputError):
        TrackerConfig(**kwargs)


def test_config_defaults():
    config = TrackerConfig()
    assert config.model is None and config.providers == ("tensorrt", "cuda", "cpu")
    assert config.threads == 2 and config.trt_fp16
    assert "rgbt_tracker_ros" in str(config.trt_cache_dir)
    assert TrackerConfig(providers="cuda,cpu").providers == ("cuda", "cpu")


def test_default_model_is_found_through_the_package():
    folder = default_model_dir()
    assert folder.name == "student" and folder.parent.name == "weights"
    bundle = load_bundle()
    assert bundle.search_file.is_file() and bundle.template_file.is_file()
    assert load_bundle(folder / "model.json") == bundle


def _copy_model(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for name in ("model.json", "template.onnx", "search.onnx"):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


@pytest.mark.parametrize("damage", ["no_folder", "no_json", "bad_json", "no_search", "corrupt_onnx", "bad_geometry", "wrong_inputs"])
def test_broken_model_folder_is_an_input_error(tmp_path, oracle_dir, damage):
    folder = _copy_model(oracle_dir, tmp_path / "model")
    meta = json.loads((folder / "model.json").read_text())
    if damage == "no_folder":
        folder = tmp_path / "missing"
    elif damage == "no_json":
        (folder / "model.json").unlink()
    elif damage == "bad_json":
        (folder / "model.json").write_text("{not json")
    elif damage == "no_search":
        (folder / "search.onnx").unlink()
    elif damage == "corrupt_onnx":
        (folder / "search.onnx").write_bytes(b"\x08\x01garbage" * 10)
    elif damage == "bad_geometry":
        meta["search_size"] = -4
        (folder / "model.json").write_text(json.dumps(meta))
    elif damage == "wrong_inputs":  # the two graphs swapped
        meta["files"] = {"template": "search.onnx", "search": "template.onnx"}
        (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(InputError):
        RGBTTracker(TrackerConfig(model=folder, providers=("cpu",)))


# ------------------------------------------------------------------------------------- providers

def test_provider_fallback_to_cpu_with_a_warning(caplog):
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" in available or "TensorrtExecutionProvider" in available:
        pytest.skip("this machine has a GPU provider; the fallback test is for CPU-only builds")
    with caplog.at_level(logging.WARNING, logger="rgbt_tracker_ros.tracking"):
        tracker = RGBTTracker(TrackerConfig(providers=("tensorrt", "cuda", "cpu"), threads=1))
    assert tracker.provider == CPU
    warned = [r.getMessage() for r in caplog.records if r.name == "rgbt_tracker_ros.tracking"]
    assert len(warned) == 1, warned  # one line for the whole fallback
    assert "TensorrtExecutionProvider" in warned[0] and "CUDAExecutionProvider" in warned[0]
    assert warned[0].endswith("using CPUExecutionProvider")
    visible, thermal, box = _frames(0)
    tracker.initialize(visible, thermal, box)
    _check_result(tracker.track(*_frames(1)[:2]))


def test_a_provider_the_build_lists_but_cannot_run_is_warned_about_once(caplog):
    """The GPU build lists TensorRT even where its libraries are missing; ONNX Runtime then lands
    the session on the next provider. Here a CPU build is handed TensorRT directly (resolve_providers
    would drop it) and falls back the same way: one warning for the model, not one per graph."""
    bundle = load_bundle(None)
    providers = [("TensorrtExecutionProvider", {}), ("CPUExecutionProvider", {})]
    with caplog.at_level(logging.WARNING, logger="rgbt_tracker_ros.tracking"):
        template, search = open_sessions(bundle, providers, threads=1)
    assert template.get_providers()[0] == CPU and search.get_providers()[0] == CPU
    warned = [r.getMessage() for r in caplog.records if r.name == "rgbt_tracker_ros.tracking"]
    assert len(warned) == 1, warned
    assert "fell back from TensorrtExecutionProvider to CPUExecutionProvider" in warned[0]


def test_no_usable_provider_is_an_input_error():
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("CUDA is available here")
    with pytest.raises(InputError, match="none of the requested"):
        RGBTTracker(TrackerConfig(providers=("cuda",)))


# ------------------------------------------------------------------------------ modalities, dtypes

def test_rgbt_uint16_thermal_with_scaling(student):
    visible, thermal, box = _frames(0)
    student.initialize(visible, thermal, box)
    for i in range(1, 4):
        _check_result(student.track(*_frames(i)[:2]))


def test_thermal_only_and_visible_only(student):
    visible, thermal, _ = _frames(0)
    tbox = np.array([300.0, 230.0, 44.0, 44.0])  # thermal pixels: no visible camera
    student.initialize(None, thermal, tbox)
    _check_result(student.track(None, _frames(1)[1]), size=(640, 512))

    student.initialize(visible, None, SCENE.box(0))
    _check_result(student.track(_frames(1)[0], None))
    grey = visible[:, :, 1].copy()
    student.initialize(grey, None, SCENE.box(0))
    _check_result(student.track(_frames(1)[0][:, :, 1].copy(), None))


@pytest.mark.parametrize("kind", ["uint8", "float32", "float64"])
def test_other_thermal_encodings(student, kind):
    visible, thermal, box = _frames(0)
    if kind == "uint8":
        convert = lambda t: (t >> 5).astype(np.uint8)  # noqa: E731
    else:  # temperatures in degrees C, with a few dead (NaN) pixels
        def convert(t):
            out = (t.astype(kind) - 2700.0) / 50.0
            out[:3, :3] = np.nan
            return out
    student.initialize(visible, convert(thermal), box)
    _check_result(student.track(_frames(1)[0], convert(_frames(1)[1])))


def test_missing_modality_after_init_runs_on_the_other(student):
    visible, thermal, box = _frames(0)
    student.initialize(visible, thermal, box)
    _check_result(student.track(None, _frames(1)[1]))
    _check_result(student.track(_frames(2)[0], None))
    _check_result(student.track(*_frames(3)[:2]))


def test_modality_absent_at_init_is_ignored_later(student, caplog):
    visible, _, box = _frames(0)
    student.initialize(visible, None, box)
    with caplog.at_level(logging.WARNING, logger="rgbt_tracker_ros.tracking"):
        _check_result(student.track(*_frames(1)[:2]))
    assert any("thermal" in r.getMessage() for r in caplog.records)
    with pytest.raises(InputError):
        student.track(None, _frames(2)[1])  # only the modality the tracker does not use


# ------------------------------------------------------------------------------------ bad input

def _bad_init_cases():
    visible, thermal, box = _frames(0)
    return {
        "both_none": (None, None, box),
        "empty_visible": (np.zeros((0, 0, 3), np.uint8), thermal, box),
        "tiny_thermal": (visible, np.zeros((1, 5), np.uint16), box),
        "float_visible": (visible.astype(np.float32), thermal, box),
        "int32_thermal": (visible, thermal.astype(np.int32), box),
        "list_image": (visible.tolist()[:2], None, box),
        "nan_thermal": (None, np.full((64, 64), np.nan, np.float32), (10, 10, 8, 8)),
        "nan_box": (visible, thermal, (np.nan, 10, 20, 20)),
        "inf_box": (visible, thermal, (10, 10, np.inf, 20)),
        "absurd_box": (visible, thermal, (0, 0, 1e9, 1e9)),
        "zero_box": (visible, thermal, (100, 100, 0, 0)),
        "outside_box": (visible, thermal, (700, 500, 20, 20)),
        "short_box": (visible, thermal, (1, 2, 3)),
        "text_box": (visible, thermal, "10,10,20,20"),
    }


@pytest.mark.parametrize("case", list(_bad_init_cases()))
def test_bad_initialisation_leaves_the_tracker_as_it_was(student, case):
    visible, thermal, box = _frames(0)
    student.initialize(visible, thermal, box)
    reference = student.track(*_frames(1)[:2])
    student.initialize(visible, thermal, box)
    with pytest.raises(InputError):
        student.initialize(*_bad_init_cases()[case])
    assert _same(student.track(*_frames(1)[:2]), reference)


def _bad_frame_cases():
    visible, thermal, _ = _frames(1)
    return {
        "both_none": (None, None),
        "visible_other_size": (visible[:400], thermal),
        "thermal_other_size": (visible, thermal[:, :600]),
        "thermal_only_other_size": (None, thermal[:500]),
        "float_visible": (visible.astype(np.float64), thermal),
        "int16_thermal": (visible, thermal.astype(np.int16)),
        "empty_thermal": (visible, np.zeros((0, 0), np.uint16)),
        "two_channel_thermal": (visible, np.zeros((512, 640, 2), np.uint16)),
    }  # an all-NaN thermal frame is a dead camera, not bad input: test/tracking/test_frame_check.py


@pytest.mark.parametrize("case", list(_bad_frame_cases()))
def test_bad_frame_leaves_the_tracker_as_it_was(student, case):
    visible, thermal, box = _frames(0)
    student.initialize(visible, thermal, box)
    reference = student.track(*_frames(1)[:2])
    student.initialize(visible, thermal, box)
    with pytest.raises(InputError):
        student.track(*_bad_frame_cases()[case])
    assert _same(student.track(*_frames(1)[:2]), reference)


def test_track_before_initialize(oracle_dir):
    tracker = RGBTTracker(TrackerConfig(model=oracle_dir, providers=("cpu",), threads=1))
    with pytest.raises(InputError, match="before initialize"):
        tracker.track(*_frames(1)[:2])
    tracker.initialize(*_frames(0))
    _check_result(tracker.track(*_frames(1)[:2]))


# ------------------------------------------------------------------ geometry and the state machine

def test_oracle_follows_a_moving_warm_target(oracle_dir):
    """Crop -> score map -> box -> image mapping, through the scaling homography, in RGB-T and thermal-only."""
    # The oracle's score saturates on every target cell, so a Hann window would only add a lag
    # towards the window centre; it is switched off here (the state machine test keeps it).
    tracker = RGBTTracker(TrackerConfig(model=oracle_dir, providers=("cpu",), threads=1, hann_weight=0.0))
    scene = MovingTarget(seed=2, period=120)  # about 8 visible px per frame
    tracker.initialize(*_frames(0, scene))
    overlaps = []
    for i in range(1, 31):
        visible, thermal, box = _frames(i, scene)
        result = tracker.track(visible, thermal)
        assert result.state == TrackState.TRACKING
        overlaps.append(iou(result.box, box)[0])
    assert np.mean(overlaps) > 0.6 and min(overlaps) > 0.3

    # Thermal alone, with the homography given: boxes stay in visible pixels.
    scaling = ((1.0, 0.0, 0.0), (0.0, 480 / 512, 0.0), (0.0, 0.0, 1.0))
    thermal_only = RGBTTracker(
        TrackerConfig(model=oracle_dir, providers=("cpu",), threads=1, hann_weight=0.0, thermal_to_visible=scaling)
    )
    thermal_only.initialize(None, _frames(0, scene)[1], scene.box(0))
    result = None
    for i in range(1, 11):
        result = thermal_only.track(None, _frames(i, scene)[1])
    assert iou(result.box, scene.box(10))[0] > 0.5


def test_lost_target_holds_the_box_widens_search_and_recovers(oracle_dir):
    config = TrackerConfig(model=oracle_dir, providers=("cpu",), threads=1, lost_after=3)
    # A uniform cold thermal frame and a repeated visible one stand for "target gone" here; the frame
    # check would set them aside as no information (test_frame_check.py), so it is off.
    tracker = RGBTTracker(config, frame_check=FrameCheckConfig(enabled=False))
    scene = MovingTarget(seed=3, period=10_000)  # almost still
    visible, thermal, box = _frames(0, scene)
    tracker.initialize(visible, thermal, box)
    confident = tracker.track(*_frames(1, scene)[:2])
    assert confident.state == TrackState.TRACKING

    cold = np.full_like(thermal, 2900)  # target gone
    states = []
    for _ in range(6):
        result = tracker.track(visible, cold)
        states.append(result.state)
        assert np.allclose(result.box, confident.box)  # the last confident box is held
    assert states[:2] == [TrackState.UNCERTAIN] * 2 and states[2:] == [TrackState.LOST] * 4
    assert tracker._target.growth == config.max_search_growth  # widened, but bounded

    # The target reappears away from where it was lost: outside the normal search window, inside the
    # widened one. (Drawn large: the widened window shrinks it in the crop, and the oracle is crude.)
    cx, cy = confident.box[0] + confident.box[2] / 2, confident.box[1] + confident.box[3] / 2
    half_window = tracker.model.search_factor / 2 * np.sqrt(confident.box[2] * confident.box[3])
    new_cx = cx - 1.4 * half_window
    reappeared = np.full_like(thermal, 2900)
    ty = int(cy * 512 / 480)  # visible -> thermal rows (the scaling homography)
    reappeared[ty - 44:ty + 44, int(new_cx) - 44:int(new_cx) + 44] = 6000
    result = tracker.track(visible, reappeared)
    assert result.state == TrackState.TRACKING
    assert abs(result.box[0] + result.box[2] / 2 - new_cx) < 0.35 * half_window  # within about a cell of the widened map
    assert tracker._target.growth == 1.0


# ----------------------------------------------------------------------------------- FLOPs budget
