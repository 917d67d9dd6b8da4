"""Approximate-time pairing of visible and thermal frames by header stamp (pure Python, no rclpy).

ROS 2's message_filters is not installable here, and the node needs less than it offers: the newest
pair, at once. A frame that arrives is paired with the closest queued frame of the other camera
within `slop`; frames older than an emitted pair are discarded (and counted), so nothing ever
queues up behind the newest pair. Latency wins over the best possible match: a frame is not held
back in case a closer partner arrives later.

A camera that gives nothing to pair with for longer than `camera_timeout` (by arrival time)
switches the other one to single-camera output: each of its frames comes out alone until the
camera is usable again. Such a camera is
- silent: no frame arrived;
- stuck: frames arrive, but none with a stamp later than the camera's latest (a frozen or zero clock);
- unpaired: both cameras send fresh stamps, yet no pair formed (a clock offset beyond `slop`). The
  thermal camera is then set aside (the visible one is the reference: boxes live in its pixels);
  its frames are still matched against the visible frames just sent, and the first match ends it.
When both were silent (start-up, a pause), the first frame gives the other camera camera_timeout
to show up before single-camera output starts. The offset between the cameras' clocks is measured
from arrival times (median of stamp - arrival per camera), so the value for `thermal_offset` can be
reported whatever the offset (stamps alone cannot tell an offset from a whole number of periods).
A stamp earlier than the camera's latest by at most `reorder_window` is a reordered frame (stamp
jitter, a driver's out-of-order delivery): it is paired like any other and counted. Further back,
the camera's clock restarted (a restarted bag, a simulator reset): both queues are cleared and it
is counted as going backwards. The same stamp twice is dropped as a duplicate.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any

# Frames per camera whose (stamp - arrival) the clock offset is measured from, and the fewest used.
_CLOCK_SAMPLES = 61
_MIN_CLOCK_SAMPLES = 5

VISIBLE = "visible"
THERMAL = "thermal"
CAMERAS = (VISIBLE, THERMAL)


@dataclass(frozen=True)
class PairingSettings:
    slop: float = 0.02            # s: largest stamp difference of a pair
    queue_size: int = 4           # frames kept per camera while waiting for a partner
    thermal_offset: float = 0.0   # s: added to thermal stamps before comparing (a known camera delay)
    camera_timeout: float = 0.5   # s without frames from a camera before the other one goes on alone
    reorder_window: float = 0.25  # s: a stamp this much earlier than its camera's latest is reordered, not a restart

    def __post_init__(self) -> None:
        if not (math.isfinite(self.slop) and self.slop >= 0.0):
            raise ValueError(f"slop must be a finite number >= 0, got {self.slop!r}")
        if isinstance(self.queue_size, bool) or not isinstance(self.queue_size, int) or self.queue_size < 1:
            raise ValueError(f"queue_size must be an integer >= 1, got {self.queue_size!r}")
        if not math.isfinite(self.thermal_offset):
            raise ValueError(f"thermal_offset must be finite, got {self.thermal_offset!r}")
        if not self.camera_timeout > 0.0:
            raise ValueError(f"camera_timeout must be > 0, got {self.camera_timeout!r}")
        if not (math.isfinite(self.reorder_window) and self.reorder_window >= 0.0):
            raise ValueError(f"reorder_window must be a finite number >= 0, got {self.reorder_window!r}")


@dataclass(frozen=True)
class Frame:
    stamp_ns: int       # the header stamp as sent
    payload: Any        # whatever the caller pairs (the node: image and header)
    received: float     # arrival time, seconds on the caller's monotonic clock


@dataclass(frozen=True)
class Pair:
    visible: Frame | None
    thermal: Frame | None
    skew_ns: int = 0    # |visible - (thermal + offset)|; 0 for a single-camera frame

    @property
    def stamp_ns(self) -> int:
        """The pair's stamp: the visible frame's (boxes live in its pixels), else the thermal one's."""
        return self.visible.stamp_ns if self.visible is not None else self.thermal.stamp_ns

    @property
    def complete(self) -> bool:
        return self.visible is not None and self.thermal is not None

    def frame(self, camera: str) -> Frame | None:
        return self.visible if camera == VISIBLE else self.thermal


@dataclass
class PairingStats:
    """Counters since start (never reset, so a reader can take differences)."""

    frames: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, 0))      # frames offered
    unpaired: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, 0))    # discarded without partner
    single: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, 0))      # emitted alone
    duplicates: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, 0))  # same stamp again
    backwards: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, 0))   # stamp went back: reset
    reordered: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, 0))   # a little earlier: paired
    set_aside: int = 0  # times the thermal camera was set aside because its frames did not pair
    pairs: int = 0


class ApproximateTimePairer:
    """Pairs frames of the two cameras; see the module docstring. Not thread-safe: one caller at a time."""

    def __init__(self, settings: PairingSettings | None = None, now: float = 0.0):
        self.settings = settings or PairingSettings()
        self.stats = PairingStats()
        # (aligned stamp, frame, already sent alone) per camera, in stamp order
        self._queues: dict[str, deque[tuple[int, Frame, bool]]] = {c: deque() for c in CAMERAS}
        self._last_stamp: dict[str, int | None] = dict.fromkeys(CAMERAS)
        # A camera that never sent anything counts as silent from the pairer's creation on.
        self._last_arrival: dict[str, float] = dict.fromkeys(CAMERAS, now)
        self._last_fresh: dict[str, float] = dict.fromkeys(CAMERAS, now)   # arrival of the last new stamp
        self._seen: dict[str, bool] = dict.fromkeys(CAMERAS, False)
        self._pairing_since = now          # the last pair, or since when both cameras send fresh stamps
        self.set_aside: str | None = None  # the camera whose frames do not pair (unpaired)
        self._clock_samples: dict[str, deque[float]] = {c: deque(maxlen=_CLOCK_SAMPLES) for c in CAMERAS}

    # ------------------------------------------------------------------ public API

    def update(self, settings: PairingSettings, now: float | None = None) -> None:
        """New settings; queued frames beyond a smaller queue_size are discarded. A camera set aside
        for not pairing gets camera_timeout (from `now`) to pair under the new settings."""
        self.settings = settings
        for camera in CAMERAS:
            self._trim(camera)
        if now is not None:
            self.set_aside, self._pairing_since = None, now

    def add(self, camera: str, stamp_ns: int, payload: Any, now: float) -> Pair | None:
        """Offer one frame; returns the pair (or single-camera frame) it completes, if any."""
        if camera not in CAMERAS:
            raise ValueError(f"camera must be one of {CAMERAS}, got {camera!r}")
        other = THERMAL if camera == VISIBLE else VISIBLE
        self.stats.frames[camera] += 1
        if self.silent(camera, now) and self.silent(other, now):
            # Input (re)starts after both were silent: give the other camera camera_timeout to show
            # up before this one goes on alone.
            self._last_arrival[other] = self._last_fresh[other] = now
        was_unusable = self.silent(camera, now) or self.stuck(camera, now)
        self._last_arrival[camera] = now
        self._seen[camera] = True
        key = self._aligned(camera, stamp_ns)
        last = self._last_stamp[camera]
        if last is not None and key == last:
            self.stats.duplicates[camera] += 1
            return None
        if last is not None and last - key > round(self.settings.reorder_window * 1e9):
            self.stats.backwards[camera] += 1
            self.reset(now)
            last = None
        if last is not None and key < last:
            self.stats.reordered[camera] += 1  # not fresh: a stamp stuck just behind the latest stays stuck
        else:
            self._last_stamp[camera] = key
            self._last_fresh[camera] = now
        self._clock_samples[camera].append(stamp_ns / 1e9 - now)
        if was_unusable:  # back (or first heard): it gets camera_timeout to pair
            self._pairing_since = now
            if self.set_aside == camera:
                self.set_aside = None
        frame = Frame(int(stamp_ns), payload, now)

        if self.unusable(other, now) in ("silent", "stuck"):
            self._discard(camera, key + 1)
            self._discard(other, math.inf)
            self.stats.single[camera] += 1
            return self._make_pair(camera, frame, None, 0)
        if self.set_aside is None and now - self._pairing_since > self.settings.camera_timeout:
            self.set_aside = THERMAL  # both send fresh stamps, nothing pairs: visible goes on alone
            self.stats.set_aside += 1

        slop_ns = self._slop_ns()
        # Partners older than this frame by more than slop can never pair: this camera only moves on.
        self._discard(other, key - slop_ns)
        match = None
        for other_key, other_frame, sent in self._queues[other]:
            skew = abs(other_key - key)
            if skew <= slop_ns and (match is None or skew < match[0]):
                match = (skew, other_key, other_frame, sent)
        if match is None:
            alone = self.set_aside == other
            bisect.insort(self._queues[camera], (key, frame, alone), key=_queued_stamp)  # in stamp order
            self._trim(camera)
            if alone:  # the other camera is set aside: this frame goes out now, and stays a partner to match
                self.stats.single[camera] += 1
                return self._make_pair(camera, frame, None, 0)
            return None
        skew, other_key, other_frame, sent = match
        self._discard(camera, key)            # older frames of this camera: superseded by this pair
        self._discard(other, other_key)       # older frames of the other camera, likewise
        self._queues[other].popleft()         # the partner itself (now the oldest left)
        self._pairing_since = now
        self.set_aside = None
        if sent:  # the partner went out alone already: pairing resumes with the next frames
            return None
        self.stats.pairs += 1
        return self._make_pair(camera, frame, other_frame, skew)

    def stuck(self, camera: str, now: float) -> bool:
        """True if `camera` sends frames, but none stamped after its latest for longer than camera_timeout."""
        return not self.silent(camera, now) and now - self._last_fresh[camera] > self.settings.camera_timeout

    def unusable(self, camera: str, now: float) -> str | None:
        """Why `camera` gives nothing to pair with: "silent", "stuck", "unpaired"; None while usable."""
        if self.silent(camera, now):
            return "silent"
        if self.stuck(camera, now):
            return "stuck"
        return "unpaired" if self.set_aside == camera else None

    def stuck_stamp_ns(self, camera: str) -> int | None:
        """The latest stamp of `camera` (as sent, before thermal_offset): a stuck camera sends none after it."""
        last = self._last_stamp[camera]
        if last is None:
            return None
        return last - round(self.settings.thermal_offset * 1e9) if camera == THERMAL else last

    def measured_thermal_offset(self) -> float | None:
        """Seconds to add to thermal stamps to put them on the visible camera's clock, measured from
        arrival times (median stamp - arrival per camera; both cameras' transport delays alike); None
        before both cameras have sent a few frames."""
        visible, thermal = (self._clock_samples[c] for c in CAMERAS)
        if len(visible) < _MIN_CLOCK_SAMPLES or len(thermal) < _MIN_CLOCK_SAMPLES:
            return None
        return statistics.median(visible) - statistics.median(thermal)

    def silent(self, camera: str, now: float) -> bool:
        """True if `camera` has sent nothing for longer than camera_timeout."""
        return now - self._last_arrival[camera] > self.settings.camera_timeout

    def seen(self, camera: str) -> bool:
        """True once `camera` has sent at least one frame."""
        return self._seen[camera]

    def queued(self, camera: str) -> int:
        return len(self._queues[camera])

    def reset(self, now: float | None = None) -> None:
        """Forget queued frames (counted as unpaired) and the last stamps (time starts over); the
        cameras get camera_timeout (from `now`) to pair on the new timeline."""
        for camera in CAMERAS:
            self._discard(camera, math.inf)
            self._last_stamp[camera] = None
            self._clock_samples[camera].clear()
        if now is not None:
            self.set_aside, self._pairing_since = None, now

    # ------------------------------------------------------------------ helpers

    def _aligned(self, camera: str, stamp_ns: int) -> int:
        if camera == THERMAL and self.settings.thermal_offset:
            return int(stamp_ns) + int(round(self.settings.thermal_offset * 1e9))
        return int(stamp_ns)

    def _slop_ns(self) -> int:
        return int(round(self.settings.slop * 1e9))

    def _discard(self, camera: str, before) -> None:
        """Drop (and count) the queued frames of `camera` whose aligned stamp is below `before`."""
        queue = self._queues[camera]
        while queue and queue[0][0] < before:
            if not queue.popleft()[2]:
                self.stats.unpaired[camera] += 1

    def _trim(self, camera: str) -> None:
        queue = self._queues[camera]
        while len(queue) > self.settings.queue_size:
            if not queue.popleft()[2]:
                self.stats.unpaired[camera] += 1

    @staticmethod
    def _make_pair(camera: str, frame: Frame, other: Frame | None, skew: int) -> Pair:
        if camera == VISIBLE:
            return Pair(visible=frame, thermal=other, skew_ns=skew)
        return Pair(visible=other, thermal=frame, skew_ns=skew)


def _queued_stamp(entry: tuple[int, Frame, bool]) -> int:
    return entry[0]
