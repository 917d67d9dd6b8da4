"""`~/init_box` (geometry_msgs/PolygonStamped): a target handed over with one publish, by a detector
or a ground station (issue 14, section 3).

The polygon holds the box's corners in visible pixels (its axis-aligned bounds are the box; two
opposite corners suffice), the header the stamp of the frame the box was found on (0: the newest
frame). The node runs it like an `~/init_target` call, on the request thread: the same buffered
catch-up, checks and refusals. A topic has no response, so each refusal is logged and counted here
for /diagnostics. With `init_box_topic.only_when_lost` the stream re-initialises only while no
target is followed (idle or lost): the detect-then-track pattern. No rclpy here.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.ros.state import STATE_MASK, State

RECENT_S = 10.0  # a refusal stays in /diagnostics' summary this long
Box = tuple[float, float, float, float]
FOLLOWED = (State.TRACKING, State.UNCERTAIN)


def box_from_corners(points) -> Box:
    """x, y, w, h of the corners' axis-aligned bounds; InputError with the reason when they are no box."""
    if len(points) < 2:
        raise InputError(f"a box needs at least 2 corners, the polygon has {len(points)}")
    xs, ys = [float(p.x) for p in points], [float(p.y) for p in points]
    if not all(math.isfinite(v) for v in xs + ys):
        raise InputError("the corners contain NaN or infinity")
    x, y = min(xs), min(ys)
    return x, y, max(xs) - x, max(ys) - y


def ignored_while_followed(has_target: bool, code: int, only_when_lost: bool) -> bool:
    """With only_when_lost, a box that arrives while the target is followed is ignored: there is a
    target (none after a reset, before the next frame says idle) and the last frame's state byte
    `code` says tracking or uncertain."""
    return only_when_lost and has_target and State(code & STATE_MASK) in FOLLOWED


@dataclass
class InitBoxCounts:
    """What /diagnostics says about the topic."""

    received: int = 0
    used: int = 0
    refused: int = 0
    ignored: int = 0       # only_when_lost, while tracking
    superseded: int = 0    # a newer box arrived before this one was handled
    last_refusal: tuple[float, str] | None = None  # (monotonic time, reason)


class InitBoxReport:
    """Thread-safe counts of the `~/init_box` messages (executor thread and request thread)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = InitBoxCounts()

    def count(self, what: str) -> None:
        with self._lock:
            setattr(self._counts, what, getattr(self._counts, what) + 1)

    def refused(self, reason: str, now: float) -> None:
        with self._lock:
            self._counts.refused += 1
            self._counts.last_refusal = (now, reason)

    def recent_refusal(self, now: float) -> str:
        """The last refusal's reason while it is recent; '' otherwise."""
        with self._lock:
            last = self._counts.last_refusal
        return last[1] if last is not None and now - last[0] <= RECENT_S else ""

    def values(self, now: float) -> list[tuple[str, str]]:
        """Key-values for the node's /diagnostics status."""
        with self._lock:
            c = self._counts
            last = c.last_refusal
        when = "" if last is None else f" ({now - last[0]:.0f} s ago)"
        return [
            ("init_box messages", str(c.received)),
            ("init_box used", str(c.used)),
            ("init_box refused", str(c.refused)),
            ("init_box ignored while tracking", str(c.ignored)),
            ("init_box superseded", str(c.superseded)),
            ("last init_box refusal", "none" if last is None else last[1] + when),
        ]
