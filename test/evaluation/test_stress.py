"""Stress variants on hand-made sequences: each alters exactly its span, frozen repeats, shift moves
content by N, every-k keeps the ground truth aligned, bad specs are one-line InputErrors."""

import numpy as np
import pytest

from helpers.sequences import moving_square
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.evaluation.stress import (
    StressSpec,
    apply_stress,
    parse_stress,
    parse_stress_list,
    shift_right,
)


def _numbered(n: int = 20) -> Sequence:
    """Frame i: visible RGB filled with i+1, thermal uint16 with 1000+i, plus a pixel pattern."""
    visible = [np.full((6, 8, 3), i + 1, np.uint8) for i in range(n)]
    thermal = [np.full((6, 8), 1000 + i, np.uint16) for i in range(n)]
    for i, t in enumerate(thermal):
        t[2, 3] = 5000 + i
    gt = np.array([[i, 2 * i, 3, 4] for i in range(n)], dtype=np.float64)
    attributes = {"occlusion": np.arange(n) % 2 == 0}
    return Sequence("seq", ArrayFrames(visible), ArrayFrames(thermal), gt, attributes=attributes)


def test_blank_is_black_exactly_over_its_span_and_the_other_camera_is_untouched():
    sequence = _numbered(20)
    stressed = apply_stress(sequence, parse_stress("blank-thermal:0.25-0.65"))
    assert stressed.name == "seq@blank-thermal:0.25-0.65"
    black = [i for i in range(20) if not stressed.thermal[i].any()]
    assert black == list(range(5, 13))  # round(0.25*20)=5 .. round(0.65*20)-1=12
    for i in range(20):
        assert stressed.thermal[i].dtype == np.uint16 and stressed.thermal[i].shape == (6, 8)
        np.testing.assert_array_equal(stressed.visible[i], sequence.visible[i])
        if i not in black:
            np.testing.assert_array_equal(stressed.thermal[i], sequence.thermal[i])
    np.testing.assert_array_equal(stressed.groundtruth, sequence.groundtruth)
    assert np.all(sequence.thermal[7] > 0)  # the original is not altered


def test_saturated_is_the_top_of_the_range_over_its_span():
    stressed = apply_stress(_numbered(10), parse_stress("saturated-visible:0-0.3"))
    assert [int(stressed.visible[i].min()) for i in range(4)] == [255, 255, 255, 4]
    floats = Sequence("f", None, ArrayFrames([np.array([[20.0, np.nan], [31.5, 25.0]], np.float32)] * 4),
                      np.zeros((4, 4)))
    hot = apply_stress(floats, parse_stress("saturated-thermal:0.5-1")).thermal[3]
    np.testing.assert_array_equal(hot, np.full((2, 2), 31.5, np.float32))


def test_frozen_repeats_the_frame_at_the_span_start():
    sequence = _numbered(10)
    stressed = apply_stress(sequence, parse_stress("frozen-visible:0.3-0.5"))
    firsts = [int(stressed.visible[i][0, 0, 0]) for i in range(10)]
    assert firsts == [1, 2, 3, 4, 4, 6, 7, 8, 9, 10]  # frames 3, 4 show frame 3 (value 4)
    assert int(stressed.visible[-6][0, 0, 0]) == 4  # negative indices too


def test_noise_has_no_content_but_the_frame_level():
    sequence = _numbered(10)
    stressed = apply_stress(sequence, parse_stress("noise-thermal:0.2-0.4"))
    noisy = stressed.thermal[2]
    assert noisy.dtype == np.uint16 and noisy.std() > 0
    assert noisy[2, 3] != 5002 and abs(float(noisy.mean()) - float(sequence.thermal[2].mean())) < 600
    np.testing.assert_array_equal(stressed.thermal[2], noisy)  # the same frame reads the same
    np.testing.assert_array_equal(stressed.thermal[4], sequence.thermal[4])


def test_shift_moves_content_by_n_and_boxes_in_that_cameras_pixels_with_it():
    sequence = moving_square(n=4)
    stressed = apply_stress(sequence, parse_stress("shift-thermal:8"))
    assert stressed.name == "square@shift-thermal:8"
    original, moved = sequence.thermal[2], stressed.thermal[2]
    np.testing.assert_array_equal(moved[:, 8:], original[:, :-8])
    np.testing.assert_array_equal(moved[:, :8], np.repeat(original[:, :1], 8, axis=1))
    np.testing.assert_array_equal(stressed.visible[2], sequence.visible[2])
    np.testing.assert_array_equal(stressed.groundtruth, sequence.groundtruth)  # visible pixels: unmoved
    left = shift_right(np.arange(12).reshape(2, 6), -2)
    np.testing.assert_array_equal(left, [[2, 3, 4, 5, 5, 5], [8, 9, 10, 11, 11, 11]])
    thermal_only = Sequence("t", None, sequence.thermal, sequence.groundtruth)
    shifted = apply_stress(thermal_only, parse_stress("shift-thermal:-3"))
    np.testing.assert_array_equal(shifted.groundtruth[:, 0], sequence.groundtruth[:, 0] - 3)


def test_every_k_keeps_ground_truth_and_attributes_aligned():
    sequence = _numbered(10)
    stressed = apply_stress(sequence, parse_stress("every:3"))
    assert len(stressed) == 4 and stressed.name == "seq@every:3"  # frames 0, 3, 6, 9
    assert [int(stressed.thermal[i][0, 0]) - 1000 for i in range(4)] == [0, 3, 6, 9]
    assert [int(stressed.visible[i][0, 0, 0]) - 1 for i in range(4)] == [0, 3, 6, 9]
    np.testing.assert_array_equal(stressed.groundtruth[:, 0], [0, 3, 6, 9])
    np.testing.assert_array_equal(stressed.attributes["occlusion"], [True, False, True, False])
    with pytest.raises(IndexError):
        stressed.thermal[4]


def test_none_and_lists():
    sequence = _numbered(4)
    assert apply_stress(sequence, parse_stress("none")) is sequence
    specs = parse_stress_list(["blank-thermal:0.25-0.65,frozen-visible:0.3-0.5", " every:3 ", "every:3"])
    assert [s.label for s in specs] == ["blank-thermal:0.25-0.65", "frozen-visible:0.3-0.5", "every:3"]
    assert parse_stress("Noise-Thermal:.2-.4") == StressSpec("noise", "thermal", 0.2, 0.4)


@pytest.mark.parametrize("text, message", [
    ("blank-thermal:0.7-0.2", "0 <= A < B <= 1"),
    ("blank-thermal:0.2-1.5", "0 <= A < B <= 1"),
    ("blank-radar:0.2-0.4", "camera must be thermal or visible"),
    ("melt-thermal:0.2-0.4", "unknown kind 'melt'"),
    ("blank-thermal", "blank takes -CAM:A-B"),
    ("shift-thermal:8.5", "shift takes -CAM:N"),
    ("every:0", "K >= 1"),
    ("every:two", "every takes :K"),
    ("blank-thermal:0.1.2-0.4", "two fractions"),
    ("", "unknown kind"),
])
def test_bad_specs_are_one_line_input_errors(text, message):
    with pytest.raises(InputError, match=message) as error:
        parse_stress(text)
    assert len(str(error.value).splitlines()) == 1 and "blank-thermal:0.25-0.65" in str(error.value)


def test_a_camera_the_sequence_lacks_is_an_input_error():
    square = moving_square(n=3)
    thermal_only = Sequence("t", None, square.thermal, square.groundtruth)
    with pytest.raises(InputError, match="sequence t has no visible camera"):
        apply_stress(thermal_only, parse_stress("frozen-visible:0.3-0.5"))
