"""The node's session logic without DDS (ros/node_session.py): the newest pair wins over a backlog,
init_target's catch-up through the buffer, stamps that repeat or go back, pairs that are not newer
than the buffer, a camera that stops and comes back, coordinate frames and frame ids, bad frames.

The tracker is the real RGBTTracker with a scripted network (test/helpers/session_rig.py): its score
map peaks at the centre of the search window with a score the test sets, so the state follows the
test, not a trained model.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.session_rig import (
    BOX, PERIOD, SETTINGS, TH, THERMAL_FRAMES, THERMAL_IMAGE, THERMAL_LAG_NS, TW, VH, VISIBLE_FRAMES, VISIBLE_IMAGE,
    VW, Rig,
)
from rgbt_tracker_ros.ros import diagnostics
from rgbt_tracker_ros.ros.node_session import CameraFrame
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE, PairingSettings
from rgbt_tracker_ros.ros.state import THERMAL_MISSING, VISIBLE_MISSING, State
from rgbt_tracker_ros.tracking.config import TrackerConfig
from rgbt_tracker_ros.tracking.geometry import scaling_homography


@pytest.fixture
def rig():
    return Rig()


def _centre(box):
    return np.array([box[0] + box[2] / 2, box[1] + box[3] / 2])


# ------------------------------------------------------------------------------------- catch-up

def test_the_newest_pair_wins_over_a_backlog(rig):
    works = rig.frames(3)
    assert [w.pair.complete for w in works] == [True, True, True]
    assert rig.work_through() == 1 and rig.work_through() == 0  # one pair waiting: the newest
    (output,) = rig.outputs.results
    assert output.pair is works[-1].pair and output.state == State.IDLE and output.box is None
    assert output.stamp_ns == works[-1].pair.stamp_ns and output.frame_id == "cam_v"
    assert rig.health().dropped_pairs == 2  # replaced while waiting


def test_init_target_catches_up_through_the_buffer_and_the_worker_skips_what_it_tracked(rig):
    works = rig.frames(10)
    ok, message = rig.session.init_target(BOX, works[2].pair.stamp_ns)
    assert ok, message
    assert message.startswith(f"tracking: initialised on the pair stamped {works[2].pair.stamp_ns / 1e9:.3f} "
                              "(0.350 s before the newest), caught up through 7 buffered pairs")
    assert message.endswith("state tracking, score 0.90")
    (output,) = rig.outputs.results  # one output: the pair the catch-up ended on
    assert output.pair is works[-1].pair and output.state == State.TRACKING
    assert rig.work_through() == 1 and len(rig.outputs.results) == 1  # the waiting pair: already tracked
    rig.frames(1)
    assert rig.work_through() == 1 and rig.outputs.results[-1].state == State.TRACKING


def test_init_target_on_the_newest_pair(rig):
    works = rig.frames(3)
    ok, message = rig.session.init_target(BOX, 0)
    assert ok and "(0.000 s before the newest), caught up through 0 buffered pairs" in message
    output = rig.outputs.results[-1]
    assert output.pair is works[-1].pair and output.code == State.TRACKING
    np.testing.assert_allclose(_centre(output.target_box), _centre(BOX), atol=0.5)


def test_init_target_says_why_not(rig):
    ok, message = rig.session.init_target(BOX, 0)
    assert not ok and message == "no frames yet: no camera frame has been received"
    rig.session.reject(THERMAL, "bad step", rig.clock.t)
    assert rig.session.init_target(BOX, 0)[1] == ("no frames yet: no camera frame has been received "
                                                  "(1 frames rejected, see /diagnostics)")
    rig.frames(2, thermal=False)
    ok, message = rig.session.init_target(BOX, 0)
    assert not ok and message.startswith("no frames yet: only visible frames so far, nothing on /cam/thermal; "
                                         "tracking on visible alone starts once thermal has been silent for 0.5 s")
    works = rig.frames(3)
    newest = works[-1].pair.stamp_ns
    ok, message = rig.session.init_target(BOX, newest - 30 * 10**9)
    assert not ok and "is not in the buffer" in message and "older than the oldest buffered pair" in message
    ok, message = rig.session.init_target(BOX, newest + 30 * 10**9)
    assert not ok and "newer than the newest pair" in message
    ok, message = rig.session.init_target((500.0, 50.0, 24.0, 24.0), 0)
    assert not ok and message.startswith("rejected: ") and "outside the 160x128 image" in message
    assert not rig.session.tracking and rig.outputs.results == []


def test_init_box_request_starts_on_the_next_pair_and_reset_cancels_it():
    rig = Rig(init_box=BOX)  # the init_box parameter at start
    rig.frames(1)
    rig.work_through()
    assert rig.outputs.results[-1].state == State.TRACKING
    assert ("info", f"initialised from init_box {list(BOX)}") in rig.log.lines
    assert rig.session.reset() == "tracking stopped"
    assert rig.session.reset() == "was not tracking; nothing to stop"
    rig.session.request_init((500.0, 50.0, 24.0, 24.0))
    rig.frames(1)
    rig.work_through()
    assert rig.outputs.results[-1].state == State.IDLE
    assert any(level == "error" and text.startswith("init_box [500.0, 50.0, 24.0, 24.0] rejected")
               for level, text in rig.log.lines)
    rig.session.request_init(BOX)
    rig.session.reset()  # cancels the pending init_box
    rig.frames(1)
    rig.work_through()
    assert rig.outputs.results[-1].state == State.IDLE


# ------------------------------------------------------------------------------------- stamps

def test_a_repeated_stamp_is_dropped(rig):
    rig.frames(1)
    works = rig.session.add_frame(VISIBLE, rig.stamp_ns, CameraFrame(VISIBLE_IMAGE, "cam_v"), rig.clock.t)
    assert works is None and rig.health().duplicates[VISIBLE] == 1


def test_stamps_going_back_restart_pairing_and_the_buffer_in_a_new_epoch(rig):
    works = rig.frames(5)
    assert rig.session.init_target(BOX, 0)[0]
    rig.work_through()
    rig.stamp_ns -= 10 * 10**9  # a restarted bag: 10 s back
    restarted = rig.frames(1)
    assert ("warning", "visible stamps went backwards: pairing and the pair buffer restarted") in rig.log.lines
    assert rig.health().recent_backwards == VISIBLE and rig.health().backwards[VISIBLE] == 1
    assert restarted and restarted[0].epoch == works[0].epoch + 1
    # The buffer holds the new timeline only: the old stamps are gone.
    ok, message = rig.session.init_target(BOX, works[-1].pair.stamp_ns)
    assert not ok and "newer than the newest pair" in message
    # Earlier stamps than the last tracked one, but a new epoch: tracked, not taken for catch-up leftovers.
    before = len(rig.outputs.results)
    assert rig.work_through() == 1 and len(rig.outputs.results) == before + 1


def test_a_pair_not_newer_than_the_buffer_is_dropped(rig):
    rig.frames(3)
    (single,) = rig.alone(1, THERMAL)  # the visible camera stops: thermal frames go on alone
    assert not single.pair.complete and single.pair.stamp_ns == rig.stamp_ns + THERMAL_LAG_NS
    dropped = rig.health().dropped_pairs
    # The visible camera comes back a little behind: its first pair is stamped before the thermal single.
    rig.clock.t += PERIOD
    assert rig.session.add_frame(VISIBLE, rig.stamp_ns - 1_000_000, CameraFrame(VISIBLE_IMAGE, "cam_v"),
                                 rig.clock.t) is None
    assert rig.session.add_frame(THERMAL, rig.stamp_ns + 2 * THERMAL_LAG_NS, CameraFrame(THERMAL_IMAGE, "cam_t"),
                                 rig.clock.t) is None
    assert rig.health().dropped_pairs == dropped + 1


# ------------------------------------------------------------------------------------- cameras and frames

def test_a_camera_that_comes_back_is_used_again(rig):
    rig.frames(3)
    works = rig.alone(2, THERMAL)
    assert all(not w.pair.complete for w in works)
    assert rig.session.init_target(BOX, 0)[0]  # on thermal alone, the box in visible pixels
    frame = rig.tracker.target_frame
    assert (frame.camera, frame.size, frame.visible, frame.thermal) == (THERMAL, (TW, TH), False, True)
    out = rig.outputs.results[-1]
    assert out.code == State.TRACKING | VISIBLE_MISSING
    assert out.frame_id == "cam_v" and out.stamp_ns == works[-1].pair.stamp_ns  # visible pixels, thermal stamp
    np.testing.assert_allclose(_centre(out.target_box), _centre(BOX), atol=0.5)  # mapped back to visible px
    rig.frames(1, visible=False)
    rig.work_through()
    np.testing.assert_allclose(_centre(rig.outputs.results[-1].box), _centre(BOX), atol=0.5)

    rig.frames(1)  # the visible camera is back: the first confident pair initialises on both
    rig.work_through()
    out = rig.outputs.results[-1]
    assert out.pair.complete and out.code == State.TRACKING and out.frame_id == "cam_v"
    frame = rig.tracker.target_frame
    assert (frame.camera, frame.size, frame.visible, frame.thermal) == (VISIBLE, (VW, VH), True, True)
    np.testing.assert_allclose(frame.thermal_to_visible, scaling_homography((TW, TH), (VW, VH)))
    np.testing.assert_allclose(_centre(out.box), _centre(BOX), atol=0.5)


def test_an_unconfident_pair_does_not_reinitialise(rig):
    rig.frames(3)
    rig.alone(1, THERMAL)
    assert rig.session.init_target(BOX, 0)[0]
    rig.network.score = 0.2  # uncertain: the box is not trusted enough to start over on
    rig.frames(1)
    rig.work_through()
    assert rig.outputs.results[-1].state == State.UNCERTAIN and not rig.tracker.target_frame.visible
    rig.network.score = 0.9
    rig.frames(1)
    rig.work_through()
    assert rig.tracker.target_frame.visible


def test_visible_alone_then_thermal_back(rig):
    rig.frames(3)
    rig.alone(1, VISIBLE)
    assert rig.session.init_target(BOX, 0)[0]
    out = rig.outputs.results[-1]
    assert out.code == State.TRACKING | THERMAL_MISSING and out.frame_id == "cam_v"
    frame = rig.tracker.target_frame
    assert (frame.camera, frame.visible, frame.thermal) == (VISIBLE, True, False)
    rig.frames(2)  # the first visible frame still goes alone; the thermal one waits for the next
    rig.work_through()
    assert rig.outputs.results[-1].pair.complete
    assert rig.tracker.target_frame.thermal and rig.outputs.results[-1].code == State.TRACKING


def test_a_thermal_only_robot_reports_thermal_pixels(rig):
    works = rig.alone(3, THERMAL)  # no visible frame ever
    assert rig.session.init_target((30.0, 25.0, 12.0, 12.0), 0)[0]
    out = rig.outputs.results[-1]
    assert rig.tracker.target_frame.camera == THERMAL and out.frame_id == "cam_t"
    assert out.stamp_ns == works[-1].pair.stamp_ns
    np.testing.assert_allclose(_centre(out.box), (36.0, 31.0), atol=0.5)
    assert rig.session.thermal_view(THERMAL_IMAGE) is None  # nothing to show it in but itself


def test_a_configured_homography_keeps_thermal_alone_in_visible_pixels():
    homography = [[2.0, 0.0, 6.0], [0.0, 2.0, -4.0], [0.0, 0.0, 1.0]]
    rig = Rig(TrackerConfig(thermal_to_visible=homography))
    rig.frames(3)
    rig.alone(1, THERMAL)
    assert rig.session.init_target(BOX, 0)[0]
    frame = rig.tracker.target_frame
    assert frame.camera == VISIBLE and not frame.visible  # the tracker works in visible pixels itself
    out = rig.outputs.results[-1]
    assert out.frame_id == "cam_v"
    np.testing.assert_allclose(_centre(out.box), _centre(BOX), atol=0.5)
    matrix, size = rig.session.thermal_view(THERMAL_IMAGE)
    np.testing.assert_allclose(matrix, homography)
    assert size == (VW, VH)


def test_thermal_view_scales_onto_the_last_visible_frame(rig):
    assert rig.session.thermal_view(THERMAL_IMAGE) is None
    rig.frames(1)
    matrix, size = rig.session.thermal_view(THERMAL_IMAGE)
    np.testing.assert_allclose(matrix, scaling_homography((TW, TH), (VW, VH)))
    assert size == (VW, VH)
    assert rig.session.thermal_view(np.zeros((VH, VW), np.uint16)) == (None, (VW, VH))  # same pixels


# ------------------------------------------------------------------------------------- bad input and outputs

def test_rejected_frames_are_counted_and_logged(rig):
    rig.session.reject(THERMAL, "image step 160 is shorter than one row", rig.clock.t)
    health = rig.health()
    assert health.bad_frames == {VISIBLE: 0, THERMAL: 1}
    assert health.recent_bad_input == "thermal: image step 160 is shorter than one row"
    assert rig.log.lines == [("rejected", "thermal frame rejected: image step 160 is shorter than one row")]


def test_outputs_box_polygon_and_statistics(rig):
    rig.frames(2)
    assert rig.session.init_target(BOX, 0)[0]
    rig.network.score = 0.05  # below score_lost: uncertain, then lost after lost_after frames
    for _ in range(TrackerConfig().lost_after):
        rig.frames(1)
        rig.work_through()
    uncertain, lost = rig.outputs.results[-2], rig.outputs.results[-1]
    assert uncertain.state == State.UNCERTAIN and uncertain.target_box is not None
    assert uncertain.shown_box is not None
    assert lost.state == State.LOST and lost.target_box is None and lost.shown_box is None
    assert lost.box is not None  # the tracker's last box, kept but not published
    health = rig.health()
    assert health.state == State.LOST and health.debug_images == len(rig.outputs.results)
    assert rig.outputs.debug == rig.outputs.results


def test_new_settings_reach_the_pairer_and_the_buffer(rig):
    rig.frames(10)
    rig.session.update(PairingSettings(slop=0.0, camera_timeout=0.5), 0.1)
    ok, message = rig.session.init_target(BOX, rig.stamp_ns - int(0.3e9))
    assert not ok and "older than the oldest buffered pair" in message and "the buffer holds 0.1 s" in message


def test_the_worker_stops(rig):
    rig.frames(1)
    rig.session.stop()
    assert rig.session.next_work() is None  # does not block once stopped


# ------------------------------------------------------------------------------------- frames without information

BLACK_THERMAL = np.zeros((TH, TW), np.uint16)
BLACK_VISIBLE = np.zeros((VH, VW, 3), np.uint8)


def _work(rig, count, **frames):
    """`count` frame times, each pair processed as it comes."""
    for _ in range(count):
        rig.frames(1, **frames)
        rig.work_through()
    return rig.outputs.results[-1]


def test_a_black_thermal_camera_sets_the_flag_and_diagnostics_say_which_why_and_how_long(rig):
    rig.frames(2)
    assert rig.session.init_target(BOX, 0)[0]
    first = _work(rig, 1, thermal_image=BLACK_THERMAL)
    started = rig.clock.t
    out = _work(rig, 4, thermal_image=BLACK_THERMAL)
    assert first.code == out.code == State.TRACKING | THERMAL_MISSING
    np.testing.assert_allclose(_centre(out.target_box), _centre(BOX), atol=0.5)
    health = rig.health()
    assert health.uninformative == {VISIBLE: "", THERMAL: "black"} and health.ignored_frames[THERMAL] == 5
    assert rig.clock.t - started == pytest.approx(4 * PERIOD)
    assert health.uninformative_s[THERMAL] == pytest.approx(4 * PERIOD)  # since the first black frame
    level, message = diagnostics.assess(health)
    assert level == diagnostics.WARN
    assert f"thermal frames hold no information (black) for {health.uninformative_s[THERMAL]:.1f} s: " \
           "tracking on visible alone" in message
    values = {kv.key: kv.value for kv in diagnostics.to_status(health, "n: tracker", "cpu").values}
    assert values["thermal frame content"] == f"black for {health.uninformative_s[THERMAL]:.1f} s"
    assert values["visible frame content"] == "ok" and values["ignored thermal frames"] == "5"

    back = _work(rig, 1)  # the thermal camera sees again: used again, the stretch is over
    assert back.code == State.TRACKING
    health = rig.health()
    assert health.uninformative[THERMAL] == "" and health.ignored_frames[THERMAL] == 5
    assert "hold no information" not in diagnostics.assess(health)[1]


def test_a_frozen_visible_camera_is_named_frozen(rig):
    rig.frames(2)
    assert rig.session.init_target(BOX, 0)[0]
    _work(rig, 1, visible_image=VISIBLE_FRAMES[2])
    out = _work(rig, 3, visible_image=VISIBLE_FRAMES[2])  # the same frame again and again
    assert out.code == State.TRACKING | VISIBLE_MISSING
    assert rig.health().uninformative == {VISIBLE: "frozen", THERMAL: ""}


def test_no_camera_with_information_holds_the_box_uncertain(rig):
    rig.frames(2)
    assert rig.session.init_target(BOX, 0)[0]
    out = _work(rig, 2, visible_image=BLACK_VISIBLE, thermal_image=BLACK_THERMAL)
    assert out.state == State.UNCERTAIN and out.code == State.UNCERTAIN | VISIBLE_MISSING | THERMAL_MISSING
    np.testing.assert_allclose(_centre(out.target_box), _centre(BOX), atol=0.5)  # held, still published
    message = diagnostics.assess(rig.health())[1]
    assert "no camera gives information: the box is held, uncertain" in message
    assert "visible frames hold no information (black)" in message and ": ignored" in message


def test_init_on_a_black_thermal_frame_goes_on_visible_and_takes_thermal_back_when_it_sees(rig):
    rig.frames(1, thermal_image=BLACK_THERMAL)
    ok, message = rig.session.init_target(BOX, 0)
    assert ok and message.endswith("; without the thermal camera: its frame is black")
    assert rig.outputs.results[-1].code == State.TRACKING | THERMAL_MISSING
    out = _work(rig, 3, thermal_image=BLACK_THERMAL)  # confident, but nothing to take back
    assert out.code == State.TRACKING | THERMAL_MISSING and not rig.tracker.target_frame.thermal
    assert rig.health().uninformative[THERMAL] == "black"
    out = _work(rig, 1)
    assert rig.tracker.target_frame.thermal and out.code == State.TRACKING
    assert rig.health().uninformative[THERMAL] == ""


def test_init_without_any_informative_camera_is_refused(rig):
    rig.frames(1, visible_image=BLACK_VISIBLE, thermal_image=BLACK_THERMAL)
    ok, message = rig.session.init_target(BOX, 0)
    assert not ok and message.startswith("rejected: nothing to initialise on: the visible frame is black and the "
                                         "thermal frame is black")
    assert not rig.session.tracking


def test_while_idle_the_flags_and_diagnostics_already_tell(rig):
    rig.frames(1, thermal_image=BLACK_THERMAL)
    rig.work_through()
    out = _work(rig, 2, thermal_image=BLACK_THERMAL)
    assert out.state == State.IDLE and out.code == State.IDLE | THERMAL_MISSING
    health = rig.health()
    assert health.uninformative[THERMAL] == "black" and health.uninformative_s[THERMAL] == pytest.approx(2 * PERIOD)
