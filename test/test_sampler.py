import numpy as np
import pytest

from rgbt_tracker_ros.data.sampler import PairSampler, SamplerConfig
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence


def _square_sequence(n=10, size=96, thermal_dtype=np.uint16):
    visible, thermal, boxes = [], [], []
    for i in range(n):
        v = np.full((size, size, 3), 40, np.uint8)
        t = np.full((size, size), 7000, thermal_dtype)
        x, y = 20 + 2 * i, 30 + i
        v[y : y + 16, x : x + 16] = (200, 50, 50)
        t[y : y + 16, x : x + 16] = 8000
        visible.append(v), thermal.append(t), boxes.append([x, y, 16, 16])
    return Sequence("square", ArrayFrames(visible), ArrayFrames(thermal), np.array(boxes, float))


def _sampler(sequences, **overrides):
    config = SamplerConfig(**{"negative_prob": 0.0, "visible_dropout": 0.0, "thermal_dropout": 0.0, "grey_pair_prob": 0.0,
                              "flip_prob": 0.0, **overrides})
    return PairSampler([(sequences.__getitem__, len(sequences), 1.0)], config)


def test_pair_shapes_and_box_inside_the_search_crop():
    sampler = _sampler([_square_sequence()])
    rng = np.random.default_rng(0)
    for _ in range(20):
        pair = sampler.sample(rng)
        assert pair.template_visible.shape == (80, 80, 3) and pair.template_thermal.shape == (80, 80)
        assert pair.search_visible.shape == (160, 160, 3) and pair.search_thermal.shape == (160, 160)
        cx, cy = pair.box[0] + pair.box[2] / 2, pair.box[1] + pair.box[3] / 2
        assert 0 <= cx <= 160 and 0 <= cy <= 160 and pair.has_target
        # the target (red in visible, warm in thermal) is where the box says
        x, y, w, h = pair.box.astype(int)
        inner_v = pair.search_visible[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
        assert inner_v[..., 0].mean() > 150
        inner_t = pair.search_thermal[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
        assert inner_t.mean() > pair.search_thermal.mean()


def test_same_rng_same_pairs():
    sequences = [make_sequence(s, SyntheticConfig(width=160, height=128, length=20)) for s in (0, 1)]
    a = _sampler(sequences).sample(np.random.default_rng(7))
    b = _sampler(sequences).sample(np.random.default_rng(7))
    assert np.array_equal(a.search_thermal, b.search_thermal) and np.array_equal(a.box, b.box)


def test_visible_dropout_substitutes_thermal():
    sampler = _sampler([_square_sequence()], visible_dropout=1.0)
    pair = sampler.sample(np.random.default_rng(1))
    assert np.array_equal(pair.search_visible[..., 0], pair.search_thermal)
    assert np.array_equal(pair.search_visible[..., 0], pair.search_visible[..., 2])


def test_thermal_only_sequences_feed_both_inputs():
    seq = _square_sequence()
    thermal_only = Sequence("t", None, seq.thermal, seq.groundtruth)
    pair = _sampler([thermal_only]).sample(np.random.default_rng(2))
    assert pair.search_visible.shape == (160, 160, 3)


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
    # the red square is darker than... its grey value comes from the visible image, not the thermal counts
    assert abs(int(pair.search_thermal[y + h // 2, x + w // 2]) - int(0.299 * 200 + 0.587 * 50 + 0.114 * 50)) <= 2
