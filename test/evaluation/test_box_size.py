"""Box area against ground-truth area on hand-made boxes: the ratios, the band fraction, the median."""

import numpy as np

from rgbt_tracker_ros.evaluation.box_size import AREA_BAND, area_ratios, combine_sizes
from rgbt_tracker_ros.evaluation.metrics import frame_errors


def test_area_ratios_band_and_median_on_hand_made_boxes():
    gt = np.array([[0, 0, 10, 10]] * 6 + [[np.nan] * 4], dtype=np.float64)
    predictions = np.array([
        [0, 0, 10, 10],   # init frame, not scored
        [0, 0, 5, 10],    # 0.5: on the band's edge, inside
        [0, 0, 20, 10],   # 2.0: inside
        [0, 0, 4, 10],    # 0.4: outside
        [0, 0, 30, 10],   # 3.0: outside
        [np.nan] * 4,     # no prediction: outside, not in the median
        [0, 0, 10, 10],   # unannotated frame: not counted
    ])
    errors = frame_errors(predictions, gt, init_frame=0)
    size = area_ratios(predictions, gt, errors)
    assert AREA_BAND == (0.5, 2.0)
    np.testing.assert_array_equal(size.frames, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(size.ratios[:4], [0.5, 2.0, 0.4, 3.0])
    assert np.isnan(size.ratios[4])
    assert size.within_band == 0.4 and size.median == 1.25
    pooled = combine_sizes([size, size])
    assert len(pooled) == 10 and pooled.within_band == 0.4
    assert np.isnan(combine_sizes([]).within_band)


def test_absent_targets_are_not_counted():
    gt = np.array([[0, 0, 10, 10], [0, 0, 0, 0], [0, 0, 10, 10]], dtype=np.float64)
    predictions = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 5]], dtype=np.float64)
    size = area_ratios(predictions, gt, frame_errors(predictions, gt, protocol="lasher", init_frame=0))
    np.testing.assert_array_equal(size.frames, [2])
    assert size.ratios.tolist() == [0.5]
