"""`~/result`: each processed frame's box, score and state in one stamped message (issue 14, section 5).

The type is diagnostic_msgs/DiagnosticArray (standard, stamped; vision_msgs is not available, and
docs/ros_node.md says why this one): the header is the frame's (the stamp and frame_id of
`~/target`), and its one DiagnosticStatus says

    name        '<node>: result'
    level       OK tracking, WARN uncertain, ERROR lost, STALE idle (no target)
    message     the state in words ('tracking', 'lost (thermal only)', ...)
    hardware_id the frame_id the box is in
    values      x, y, width, height (the `~/target` box; 'nan' when it is empty), score, state (the
                `~/state` byte)

Numbers are written so that they read back exactly as the float32 of `~/target` and `~/score`.
`read_result` is the reader's side, for the tools and tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from std_msgs.msg import Header

from rgbt_tracker_ros.ros.image_conversion import ns_to_stamp, stamp_to_ns
from rgbt_tracker_ros.ros.state import STATE_MASK, State, describe

BOX_KEYS = ("x", "y", "width", "height")
SCORE_KEY = "score"
STATE_KEY = "state"
_LEVELS = {
    State.TRACKING: DiagnosticStatus.OK,
    State.UNCERTAIN: DiagnosticStatus.WARN,
    State.LOST: DiagnosticStatus.ERROR,
    State.IDLE: DiagnosticStatus.STALE,
}


def _float32_text(value: float) -> str:
    # The float32 of ~/score and ~/target, as the double a subscriber reads from them: equal to it.
    return repr(float(np.float32(value)))


@dataclass(frozen=True)
class Result:
    """One `~/result` message, read back."""

    stamp_ns: int
    frame_id: str
    box: tuple[float, float, float, float] | None  # x, y, w, h; None when `~/target` is empty
    score: float
    code: int                                      # the `~/state` byte

    @property
    def state(self) -> State:
        return State(self.code & STATE_MASK)


def result_message(stamp_ns: int, frame_id: str, box, score: float, code: int, node_name: str) -> DiagnosticArray:
    """The message for a frame; `box` is what `~/target` carries (None: an empty polygon)."""
    values = [KeyValue(key=k, value=_float32_text(v) if box is not None else "nan")
              for k, v in zip(BOX_KEYS, box if box is not None else (math.nan,) * 4)]
    values += [KeyValue(key=SCORE_KEY, value=_float32_text(score)), KeyValue(key=STATE_KEY, value=str(int(code)))]
    status = DiagnosticStatus(level=_LEVELS[State(code & STATE_MASK)], name=f"{node_name}: result",
                              message=describe(code), hardware_id=frame_id, values=values)
    return DiagnosticArray(header=Header(stamp=ns_to_stamp(stamp_ns), frame_id=frame_id), status=[status])


def read_result(msg: DiagnosticArray) -> Result:
    """A `~/result` message's contents (ValueError if it is not one)."""
    if len(msg.status) != 1:
        raise ValueError(f"a result holds one status, this message {len(msg.status)}")
    values = {kv.key: kv.value for kv in msg.status[0].values}
    try:
        box = tuple(float(values[k]) for k in BOX_KEYS)
        score, code = float(values[SCORE_KEY]), int(values[STATE_KEY])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"not a tracker result: {exc}") from exc
    return Result(stamp_to_ns(msg.header.stamp), msg.header.frame_id,
                  None if any(math.isnan(v) for v in box) else box, score, code)
