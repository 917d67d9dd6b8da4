"""Approximate-time pairing (offset, jitter, unequal rates, reordering, backwards stamps, a silent
camera) and the pair history used for initialisation on a past stamp."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from rgbt_tracker_ros.ros.pair_buffer import PairBuffer, StampNotBuffered
from rgbt_tracker_ros.ros.pairing import (
    THERMAL,
    VISIBLE,
    ApproximateTimePairer,
    Frame,
    Pair,
    PairingSettings,
)

MS = 1_000_000
S = 1_000_000_000


def _stream(period_s: float, count: int, camera: str, offset_s: float = 0.0, jitter_s: float = 0.0,
            latency_s: float = 0.005, seed: int = 0, start_s: float = 1.0):
    """(arrival s, camera, stamp ns) of a camera's frames: stamps at `period_s` (+offset, +jitter),
    each arriving `latency_s` after its nominal time (plus a little random transport delay)."""
    rng = np.random.default_rng(seed)
    events = []
    for i in range(count):
        nominal = start_s + i * period_s
        stamp = nominal + offset_s + (rng.uniform(-jitter_s, jitter_s) if jitter_s else 0.0)
        arrival = nominal + latency_s + rng.uniform(0.0, 0.004)
        events.append((arrival, camera, int(round(stamp * S))))
    return events


def _pairer(**settings) -> ApproximateTimePairer:
    """A pairer created when the streams start (at 1 s), so no camera counts as silent at first."""
    return ApproximateTimePairer(PairingSettings(**settings), now=1.0)


def _run(pairer: ApproximateTimePairer, *streams) -> list[Pair]:
    pairs = []
    for arrival, camera, stamp in heapq.merge(*(sorted(s) for s in streams)):
        pair = pairer.add(camera, stamp, (camera, stamp), arrival)
        if pair is not None:
            pairs.append(pair)
    return pairs


def _check_pairs(pairs: list[Pair], slop_s: float, offset_s: float = 0.0) -> None:
    """Every pair within slop (after the offset), visible stamps strictly increasing, no frame used twice."""
    used = set()
    for pair in pairs:
        assert pair.complete
        skew = abs(pair.visible.stamp_ns - (pair.thermal.stamp_ns + round(offset_s * S)))
        assert skew == pair.skew_ns and skew <= slop_s * S + 1
        for frame in (pair.visible, pair.thermal):
            assert frame.payload not in used
            used.add(frame.payload)
    stamps = [p.stamp_ns for p in pairs]
    assert stamps == sorted(set(stamps))


# ------------------------------------------------------------------------------------- pairing

def test_simultaneous_cameras_pair_every_frame():
    pairer = _pairer(slop=0.01)
    pairs = _run(pairer, _stream(1 / 30, 90, VISIBLE, seed=1), _stream(1 / 30, 90, THERMAL, seed=2))
    assert len(pairs) == 90
    _check_pairs(pairs, 0.01)
    assert pairer.stats.pairs == 90 and sum(pairer.stats.unpaired.values()) == 0


def test_offset_within_slop_pairs_every_frame():
    pairer = _pairer(slop=0.02)
    pairs = _run(pairer, _stream(1 / 30, 60, VISIBLE), _stream(1 / 30, 60, THERMAL, offset_s=0.012, seed=3))
    assert len(pairs) == 60
    _check_pairs(pairs, 0.02)
    assert all(abs(p.skew_ns - 12 * MS) <= 1 for p in pairs)


def test_offset_beyond_slop_pairs_nothing_then_visible_goes_alone_and_it_stays_bounded():
    settings = PairingSettings(slop=0.005, queue_size=3)  # camera_timeout 0.5 s
    pairer = ApproximateTimePairer(settings, now=1.0)
    pairs = _run(pairer, _stream(1 / 30, 60, VISIBLE), _stream(1 / 30, 60, THERMAL, offset_s=0.015, seed=3))
    assert not any(p.complete for p in pairs)
    # Nothing paired for camera_timeout: the thermal camera is set aside, each visible frame goes alone.
    assert pairer.set_aside == THERMAL and len(pairs) >= 60 - 17 and all(p.visible for p in pairs)
    assert pairer.stats.unpaired[VISIBLE] >= 14 and pairer.stats.unpaired[THERMAL] >= 60 - settings.queue_size
    assert pairer.queued(VISIBLE) <= 3 and pairer.queued(THERMAL) <= 3


def test_known_offset_is_compensated_by_thermal_offset():
    pairer = _pairer(slop=0.005, thermal_offset=-0.015)
    pairs = _run(pairer, _stream(1 / 30, 60, VISIBLE), _stream(1 / 30, 60, THERMAL, offset_s=0.015, seed=3))
    assert len(pairs) == 60
    _check_pairs(pairs, 0.005, offset_s=-0.015)
    # The pair's stamp is the visible one; the thermal frame keeps its own stamp.
    assert pairs[0].thermal.stamp_ns - pairs[0].visible.stamp_ns == 15 * MS


def test_jitter_within_slop():
    pairer = _pairer(slop=0.012)
    pairs = _run(pairer, _stream(1 / 30, 300, VISIBLE, jitter_s=0.004, seed=4),
                 _stream(1 / 30, 300, THERMAL, jitter_s=0.004, offset_s=0.003, seed=5))
    _check_pairs(pairs, 0.012)
    assert len(pairs) >= 295  # greedy pairing may lose an edge case, never a stream


def test_unequal_rates_pair_each_slow_frame_with_the_closest_fast_one():
    pairer = _pairer(slop=0.017)
    visible = _stream(1 / 30, 300, VISIBLE, seed=6)          # 10 s at 30 Hz
    thermal = _stream(1 / 9, 90, THERMAL, offset_s=0.004, seed=7)  # 10 s at 9 Hz
    pairs = _run(pairer, visible, thermal)
    _check_pairs(pairs, 0.017)
    assert len(pairs) >= 88
    # Each pair uses the visible frame closest to its thermal frame (within half a visible period).
    assert all(p.skew_ns <= (1 / 60) * S + 1 for p in pairs)
    assert pairer.stats.unpaired[VISIBLE] >= 300 - len(pairs) - pairer.queued(VISIBLE) - 1


def test_late_camera_still_pairs_when_within_the_queue():
    """Thermal frames arrive 60 ms after the visible ones (transport): visible frames wait in the queue."""
    pairer = _pairer(slop=0.01, queue_size=4)
    pairs = _run(pairer, _stream(1 / 30, 60, VISIBLE, latency_s=0.002),
                 _stream(1 / 30, 60, THERMAL, latency_s=0.062, seed=8))
    assert len(pairs) == 60
    _check_pairs(pairs, 0.01)


def test_the_newest_pair_wins_over_older_waiting_frames():
    pairer = _pairer(slop=0.005, queue_size=5)
    for i in range(3):
        assert pairer.add(VISIBLE, (100 + 33 * i) * MS, f"v{i}", 0.1) is None
    pair = pairer.add(THERMAL, 166 * MS, "t", 0.1)
    assert (pair.visible.payload, pair.thermal.payload) == ("v2", "t")
    assert pairer.stats.unpaired[VISIBLE] == 2 and pairer.queued(VISIBLE) == 0


def test_queue_keeps_only_a_few_frames():
    pairer = _pairer(slop=0.001, queue_size=2)
    for i in range(10):
        pairer.add(VISIBLE, (i + 1) * 33 * MS, i, 0.0)
    assert pairer.queued(VISIBLE) == 2 and pairer.stats.unpaired[VISIBLE] == 8
    pairer.update(PairingSettings(slop=0.001, queue_size=1))
    assert pairer.queued(VISIBLE) == 1 and pairer.stats.unpaired[VISIBLE] == 9


def test_partner_in_the_future_waits_for_the_other_camera():
    pairer = _pairer(slop=0.01)
    assert pairer.add(THERMAL, 200 * MS, "t200", 0.0) is None
    assert pairer.add(VISIBLE, 100 * MS, "v100", 0.0) is None  # too old for t200: waits
    pair = pairer.add(VISIBLE, 205 * MS, "v205", 0.0)
    assert (pair.visible.payload, pair.thermal.payload, pair.skew_ns) == ("v205", "t200", 5 * MS)
    assert pairer.stats.unpaired == {VISIBLE: 1, THERMAL: 0}  # v100 was superseded


# ------------------------------------------------------------------------------------- time going back

def test_backwards_stamp_resets_and_is_counted():
    pairer = _pairer(slop=0.01)
    pairs = _run(pairer, _stream(1 / 30, 30, VISIBLE), _stream(1 / 30, 30, THERMAL, seed=1))
    assert len(pairs) == 30
    pairer.add(VISIBLE, 5 * S, "queued", 2.0)  # waits for a partner...
    # ...when the bag restarts: both cameras jump back to t = 1 s.
    restarted = _run(pairer, _stream(1 / 30, 30, VISIBLE, start_s=1.0), _stream(1 / 30, 30, THERMAL, start_s=1.0))
    assert pairer.stats.backwards[VISIBLE] + pairer.stats.backwards[THERMAL] == 1
    assert pairer.stats.unpaired[VISIBLE] >= 1  # the queued frame was dropped with the old timeline
    assert len(restarted) >= 29
    _check_pairs(restarted, 0.01)


def test_only_one_reset_per_jump_even_if_both_cameras_go_back():
    pairer = _pairer(slop=0.01)
    pairer.add(VISIBLE, 10 * S, "v", 0.0)
    pairer.add(THERMAL, 10 * S, "t", 0.0)
    pairer.add(VISIBLE, 1 * S, "v", 0.1)
    assert pairer.add(THERMAL, 1 * S, "t", 0.1) is not None
    assert sum(pairer.stats.backwards.values()) == 1


def test_duplicate_stamp_is_dropped_and_counted():
    pairer = _pairer(slop=0.01)
    assert pairer.add(VISIBLE, S, "a", 0.0) is None
    assert pairer.add(VISIBLE, S, "b", 0.0) is None
    assert pairer.stats.duplicates[VISIBLE] == 1
    assert pairer.add(THERMAL, S, "t", 0.0).visible.payload == "a"


# ------------------------------------------------------------------------------------- a silent camera

def test_silent_camera_switches_to_single_and_back():
    pairer = _pairer(slop=0.01, camera_timeout=0.3)
    visible = _stream(1 / 30, 150, VISIBLE)                                  # 1.0 .. 6.0 s
    thermal = [e for e in _stream(1 / 30, 150, THERMAL, seed=1) if not 2.0 <= e[0] < 4.0]
    outputs = _run(pairer, visible, thermal)
    kinds = ["pair" if p.complete else ("visible" if p.visible else "thermal") for p in outputs]
    arrivals = [max(f.received for f in (p.visible, p.thermal) if f) for p in outputs]
    singles = [t for k, t in zip(kinds, arrivals) if k == "visible"]
    assert "thermal" not in kinds
    assert singles and min(singles) >= 2.0 + 0.3 - 0.05 and max(singles) < 4.0 + 0.05
    assert len(singles) >= 45  # ~1.7 s of visible-only frames at 30 Hz
    assert all(k == "pair" for k, t in zip(kinds, arrivals) if t > 4.1)
    assert pairer.stats.single[VISIBLE] == len(singles)
    assert outputs[-1].complete and not pairer.silent(THERMAL, 6.0)


def test_camera_that_never_sent_anything_times_out_from_start():
    pairer = ApproximateTimePairer(PairingSettings(camera_timeout=0.5), now=0.0)
    assert pairer.add(THERMAL, 1 * S, "t1", 0.2) is None
    assert not pairer.seen(VISIBLE) and pairer.seen(THERMAL)
    single = pairer.add(THERMAL, 2 * S, "t2", 0.6)
    assert single is not None and single.visible is None and single.stamp_ns == 2 * S


# ------------------------------------------------------------------------------------- settings

@pytest.mark.parametrize("kwargs", [
    {"slop": -0.1}, {"slop": float("nan")}, {"queue_size": 0}, {"queue_size": 2.5},
    {"thermal_offset": float("inf")}, {"camera_timeout": 0.0},
])
def test_bad_settings_are_rejected(kwargs):
    with pytest.raises(ValueError):
        PairingSettings(**kwargs)


def test_unknown_camera():
    with pytest.raises(ValueError, match="camera must be one of"):
        ApproximateTimePairer().add("depth", 1, None, 0.0)


# ------------------------------------------------------------------------------------- pair buffer

def _pair(stamp_ms: float, thermal_ms: float | None = None, visible: bool = True) -> Pair:
    t = stamp_ms if thermal_ms is None else thermal_ms
    v = Frame(int(stamp_ms * MS), f"v{stamp_ms}", 0.0) if visible else None
    return Pair(visible=v, thermal=Frame(int(t * MS), f"t{t}", 0.0), skew_ns=int(abs(stamp_ms - t) * MS))


def _filled(seconds: float = 1.0, count: int = 60) -> PairBuffer:
    buffer = PairBuffer(seconds)
    for i in range(count):
        assert buffer.push(_pair(1000 + i * 33.3, 1000 + i * 33.3 + 4))
    return buffer


def test_buffer_keeps_the_last_seconds():
    buffer = _filled(seconds=1.0, count=90)   # 3 s offered
    assert 30 <= len(buffer) <= 31 and buffer.span_s() <= 1.0
    assert buffer.newest().stamp_ns == int((1000 + 89 * 33.3) * MS)


def test_buffer_caps_the_number_of_pairs():
    buffer = PairBuffer(seconds=10.0, max_pairs=5)
    for i in range(20):
        buffer.push(_pair(i * 10.0))
    assert len(buffer) == 5


def test_buffer_finds_a_past_stamp_by_either_camera():
    buffer = _filled()
    target = buffer.after(0)[10]
    assert buffer.find(target.visible.stamp_ns, MS) is target
    assert buffer.find(target.thermal.stamp_ns, MS) is target
    assert buffer.find(target.visible.stamp_ns + MS // 2, MS) is target
    assert [p.stamp_ns for p in buffer.after(target.stamp_ns)] == [p.stamp_ns for p in buffer.after(0)[11:]]


def test_buffer_says_why_a_stamp_is_not_there():
    buffer = _filled()
    oldest, newest = buffer.after(0)[0].stamp_ns, buffer.newest().stamp_ns
    with pytest.raises(StampNotBuffered, match=r"older than the oldest buffered pair.*buffer_seconds"):
        buffer.find(oldest - 500 * MS, MS)
    with pytest.raises(StampNotBuffered, match="newer than the newest pair"):
        buffer.find(newest + 500 * MS, MS)
    with pytest.raises(StampNotBuffered, match=r"closest buffered frame is 12\.\d ms away"):
        buffer.find(oldest + 16 * MS, MS)
    with pytest.raises(StampNotBuffered, match="no frames yet"):
        PairBuffer().find(0, MS)


def test_buffer_restarts_when_time_goes_back():
    buffer = _filled()
    assert not buffer.push(_pair(10.0))
    assert len(buffer) == 1 and buffer.newest().stamp_ns == 10 * MS


def test_buffer_holds_single_camera_pairs():
    buffer = PairBuffer(2.0)
    buffer.push(_pair(100.0, visible=False))
    assert buffer.find(100 * MS, 0).visible is None
    assert buffer.newest().stamp_ns == 100 * MS


def test_buffer_resize_and_zero_seconds_keeps_only_the_newest():
    buffer = _filled(seconds=2.0)
    buffer.resize(0.0)
    assert len(buffer) == 1


def test_after_a_pause_of_both_cameras_the_other_one_gets_time_to_show_up():
    pairer = ApproximateTimePairer(PairingSettings(camera_timeout=0.5), now=0.0)
    assert pairer.add(VISIBLE, 10 * S, "v", 10.0) is None          # both silent since 0 s: no single yet
    assert not pairer.silent(THERMAL, 10.0)
    assert pairer.add(THERMAL, 10 * S, "t", 10.01).complete
    assert pairer.add(VISIBLE, 10 * S + 300 * MS, "v2", 10.3) is None  # waits for a thermal partner
    single = pairer.add(VISIBLE, 10 * S + 600 * MS, "v3", 10.6)      # thermal quiet for 0.59 s: alone
    assert single.thermal is None and single.visible.payload == "v3"
