"""The tracking state as the node publishes it on `~/state` (std_msgs/UInt8), for controllers.

The low four bits are the tracking state; two flag bits say that a camera gave nothing usable and
the frame was tracked on the other one alone:

    state & STATE_MASK  -> IDLE (0), TRACKING (1), UNCERTAIN (2), LOST (3)
    state & VISIBLE_MISSING (0x10) -> no usable visible frame: tracked on thermal alone
    state & THERMAL_MISSING (0x20) -> no usable thermal frame: tracked on visible alone

"No usable frame": none in the pair, one that holds no information (black, saturated, uniform,
frozen, non-finite: /diagnostics says which and for how long), or a camera the target was
initialised without. Both flags: no camera gave information; the box is the last one, uncertain.

So 1 is "tracking on both cameras", 0x21 = 33 "tracking on visible alone". A controller that only
needs to know whether to follow the box tests `state & STATE_MASK == TRACKING`.
"""

from __future__ import annotations

import enum

from rgbt_tracker_ros.tracking.result import TrackState

STATE_MASK = 0x0F
VISIBLE_MISSING = 0x10
THERMAL_MISSING = 0x20


class State(enum.IntEnum):
    IDLE = 0        # no target: not initialised, or reset
    TRACKING = 1    # confident; follow the box
    UNCERTAIN = 2   # low score: the box is the last confident one, do not steer by it
    LOST = 3        # not found for several frames; ~/target is empty


_FROM_TRACK_STATE = {
    TrackState.TRACKING: State.TRACKING,
    TrackState.UNCERTAIN: State.UNCERTAIN,
    TrackState.LOST: State.LOST,
}


def from_track_state(state: TrackState | None) -> State:
    return State.IDLE if state is None else _FROM_TRACK_STATE[state]


def encode(state: State, visible: bool, thermal: bool) -> int:
    """The `~/state` byte for a frame tracked with the cameras that were usable (True: used)."""
    code = int(state)
    if not visible:
        code |= VISIBLE_MISSING
    if not thermal:
        code |= THERMAL_MISSING
    return code


def describe(code: int) -> str:
    """'tracking', 'lost (thermal only)', ... for logs and diagnostics."""
    text = State(code & STATE_MASK).name.lower()
    if code & VISIBLE_MISSING and code & THERMAL_MISSING:
        return f"{text} (no camera usable)"
    if code & VISIBLE_MISSING:
        return f"{text} (thermal only)"
    if code & THERMAL_MISSING:
        return f"{text} (visible only)"
    return text
