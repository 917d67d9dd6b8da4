"""Issue 14, finding 4, in the pairer alone: a camera whose frames cannot be paired (stamps frozen,
stamps all zero, a clock 300 ms off) is handled like a silent one after camera_timeout, so the
other camera goes on alone on every frame; the reason is told (stuck / unpaired) and a constant
clock offset is measured from arrival times.

Before: every frame of the healthy camera waited for a partner that never came: no output at all.
"""

from __future__ import annotations

import heapq

import pytest

from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE, ApproximateTimePairer, Pair, PairingSettings

S = 1_000_000_000
PERIOD = 1 / 30
TIMEOUT = 0.5


def _frames(camera: str, count: int, stamp_of, latency_s: float = 0.005, start_s: float = 1.0):
    """(arrival s, camera, stamp ns) of `count` frames at 30 Hz; `stamp_of(i, nominal s)` -> stamp ns."""
    return [(start_s + i * PERIOD + latency_s, camera, stamp_of(i, start_s + i * PERIOD)) for i in range(count)]


def _fresh(i, nominal, offset_s=0.0):
    return int(round((nominal + offset_s) * S))


def _run(pairer, *streams) -> list[tuple[float, Pair]]:
    out = []
    for arrival, camera, stamp in heapq.merge(*(sorted(s) for s in streams)):
        pair = pairer.add(camera, stamp, (camera, stamp), arrival)
        if pair is not None:
            out.append((arrival, pair))
    return out


def _pairer(**settings) -> ApproximateTimePairer:
    return ApproximateTimePairer(PairingSettings(camera_timeout=TIMEOUT, **settings), now=1.0)


def _alone_after_timeout(outputs, camera: str, fault_at: float, end: float) -> list[float]:
    """Arrival times of the single-camera outputs of `camera`; checks there is one per frame from
    fault_at + camera_timeout (+ a frame) to the end, and none of the other camera."""
    singles = [t for t, p in outputs if not p.complete]
    assert all((p.visible is not None) == (camera == VISIBLE) for _, p in outputs if not p.complete)
    expected = int((end - (fault_at + TIMEOUT)) / PERIOD) - 1
    late = [t for t in singles if t > fault_at + TIMEOUT + PERIOD]
    assert len(late) >= expected, (len(late), expected)
    times = [t for t, _ in outputs]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= TIMEOUT + 2 * PERIOD, max(gaps)  # at most camera_timeout without output
    return singles


@pytest.mark.parametrize("stuck_stamp", ["frozen", "zero"])
def test_thermal_stamps_stuck_visible_goes_on_alone_after_camera_timeout(stuck_stamp):
    pairer = _pairer()
    fault_at = 1.0 + 30 * PERIOD  # frames 0..29 fine, then the thermal stamps stick

    def thermal(i, nominal):
        if i < 30:
            return _fresh(i, nominal, 0.002)
        return _fresh(29, nominal - (i - 29) * PERIOD, 0.002) if stuck_stamp == "frozen" else 0

    outputs = _run(pairer, _frames(VISIBLE, 120, _fresh), _frames(THERMAL, 120, thermal))
    end = 1.0 + 120 * PERIOD
    assert sum(p.complete for _, p in outputs) >= 29
    _alone_after_timeout(outputs, VISIBLE, fault_at, end)
    assert pairer.unusable(THERMAL, end) == "stuck" and pairer.unusable(VISIBLE, end) is None
    assert pairer.stuck_stamp_ns(THERMAL) == (_fresh(29, 1.0 + 29 * PERIOD, 0.002) if stuck_stamp == "frozen" else 0)


def test_stamps_stuck_just_behind_the_latest_are_stuck_not_an_endless_reordering():
    pairer = _pairer()

    def thermal(i, nominal):  # from frame 30 on, every frame carries frame 28's stamp
        return _fresh(28, 1.0 + 28 * PERIOD, 0.002) if i >= 30 else _fresh(i, nominal, 0.002)

    outputs = _run(pairer, _frames(VISIBLE, 120, _fresh), _frames(THERMAL, 120, thermal))
    _alone_after_timeout(outputs, VISIBLE, 1.0 + 30 * PERIOD, 1.0 + 120 * PERIOD)
    assert pairer.unusable(THERMAL, 1.0 + 120 * PERIOD) == "stuck"


def test_visible_stamps_frozen_thermal_goes_on_alone():
    pairer = _pairer()
    fault_at = 1.0 + 30 * PERIOD

    def visible(i, nominal):
        return _fresh(min(i, 29), 1.0 + min(i, 29) * PERIOD)

    outputs = _run(pairer, _frames(VISIBLE, 120, visible), _frames(THERMAL, 120, lambda i, n: _fresh(i, n, 0.002)))
    _alone_after_timeout(outputs, THERMAL, fault_at, 1.0 + 120 * PERIOD)
    assert pairer.unusable(VISIBLE, 1.0 + 120 * PERIOD) == "stuck"


def test_stuck_camera_that_sends_fresh_stamps_again_pairs_again():
    pairer = _pairer()

    def thermal(i, nominal):
        return _fresh(29, 0.0, 0.002) if 30 <= i < 80 else _fresh(i, nominal, 0.002)

    outputs = _run(pairer, _frames(VISIBLE, 120, _fresh), _frames(THERMAL, 120, thermal))
    after = [p for t, p in outputs if t > 1.0 + 82 * PERIOD]
    assert len(after) >= 36 and all(p.complete for p in after)
    assert pairer.unusable(THERMAL, 1.0 + 120 * PERIOD) is None


@pytest.mark.parametrize("offset_s", [0.3, -0.3])
def test_thermal_clock_off_by_300_ms_is_set_aside_and_its_offset_measured(offset_s):
    pairer = _pairer()
    thermal = _frames(THERMAL, 120, lambda i, n: _fresh(i, n, offset_s + 0.002), latency_s=0.007)
    outputs = _run(pairer, _frames(VISIBLE, 120, _fresh), thermal)
    end = 1.0 + 120 * PERIOD
    assert not any(p.complete for _, p in outputs)
    _alone_after_timeout(outputs, VISIBLE, 1.0, end)
    assert pairer.unusable(THERMAL, end) == "unpaired" and pairer.stats.set_aside == 1
    # thermal stamps + offset = visible clock: -(offset + 2 ms stamp lag) + 2 ms more transport delay
    assert pairer.measured_thermal_offset() == pytest.approx(-offset_s, abs=0.02)

    # The measured value set as sync.thermal_offset: the cameras pair again at once.
    pairer.update(PairingSettings(camera_timeout=TIMEOUT, thermal_offset=pairer.measured_thermal_offset()), end)
    later = _run(pairer, _frames(VISIBLE, 30, _fresh, start_s=end),
                 _frames(THERMAL, 30, lambda i, n: _fresh(i, n, offset_s + 0.002), latency_s=0.007, start_s=end))
    assert sum(p.complete for _, p in later) >= 29 and pairer.unusable(THERMAL, end + 1.0) is None


def test_offset_that_ends_pairs_again_when_it_is_gone():
    """A thermal clock off for 2 s, then right again: set aside, then paired from the first match on."""
    pairer = _pairer()

    def thermal(i, nominal):
        return _fresh(i, nominal, 0.3 if 30 <= i < 90 else 0.002)

    outputs = _run(pairer, _frames(VISIBLE, 150, _fresh), _frames(THERMAL, 150, thermal))
    assert pairer.stats.set_aside == 1
    after = [p for t, p in outputs if t > 1.0 + 92 * PERIOD]
    assert len(after) >= 56 and all(p.complete for p in after)
    times = [t for t, _ in outputs]
    assert max(b - a for a, b in zip(times, times[1:])) <= TIMEOUT + 2 * PERIOD


def test_no_offset_is_measured_before_both_cameras_sent_a_few_frames():
    pairer = _pairer()
    pairer.add(VISIBLE, S, "v", 1.0)
    assert pairer.measured_thermal_offset() is None
