"""The training sampler: crops of the model's geometry around the target, the box where the target is,
a missing modality substituted exactly as the runtime substitutes it (tracking.preprocessing.crop_pair),
reproducible draws, negatives and the augmentations that replace a modality."""

import dataclasses

import cv2
import numpy as np
import pytest

from rgbt_tracker_ros.data.sampler import CropGeometry, PairSampler, SamplerConfig
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.tracking.frame_check import FrameCheckConfig, Uninformative, content_reason, grid_sample
from rgbt_tracker_ros.tracking.preprocessing import CropWindow, crop_pair

GEOMETRY = CropGeometry(template_size=80, search_size=160, template_factor=2.0, search_factor=4.0)
STILL = {"search_shift": 0.0, "search_scale_jitter": 0.0, "template_shift": 0.0, "template_scale_jitter": 0.0}
RED, BACKGROUND = (200, 50, 50), 40


def _square_sequence(n=10, size=96, thermal_dtype=np.uint16, moving=True, thermal_scale=1):
    """A red (visible) / warm (thermal) 16 px square on a flat background; the thermal camera may have
    1/thermal_scale of the visible resolution (then the tracker's default homography scales it up)."""
    visible, thermal, boxes = [], [], []
    ts = size // thermal_scale
    for i in range(n):
        v = np.full((size, size, 3), BACKGROUND, np.uint8)
        cold, warm = (7000, 8000) if thermal_dtype == np.uint16 else (70, 180)
        t = np.full((ts, ts), cold, thermal_dtype)
        x, y = (20 + 2 * i, 30 + i) if moving else (40, 36)
        v[y : y + 16, x : x + 16] = RED
        t[y // thermal_scale : (y + 16) // thermal_scale, x // thermal_scale : (x + 16) // thermal_scale] = warm
        visible.append(v), thermal.append(t), boxes.append([x, y, 16, 16])
    return Sequence("square", ArrayFrames(visible), ArrayFrames(thermal), np.array(boxes, float))


def _sampler(sequences, geometry=GEOMETRY, **overrides):
    config = SamplerConfig(**{"negative_prob": 0.0, "visible_dropout": 0.0, "thermal_dropout": 0.0, "grey_pair_prob": 0.0,
                              "flip_prob": 0.0, "grey_prob": 0.0, **overrides})
    return PairSampler([(sequences.__getitem__, len(sequences), 1.0)], config, geometry)


def _inside_and_outside(crop, box):
    """Mean of the box's inner half, and of the crop's border rows (far from the target)."""
    x, y, w, h = np.asarray(box).astype(int)
    inner = crop[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
    return float(inner.mean()), float(np.concatenate([crop[:4].ravel(), crop[-4:].ravel()]).mean())


def test_the_crops_centre_the_target_at_the_models_scale():
    """No jitter: the search window is search_factor * sqrt(w h) = 64 px around the 16 px target, so
    the target fills 16 * 160 / 64 = 40 px at the centre of the 160 px crop (template: 40 px of 80)."""
    pair = _sampler([_square_sequence()], **STILL).sample(np.random.default_rng(0))
    assert pair.template_visible.shape == (80, 80, 3) and pair.template_thermal.shape == (80, 80)
    assert pair.search_visible.shape == (160, 160, 3) and pair.search_thermal.shape == (160, 160)
    np.testing.assert_allclose(pair.box, [60.0, 60.0, 40.0, 40.0], atol=1e-4)
    assert pair.has_target
    assert tuple(pair.search_visible[80, 80]) == RED and tuple(pair.template_visible[40, 40]) == RED
    assert tuple(pair.search_visible[5, 5]) == (BACKGROUND,) * 3


def test_the_geometry_is_the_models_not_the_samplers():
    geometry = CropGeometry(template_size=64, search_size=128, template_factor=2.0, search_factor=4.0)
    pair = _sampler([_square_sequence()], geometry, **STILL).sample(np.random.default_rng(0))
    assert pair.template_visible.shape == (64, 64, 3) and pair.search_thermal.shape == (128, 128)
    np.testing.assert_allclose(pair.box, [48.0, 48.0, 32.0, 32.0], atol=1e-4)  # 16 px at 128 / 64 = 2x
    assert not {"template_size", "search_size", "template_factor", "search_factor"} & {
        f.name for f in dataclasses.fields(SamplerConfig)}


def test_the_box_is_where_the_target_is_under_jitter():
    sampler = _sampler([_square_sequence()])
    rng = np.random.default_rng(0)
    for _ in range(20):
        pair = sampler.sample(rng)
        red_inside, red_outside = _inside_and_outside(pair.search_visible[..., 0], pair.box)
        assert red_inside > 150 and red_outside < 60
        warm_inside, warm_outside = _inside_and_outside(pair.search_thermal, pair.box)
        assert warm_inside > warm_outside + 50


def test_a_thermal_camera_of_its_own_resolution_is_scaled_onto_the_visible_image():
    """Half-resolution thermal, no homography given: the default (scaling) aligns the warm square
    with the box in visible pixels."""
    pair = _sampler([_square_sequence(thermal_scale=2)], **STILL).sample(np.random.default_rng(3))
    warm_inside, warm_outside = _inside_and_outside(pair.search_thermal, pair.box)
    assert warm_inside > warm_outside + 100


@pytest.mark.parametrize("present", ["rgbt", "thermal", "visible"])
@pytest.mark.parametrize("thermal_dtype", [np.uint8, np.uint16])
def test_crops_are_the_runtimes_crop_pair_a_missing_modality_substituted(present, thermal_dtype):
    """A still target: every frame is the same, so the search crop must equal what the tracker's
    crop_pair cuts from a frame with that window, substitution of the missing camera included."""
    seq = _square_sequence(thermal_dtype=thermal_dtype, moving=False)
    seq = dataclasses.replace(seq, visible=seq.visible if present != "thermal" else None,
                              thermal=seq.thermal if present != "visible" else None)
    pair = _sampler([seq], **STILL).sample(np.random.default_rng(1))
    visible, thermal = seq.frame(0)
    window = CropWindow.around(seq.groundtruth[0], GEOMETRY.search_factor, GEOMETRY.search_size)
    expected_visible, expected_thermal = crop_pair(visible, thermal, window)
    assert np.array_equal(pair.search_visible, expected_visible)
    assert np.array_equal(pair.search_thermal, expected_thermal)
    if present == "thermal":  # the runtime's substitution: the thermal crop in all three channels
        assert all(np.array_equal(pair.search_visible[..., c], pair.search_thermal) for c in range(3))


def test_same_rng_same_pairs():
    sequences = [make_sequence(s, SyntheticConfig(width=160, height=128, length=20)) for s in (0, 1)]
    a = _sampler(sequences).sample(np.random.default_rng(7))
    b = _sampler(sequences).sample(np.random.default_rng(7))
    c = _sampler(sequences).sample(np.random.default_rng(8))
    assert np.array_equal(a.search_thermal, b.search_thermal) and np.array_equal(a.box, b.box)
    assert not np.array_equal(a.search_thermal, c.search_thermal)


def test_visible_dropout_substitutes_thermal():
    sampler = _sampler([_square_sequence()], visible_dropout=1.0)
    pair = sampler.sample(np.random.default_rng(1))
    assert np.array_equal(pair.search_visible[..., 0], pair.search_thermal)
    assert np.array_equal(pair.search_visible[..., 0], pair.search_visible[..., 2])


def test_negative_pairs_have_no_target():
    sampler = _sampler([_square_sequence(), _square_sequence()], negative_prob=1.0)
    assert not sampler.sample(np.random.default_rng(3)).has_target


def test_unannotated_sources_are_an_error():
    seq = _square_sequence()
    seq.groundtruth[:] = np.nan
    with pytest.raises(RuntimeError, match="no annotated frames"):
        _sampler([seq]).sample(np.random.default_rng(0))


def test_grey_pair_feeds_grey_visible_to_both_inputs():
    sampler = _sampler([_square_sequence()], grey_pair_prob=1.0)
    pair = sampler.sample(np.random.default_rng(4))
    assert np.array_equal(pair.search_visible[..., 1], pair.search_thermal)
    x, y, w, h = pair.box.astype(int)
    # its grey value comes from the visible image (the red square's luma), not the thermal counts
    assert abs(int(pair.search_thermal[y + h // 2, x + w // 2]) - int(0.299 * 200 + 0.587 * 50 + 0.114 * 50)) <= 2


# ------------------------------------------------------------------------------------- dead-camera augmentation

def _dead_pairs(count, seed=5, sequences=None, **dead):
    """`count` pairs with the dead-camera settings, and the same draws without them (the reference)."""
    sequences = sequences or [_square_sequence()]
    augmented, plain = _sampler(sequences, **STILL, **dead), _sampler(sequences, **STILL)
    ra, rb = np.random.default_rng(seed), np.random.default_rng(seed)
    return [(augmented.sample(ra), plain.sample(rb)) for _ in range(count)]


def _crops(pair, camera):
    return pair.search_visible if camera == "visible" else pair.search_thermal


def _other(camera):
    return "thermal" if camera == "visible" else "visible"


def test_a_blank_camera_is_uniform_and_nothing_else_changes():
    cameras = set()
    for pair, plain in _dead_pairs(20, dead_blank_prob=1.0):
        camera, kind = pair.dead.split(":")
        cameras.add(camera)
        assert kind == "blank" and pair.has_target and np.array_equal(pair.box, plain.box)
        reason = content_reason(grid_sample(_crops(pair, camera), 2048), FrameCheckConfig())
        assert reason in (Uninformative.BLACK, Uninformative.SATURATED, Uninformative.UNIFORM)
        assert np.array_equal(_crops(pair, _other(camera)), _crops(plain, _other(camera)))
        assert np.array_equal(pair.template_visible, plain.template_visible)
        assert np.array_equal(pair.template_thermal, plain.template_thermal)
    assert cameras == {"visible", "thermal"}


def test_a_frozen_camera_shows_the_search_window_of_an_earlier_frame():
    """The square moves over a textured background: which frame a crop shows is found by matching it
    against the crops of every frame (no jitter: the windows are centred on the boxes)."""
    seq = _square_sequence(n=12)
    rng = np.random.default_rng(2)
    visible_texture = rng.integers(0, 30, (96, 96, 3), dtype=np.uint8)
    thermal_texture = rng.integers(0, 300, (96, 96)).astype(np.uint16)
    seq = dataclasses.replace(seq, visible=ArrayFrames([f + visible_texture for f in seq.visible.frames]),
                              thermal=ArrayFrames([f + thermal_texture for f in seq.thermal.frames]))
    frames = [seq.frame(i) for i in range(len(seq))]

    def crop(i, j, factor, size, camera):  # frame i's crop in the window around frame j's box
        window = CropWindow.around(seq.groundtruth[j], factor, size)
        return crop_pair(*frames[i], window)[0 if camera == "visible" else 1]

    checked = 0
    for pair, _ in _dead_pairs(16, sequences=[seq], dead_frozen_prob=1.0):
        camera, kind = pair.dead.split(":")
        assert kind == "frozen"
        (s,) = [j for j in range(len(seq)) if np.array_equal(_crops(pair, _other(camera)),
                                                              crop(j, j, 4.0, 160, _other(camera)))]
        (t,) = [j for j in range(len(seq)) if np.array_equal(pair.template_thermal, crop(j, j, 2.0, 80, "thermal"))]
        shown = [i for i in range(len(seq)) if np.array_equal(_crops(pair, camera), crop(i, s, 4.0, 160, camera))]
        assert shown and all(i == t or i < s for i in shown), (s, t, shown)
        if s not in shown:
            checked += 1
    assert checked >= 8  # most draws show another frame than the search one


def test_a_noise_camera_has_spread_but_no_content():
    """Noise passes the runtime's frame check (that is why the network is trained on it)."""
    for pair, plain in _dead_pairs(12, dead_noise_prob=1.0):
        camera, kind = pair.dead.split(":")
        crop, original = _crops(pair, camera), _crops(plain, camera)
        assert kind == "noise" and crop.shape == original.shape and crop.dtype == np.uint8
        assert content_reason(grid_sample(crop, 2048), FrameCheckConfig()) is None
        assert abs(np.corrcoef(crop.ravel().astype(float), original.ravel().astype(float))[0, 1]) < 0.2
        assert np.array_equal(_crops(pair, _other(camera)), _crops(plain, _other(camera)))


def test_a_missing_camera_is_the_runtimes_substitution_against_a_full_template():
    for pair, plain in _dead_pairs(12, dead_missing_prob=1.0):
        camera, kind = pair.dead.split(":")
        assert kind == "missing"
        if camera == "visible":  # the thermal crop in three channels, as crop_pair does without a visible image
            assert all(np.array_equal(pair.search_visible[..., c], plain.search_thermal) for c in range(3))
        else:                    # the grey visible crop
            assert np.array_equal(pair.search_thermal, cv2.cvtColor(plain.search_visible, cv2.COLOR_RGB2GRAY))
        assert np.array_equal(pair.template_thermal, plain.template_thermal)  # the template keeps both


def test_dead_camera_shares_follow_the_probabilities_and_the_rng_repeats_them():
    settings = dict(dead_blank_prob=0.1, dead_frozen_prob=0.1, dead_noise_prob=0.1, dead_missing_prob=0.1)
    pairs = [pair for pair, _ in _dead_pairs(400, seed=11, **settings)]
    kinds = [pair.dead.split(":")[1] for pair in pairs if pair.dead]
    assert abs(len(kinds) / 400 - 0.4) < 0.07
    for kind in ("blank", "frozen", "noise", "missing"):
        assert abs(kinds.count(kind) / 400 - 0.1) < 0.045, kind
    assert abs(sum(p.dead.startswith("visible") for p in pairs if p.dead) / len(kinds) - 0.5) < 0.1
    again = [pair for pair, _ in _dead_pairs(400, seed=11, **settings)]
    assert [p.dead for p in again] == [p.dead for p in pairs]
    assert all(np.array_equal(a.search_visible, b.search_visible) and np.array_equal(a.search_thermal, b.search_thermal)
               for a, b in zip(again, pairs))


def test_dead_camera_only_on_pairs_with_the_target_and_both_cameras():
    assert [p.dead for p, _ in _dead_pairs(5, dead_blank_prob=1.0, visible_dropout=1.0)] == [""] * 5  # dropout first
    two = [_square_sequence(), _square_sequence()]
    assert [p.dead for p, _ in _dead_pairs(5, sequences=two, dead_blank_prob=1.0, negative_prob=1.0)] == [""] * 5
    seq = _square_sequence()
    thermal_only = dataclasses.replace(seq, visible=None)
    assert [p.dead for p, _ in _dead_pairs(5, sequences=[thermal_only], dead_blank_prob=1.0)] == [""] * 5
