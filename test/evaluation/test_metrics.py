"""Metrics against cases worked out by hand (the arithmetic is in the comments)."""

import numpy as np
import pytest
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.evaluation.metrics import (
    SUCCESS_THRESHOLDS,
    combine,
    evaluate,
    frame_errors,
    precision_curve,
    success_curve,
)

NAN4 = [np.nan] * 4
GT10 = [0.0, 0.0, 10.0, 10.0]  # centre (5, 5)


def test_otb_hand_computed_pr_sr_npr():
    gt = np.array([GT10] * 5)
    pred = np.array([
        GT10,              # 0: init frame, not scored
        GT10,              # 1: IoU 1, centre error 0, normalised 0
        [5, 0, 10, 10],    # 2: overlap 5x10 = 50, union 150 -> IoU 1/3; error 5 px; normalised 5/10 = 0.5
        [30, 0, 10, 10],   # 3: IoU 0; error 30 px; normalised 3.0
        [0, 0, 20, 20],    # 4: overlap 100, union 400 -> IoU 0.25; centre (10,10): error sqrt(50) = 7.07;
                           #    normalised sqrt(0.5^2 + 0.5^2) = 0.707
    ])
    errors = frame_errors(pred, gt, "otb")
    assert errors.frames.tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(errors.center, [0, 5, 30, np.sqrt(50)])
    np.testing.assert_allclose(errors.overlap, [1, 1 / 3, 0, 0.25])
    np.testing.assert_allclose(errors.normalized, [0, 0.5, 3, np.sqrt(0.5)])

    s = evaluate(pred, gt, "otb")
    assert s.frames == 4
    assert s.pr == pytest.approx(3 / 4)   # 0, 5, 7.07 <= 20; 30 is not
    assert s.npr == pytest.approx(1 / 4)  # only the perfect frame <= 0.2
    # Success at t counts IoU > t among IoUs {1, 1/3, 0, 0.25}:
    #   t = 0, 0.05, 0.10, 0.15, 0.20 (5 thresholds): 3/4 (IoU 0 fails even at t = 0)
    #   t = 0.25, 0.30 (2):                           2/4 (0.25 > 0.25 is false)
    #   t = 0.35 .. 0.95 (13):                        1/4
    #   t = 1.0 (1):                                  0
    # SR = (5*0.75 + 2*0.5 + 13*0.25 + 0) / 21 = 8 / 21
    assert s.sr == pytest.approx(8 / 21)
    assert s.success[0] == pytest.approx(0.75) and s.success[5] == pytest.approx(0.5)
    assert s.precision[5] == pytest.approx(2 / 4)  # errors <= 5 px: 0 and 5
    assert s.precision[20] == pytest.approx(s.pr)


def test_success_threshold_is_strict_and_zero_counts_only_overlap():
    # IoU exactly 0.5: counted at t = 0.45, not at t = 0.5. IoU 0 (touching boxes): not even at t = 0.
    curve = success_curve([0.5])
    assert curve[SUCCESS_THRESHOLDS.tolist().index(0.45)] == 1.0
    assert curve[SUCCESS_THRESHOLDS.tolist().index(0.5)] == 0.0
    assert success_curve([0.0])[0] == 0.0
    touching = evaluate([GT10, GT10, [10, 0, 10, 10]], [GT10] * 3)  # frame 2 shares only an edge
    assert touching.success[0] == pytest.approx(0.5)
    # A perfect tracker cannot exceed 20/21: nothing is > 1.
    assert evaluate([GT10] * 3, [GT10] * 3).sr == pytest.approx(20 / 21)
    # Precision counts error <= threshold (inclusive).
    assert precision_curve([20.0], [19.0, 20.0]).tolist() == [0.0, 1.0]


def test_init_frame_excluded_by_default_and_inferred_from_nan_rows():
    # The runner leaves rows before the init frame NaN: init is frame 2, scoring starts at frame 3.
    gt = np.array([GT10] * 5)
    pred = np.array([NAN4, NAN4, GT10, [30, 0, 10, 10], GT10])
    errors = frame_errors(pred, gt)
    assert errors.frames.tolist() == [3, 4]
    assert evaluate(pred, gt).pr == pytest.approx(1 / 2)
    # Scoring the init frame too: frames 2, 3, 4 -> PR 2/3.
    assert frame_errors(pred, gt, exclude_init=False).frames.tolist() == [2, 3, 4]
    assert evaluate(pred, gt, exclude_init=False).pr == pytest.approx(2 / 3)
    # An explicit init frame wins over the inference.
    assert frame_errors(pred, gt, init_frame=3).frames.tolist() == [4]


def test_missing_prediction_after_init_is_a_miss():
    # Frame 2 has no prediction: centre error inf, IoU 0 -> PR 1/2, success 1/2 below t = 1.
    pred = np.array([GT10, GT10, NAN4])
    s = evaluate(pred, [GT10] * 3)
    assert s.pr == pytest.approx(0.5)
    assert s.sr == pytest.approx(10 / 21)


def test_unannotated_nan_rows_are_skipped():
    # VTUAV style: every 10th frame annotated, the others NaN.
    n = 21
    gt = np.full((n, 4), np.nan)
    gt[::10] = GT10
    pred = np.array([GT10] * n)
    pred[20] = [30, 0, 10, 10]  # a miss on the last annotated frame
    errors = frame_errors(pred, gt, "vtuav")
    assert errors.frames.tolist() == [10, 20]
    assert evaluate(pred, gt, "vtuav").pr == pytest.approx(1 / 2)


def test_gtot_five_pixel_threshold():
    # One scored frame, centre error 6 px: a miss under GTOT (5 px), a hit under OTB (20 px).
    pred = [GT10, [6, 0, 10, 10]]
    assert evaluate(pred, [GT10] * 2, "gtot").pr == 0.0
    assert evaluate(pred, [GT10] * 2, "otb").pr == 1.0
    # Exactly 5 px is still a hit (<=).
    assert evaluate([GT10, [5, 0, 10, 10]], [GT10] * 2, "gtot").pr == 1.0


def test_gtot_pools_frames_others_average_sequences():
    # Sequence A: 2 scored frames, errors 5 px (hit) and 25 px (miss) -> PR 1/2 under GTOT and OTB.
    # Sequence B: 4 scored frames, all perfect -> PR 1.
    pred_a, gt_a = [GT10, [5, 0, 10, 10], [25, 0, 10, 10]], [GT10] * 3
    pred_b, gt_b = [GT10] * 5, [GT10] * 5
    gtot = combine([frame_errors(pred_a, gt_a, "gtot"), frame_errors(pred_b, gt_b, "gtot")])
    assert gtot.frames == 6
    assert gtot.pr == pytest.approx(5 / 6)  # pooled: (1 + 4) hits / 6 frames
    otb = combine([frame_errors(pred_a, gt_a, "otb"), frame_errors(pred_b, gt_b, "otb")])
    assert otb.pr == pytest.approx(0.75)    # per sequence: (1/2 + 1) / 2
    # Pooled SR. IoUs: A frame 1 overlap 5x10 = 50, union 150 -> 1/3; A frame 2: 0; B: 1, 1, 1, 1.
    # Success at t < 1/3: 5/6 (7 such thresholds 0..0.30), 1/3 <= t < 1: 4/6 (13 thresholds), t = 1: 0.
    assert gtot.sr == pytest.approx((7 * 5 / 6 + 13 * 4 / 6) / 21)


def test_rgbt234_takes_best_of_both_ground_truths():
    gt_v = [GT10, GT10]                          # centre (5, 5)
    gt_t = [GT10, [0.0, 0.0, 30.0, 10.0]]        # centre (15, 5) in frame 1
    pred = [GT10, [-8.0, 0.0, 30.0, 10.0]]       # x -8..22, centre (7, 5)
    # Against visible: error |7 - 5| = 2; overlap x 0..10 -> 100, union 300 + 100 - 100 = 300 -> IoU 1/3.
    # Against thermal: error |7 - 15| = 8; overlap x 0..22 -> 220, union 300 + 300 - 220 = 380 -> 11/19.
    # RGBT234 keeps error 2 (visible) and IoU 11/19 (thermal); normalised min(2/10, 8/30) = 0.2.
    errors = frame_errors(pred, gt_v, "rgbt234", groundtruth_thermal=gt_t)
    np.testing.assert_allclose(errors.center, [2.0])
    np.testing.assert_allclose(errors.overlap, [11 / 19])
    np.testing.assert_allclose(errors.normalized, [0.2])
    s = evaluate(pred, gt_v, "rgbt234", groundtruth_thermal=gt_t)
    # 11/19 = 0.579: success for t = 0 .. 0.55 (12 thresholds) -> SR 12/21.
    assert s.sr == pytest.approx(12 / 21)
    assert s.npr == 1.0
    # Other protocols ignore the thermal ground truth: IoU 1/3 -> success for t = 0 .. 0.30 (7) -> 7/21.
    assert evaluate(pred, gt_v, "otb", groundtruth_thermal=gt_t).sr == pytest.approx(7 / 21)
    # Thermal ground truth NaN on a frame: the visible one alone scores it.
    gt_t_nan = [GT10, NAN4]
    np.testing.assert_allclose(frame_errors(pred, gt_v, "rgbt234", groundtruth_thermal=gt_t_nan).overlap, [1 / 3])


def test_lasher_absent_target_and_empty_predictions():
    gt = [GT10, [0, 0, 0, 0], GT10, GT10]
    pred = [GT10, [50, 50, 10, 10], GT10, [0, 0, 0, 0]]
    # Frame 1: target absent -> hit for PR and NPR, miss for SR (whatever the prediction).
    # Frame 2: perfect. Frame 3: zero-size prediction replaced by frame 2's box -> perfect.
    s = evaluate(pred, gt, "lasher")
    assert s.frames == 3
    assert s.pr == 1.0 and s.npr == 1.0
    # Success: frames 2 and 3 (IoU 1) at t = 0 .. 0.95 -> 2/3 on 20 thresholds; SR = 20 * (2/3) / 21.
    assert s.sr == pytest.approx(40 / 63)
    # The same data under OTB: the zero-size ground truth carries no box (skipped), the zero-size
    # prediction stays: centre (0, 0) vs (5, 5) = 7.07 px (a PR hit), IoU 0.
    o = evaluate(pred, gt, "otb")
    assert o.frames == 2
    assert o.pr == 1.0
    assert o.sr == pytest.approx(10 / 21)
    # NaN predictions are replaced under LasHeR as well.
    assert evaluate([GT10, GT10, NAN4], [GT10] * 3, "lasher").sr == pytest.approx(20 / 21)


def test_combine_skips_sequences_without_scored_frames():
    empty = frame_errors([GT10, GT10], [GT10, NAN4])
    full = frame_errors([GT10, [30, 0, 10, 10]], [GT10, GT10])
    assert len(empty) == 0
    s = combine([empty, full])
    assert s.pr == 0.0 and s.frames == 1
    assert np.isnan(evaluate([GT10, GT10], [GT10, NAN4]).pr)


def test_bad_input():
    with pytest.raises(InputError, match="unknown evaluation protocol"):
        evaluate([GT10], [GT10], "vot")
    with pytest.raises(InputError, match="predictions for"):
        evaluate([GT10, GT10], [GT10])
    with pytest.raises(InputError, match=r"\(N, 4\)"):
        evaluate([1, 2, 3], [GT10])
    with pytest.raises(InputError, match="no finite prediction"):
        evaluate([NAN4], [GT10])
    with pytest.raises(InputError):
        combine([])
