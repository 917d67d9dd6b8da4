"""The synthetic RGB-T generator: determinism, formats, ground truth, attributes, splits, lazy access."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.synthetic import (
    ATTRIBUTE_NAMES,
    SyntheticConfig,
    make_sequence,
    split_seeds,
    synthetic_sequences,
)
from rgbt_tracker_ros.data.synthetic.generator import _ASSETS, _FRAMES
from rgbt_tracker_ros.data.synthetic.textures import (
    procedural_texture,
    texture_files,
    texture_library,
)
from rgbt_tracker_ros.data.writer import write_sequence_folder

SMALL = SyntheticConfig(width=160, height=120, length=24)


def _clear_caches() -> None:
    _ASSETS.clear()
    _FRAMES.clear()


def test_same_seed_gives_identical_frames():
    first = make_sequence(3, SMALL)
    frames = [first.frame(i) for i in (0, 7, 23)]
    _clear_caches()
    second = make_sequence(3, SMALL)
    for i, (visible, thermal) in zip((0, 7, 23), frames):
        again_visible, again_thermal = second.frame(i)
        assert np.array_equal(visible, again_visible)
        assert np.array_equal(thermal, again_thermal)
    np.testing.assert_array_equal(first.groundtruth, second.groundtruth)
    other = make_sequence(4, SMALL)
    assert not np.array_equal(other.visible[0], frames[0][0])


@pytest.mark.parametrize("bits, dtype", [(16, np.uint16), (8, np.uint8)])
def test_frame_shapes_and_dtypes(bits, dtype):
    config = dataclasses.replace(SMALL, thermal_bits=bits)
    sequence = make_sequence(11, config)
    visible, thermal = sequence.frame(5)
    assert visible.shape == (120, 160, 3) and visible.dtype == np.uint8
    assert thermal.shape == (120, 160) and thermal.dtype == dtype
    assert len(sequence) == len(sequence.visible) == len(sequence.thermal) == 24
    assert sequence.groundtruth.shape == (24, 4)
    assert sequence.protocol == "otb"
    assert sequence.thermal_to_visible is None
    if bits == 16:
        assert 5000 < np.median(thermal) < 11000


def test_thermal_at_its_own_resolution_has_a_scaling_homography():
    config = dataclasses.replace(SMALL, thermal_size=(80, 64))
    sequence = make_sequence(2, config)
    visible, thermal = sequence.frame(0)
    assert visible.shape[:2] == (120, 160)
    assert thermal.shape == (64, 80)
    np.testing.assert_allclose(sequence.thermal_to_visible, np.diag([2.0, 120 / 64, 1.0]))


def test_box_stays_mostly_in_frame():
    for seed in range(6):
        sequence = make_sequence(seed, SMALL)
        boxes = sequence.groundtruth
        assert np.all(np.isfinite(boxes)) and np.all(boxes[:, 2:] >= 1.0)
        assert np.all(boxes[:, 0] >= 0) and np.all(boxes[:, 1] >= 0)
        assert np.all(boxes[:, 0] + boxes[:, 2] <= 160 + 1e-6)
        assert np.all(boxes[:, 1] + boxes[:, 3] <= 120 + 1e-6)
        assert np.mean(boxes[:, 2] * boxes[:, 3]) >= 16.0


def test_attributes_present_and_some_occur():
    seen = {name: False for name in ATTRIBUTE_NAMES}
    for seed in range(12):
        sequence = make_sequence(seed, SyntheticConfig(width=160, height=120, length=60))
        assert set(sequence.attributes) == set(ATTRIBUTE_NAMES)
        for name, values in sequence.attributes.items():
            assert values.dtype == bool and values.shape == (60,)
            seen[name] |= bool(values.any())
        assert not sequence.attributes["full_occlusion"][0]
        assert np.all(sequence.attributes["full_occlusion"] <= sequence.attributes["occlusion"])
    assert sum(seen.values()) >= 6, seen


def test_forced_challenges_show_up():
    config = dataclasses.replace(
        SMALL, length=60, occlusion_probability=1.0, full_occlusion_share=1.0, low_light_probability=1.0,
        thermal_crossover_probability=1.0, camera_shake_probability=1.0, distractor_probability=1.0,
    )
    sequence = make_sequence(5, config)
    for name in ("low_light", "thermal_crossover", "camera_shake"):
        assert sequence.attributes[name].any(), name
    dark = np.flatnonzero(sequence.attributes["low_light"])[0]
    bright = np.flatnonzero(~sequence.attributes["low_light"])[0]
    assert sequence.visible[dark].mean() < sequence.visible[bright].mean()


def _target_and_ring(thermal: np.ndarray, box: np.ndarray) -> tuple[float, float]:
    x, y, w, h = box
    inner = thermal[int(y + 0.3 * h) : int(y + 0.7 * h) + 1, int(x + 0.3 * w) : int(x + 0.7 * w) + 1]
    x0, y0 = max(int(x - w), 0), max(int(y - h), 0)
    x1, y1 = min(int(x + 2 * w), thermal.shape[1]), min(int(y + 2 * h), thermal.shape[0])
    ring = thermal[y0:y1, x0:x1].astype(np.float64)
    mask = np.ones(ring.shape, dtype=bool)
    mask[int(y) - y0 : int(y + h) + 1 - y0, int(x) - x0 : int(x + w) + 1 - x0] = False
    return float(inner.mean()), float(ring[mask].mean())


def test_thermal_target_is_warmer_than_its_surroundings():
    config = dataclasses.replace(
        SMALL, cold_target_probability=0.0, thermal_crossover_probability=0.0, occlusion_probability=0.0,
        distractor_probability=0.0,
    )
    differences = []
    for seed in range(5):
        sequence = make_sequence(seed, config)
        for index in (0, 12):
            inside, around = _target_and_ring(sequence.thermal[index], sequence.groundtruth[index])
            differences.append(inside - around)
    assert np.mean(differences) > 50.0
    assert np.mean(np.array(differences) > 0) >= 0.8


def test_splits_use_disjoint_seeds():
    train = set(split_seeds("train", 1000))
    val = set(split_seeds("val", 1000))
    assert not train & val
    sequences = synthetic_sequences("val", 2, SMALL)
    names = {s.name for s in sequences}
    assert not names & {s.name for s in synthetic_sequences("train", 2, SMALL)}
    with pytest.raises(InputError):
        split_seeds("holdout", 1)


def test_random_access_equals_sequential_access():
    sequence = make_sequence(8, SMALL)
    sequential = [sequence.frame(i) for i in range(len(sequence))]
    _clear_caches()
    fresh = make_sequence(8, SMALL)
    for index in (17, 3, 23, 0, 17):
        visible, thermal = fresh.frame(index)
        assert np.array_equal(visible, sequential[index][0])
        assert np.array_equal(thermal, sequential[index][1])
    assert np.array_equal(fresh.visible[-1], sequential[-1][0])
    with pytest.raises(IndexError):
        fresh.visible[24]


def test_returned_frames_do_not_alias_the_cache():
    sequence = make_sequence(1, SMALL)
    frame = sequence.visible[0]
    frame[:] = 0
    assert sequence.visible[0].any()


def test_textures_come_from_installed_packages():
    files = texture_files()
    assert files, "scikit-image or matplotlib sample images should be installed"
    library = texture_library()
    assert all(t.dtype == np.uint8 and t.ndim == 3 and t.shape[2] == 3 for t in library)
    procedural = procedural_texture(np.random.default_rng(0), size=64)
    assert procedural.shape == (64, 64, 3) and procedural.std() > 10


def test_bad_config_is_an_input_error():
    with pytest.raises(InputError):
        SyntheticConfig(thermal_bits=12)
    with pytest.raises(InputError):
        SyntheticConfig(occlusion_probability=1.5)
    with pytest.raises(InputError):
        SyntheticConfig(length=1)


@pytest.mark.parametrize("bits", [None, 8])
def test_write_sequence_folder(tmp_path, bits):
    import cv2

    sequence = make_sequence(6, dataclasses.replace(SMALL, length=4))
    folder = write_sequence_folder(sequence, tmp_path / "seq", thermal_bits=bits)
    assert sorted(p.name for p in (folder / "visible").iterdir()) == [f"{i:06d}.png" for i in range(1, 5)]
    thermal = cv2.imread(str(folder / "infrared" / "000001.png"), cv2.IMREAD_UNCHANGED)
    assert thermal.dtype == (np.uint16 if bits is None else np.uint8)
    visible = cv2.cvtColor(cv2.imread(str(folder / "visible" / "000002.png")), cv2.COLOR_BGR2RGB)
    assert np.array_equal(visible, sequence.visible[1])
    rows = np.loadtxt(folder / "groundtruth.txt", delimiter=",")
    np.testing.assert_allclose(rows, sequence.groundtruth, atol=1e-3)


def test_procedural_textures_stand_in_when_no_package_ships_images(monkeypatch):
    from rgbt_tracker_ros.data.synthetic import textures

    monkeypatch.setattr(textures, "texture_files", lambda: [])
    textures.texture_library.cache_clear()
    _clear_caches()
    try:
        library = textures.texture_library()
        assert len(library) > 1 and all(t.shape[2] == 3 for t in library)
        visible, thermal = make_sequence(0, SMALL).frame(3)
        assert visible.shape == (120, 160, 3) and thermal.dtype == np.uint16
    finally:
        monkeypatch.undo()
        textures.texture_library.cache_clear()
        _clear_caches()


def test_sequence_pickles_small():
    import pickle

    sequence = make_sequence(9, SMALL)
    sequence.visible[0]
    data = pickle.dumps(sequence)
    assert len(data) < 200_000
    restored = pickle.loads(data)
    assert np.array_equal(restored.thermal[4], sequence.thermal[4])
