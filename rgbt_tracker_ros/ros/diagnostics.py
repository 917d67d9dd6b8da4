"""The node's health as one diagnostic_msgs/DiagnosticStatus: numbers in, level and a sentence out.

`Counters` accumulates what the node counts and measures and takes a `Health` snapshot of it each
tick; `assess` decides the level and the message from a snapshot (plain data, testable without
ROS); `to_status` turns the snapshot into the message published on /diagnostics at 1 Hz.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from rgbt_tracker_ros.ros import state as state_codes
from rgbt_tracker_ros.ros.pairing import CAMERAS, ApproximateTimePairer

OK, WARN, ERROR = 0, 1, 2
RECENT_S = 5.0  # how long a rejected frame or a time reset keeps the status at WARN
UNPAIRED_SHARE = 0.1  # a camera's frames left without a partner in the last second above this share: WARN


class LatencyWindow:
    """The last `size` latency samples (ms) and their percentiles."""

    def __init__(self, size: int = 300):
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, ms: float) -> None:
        self._samples.append(float(ms))

    def percentile(self, pct: float) -> float | None:
        return float(np.percentile(np.fromiter(self._samples, float), pct)) if self._samples else None


class RateMeter:
    """Rate of a monotonically increasing counter between successive `update` calls."""

    def __init__(self, now: float):
        self._last_value = 0
        self._last_time = now
        self.rate = 0.0
        self.delta = 0

    def update(self, value: int, now: float) -> float:
        elapsed = now - self._last_time
        self.delta = value - self._last_value
        self.rate = self.delta / elapsed if elapsed > 0 else 0.0
        self._last_value, self._last_time = value, now
        return self.rate


def _per_camera() -> dict:
    return dict.fromkeys(CAMERAS, 0)


@dataclass
class Health:
    """What the node knows about itself at one diagnostics tick."""

    model: str = ""
    provider: str = ""
    homography: str = "default (scaling onto the visible size)"
    input_hz: dict = field(default_factory=_per_camera)
    seen: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, False))
    silent: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, True))
    # Why a camera that sends gives nothing to pair with: "stuck" (no frame stamped after its latest,
    # `stuck_stamp_s`), "unpaired" (fresh stamps that pair with none of the other camera's); "".
    unpairable: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, ""))
    stuck_stamp_s: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS))
    measured_offset_s: float | None = None  # the value for sync.thermal_offset, from arrival times
    thermal_offset_s: float = 0.0           # sync.thermal_offset as set
    topics: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, ""))
    pair_buffer: tuple[int, float, float] | None = None  # pairs, seconds, MB held for ~/init_target
    pair_hz: float = 0.0
    processed_hz: float = 0.0
    skew_ms: float | None = None           # mean |stamp difference| of the pairs since the last tick
    unpaired: dict = field(default_factory=_per_camera)
    new_unpaired: dict = field(default_factory=_per_camera)  # since the last tick
    reordered: dict = field(default_factory=_per_camera)     # stamps a little earlier than the latest: paired
    slop_s: float = 0.0                                      # sync.slop
    dropped_pairs: int = 0
    new_dropped_pairs: int = 0              # since the last tick
    bad_frames: dict = field(default_factory=_per_camera)
    recent_bad_input: str = ""              # the latest rejection, while it is recent; "" otherwise
    backwards: dict = field(default_factory=_per_camera)
    recent_backwards: str = ""              # camera whose stamps went back recently; "" otherwise
    duplicates: dict = field(default_factory=_per_camera)  # frames repeating the previous stamp (dropped)
    resolution: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, ""))  # "640x480": frames used at
    recent_resolution_change: str = ""      # "visible camera changed resolution ...", while recent
    # Frames that hold no information (tracking/frame_check.py): per camera, why its latest frame was
    # set aside ("" while its frames are evidence), since how long (s), and how many so far.
    uninformative: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, ""))
    uninformative_s: dict = field(default_factory=lambda: dict.fromkeys(CAMERAS, 0.0))
    ignored_frames: dict = field(default_factory=_per_camera)
    new_duplicates: int = 0                 # since the last tick
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_warn_ms: float = 50.0
    state: int = 0                          # the ~/state byte of the last processed frame
    score: float = 0.0
    debug_images: int = 0


class Counters:
    """The node's counters and windows behind /diagnostics (the node guards them with its lock)."""

    def __init__(self, now: float):
        self.received = dict.fromkeys(CAMERAS, 0)
        self.rejected = dict.fromkeys(CAMERAS, 0)
        self.last_rejection: tuple[float, str] | None = None
        self.last_backwards: tuple[float, str] | None = None
        self.last_resolution_change: tuple[float, str] | None = None
        self.processed = 0
        self.dropped = 0
        self.debug_images = 0
        self.skew_sum_ms, self.skew_count = 0.0, 0
        self.state, self.score = 0, 0.0
        self.latency = LatencyWindow()
        self.ignored = dict.fromkeys(CAMERAS, 0)
        self._uninformative: dict[str, tuple[str, float] | None] = dict.fromkeys(CAMERAS)  # (reason, since)
        self._meters = {name: RateMeter(now) for name in (*CAMERAS, "pairs", "processed", "dropped", "duplicates",
                                                          *(f"unpaired {c}" for c in CAMERAS))}

    def content(self, camera: str, reason: str | None, now: float) -> None:
        """A processed frame of `camera` held information (reason None) or not (why): counts it and
        keeps when the current stretch of frames without information began."""
        if reason is None:
            self._uninformative[camera] = None
            return
        self.ignored[camera] += 1
        stretch = self._uninformative[camera]
        self._uninformative[camera] = (reason, now if stretch is None else stretch[1])

    def health(self, now: float, pairer: ApproximateTimePairer, latency_warn_ms: float,
               resolution: dict | None = None) -> Health:
        """`resolution`: per camera the (width, height) its frames are used at (None: no frame yet)."""
        stats = pairer.stats
        pairs = stats.pairs + sum(stats.single.values())
        for camera in CAMERAS:
            self._meters[camera].update(self.received[camera], now)
        self._meters["pairs"].update(pairs, now)
        self._meters["processed"].update(self.processed, now)
        self._meters["dropped"].update(self.dropped, now)
        self._meters["duplicates"].update(sum(stats.duplicates.values()), now)
        for camera in CAMERAS:
            self._meters[f"unpaired {camera}"].update(stats.unpaired[camera], now)
        skew = self.skew_sum_ms / self.skew_count if self.skew_count else None
        self.skew_sum_ms, self.skew_count = 0.0, 0
        recent = (lambda event: event is not None and now - event[0] < RECENT_S)
        return Health(
            input_hz={c: self._meters[c].rate for c in CAMERAS},
            seen={c: pairer.seen(c) for c in CAMERAS},
            silent={c: pairer.silent(c, now) for c in CAMERAS},
            unpairable={c: reason if (reason := pairer.unusable(c, now)) in ("stuck", "unpaired") else ""
                        for c in CAMERAS},
            stuck_stamp_s={c: None if (ns := pairer.stuck_stamp_ns(c)) is None else ns / 1e9 for c in CAMERAS},
            measured_offset_s=pairer.measured_thermal_offset(),
            thermal_offset_s=pairer.settings.thermal_offset,
            pair_hz=self._meters["pairs"].rate,
            processed_hz=self._meters["processed"].rate,
            skew_ms=skew,
            unpaired=dict(stats.unpaired),
            new_unpaired={c: self._meters[f"unpaired {c}"].delta for c in CAMERAS},
            reordered=dict(stats.reordered),
            slop_s=pairer.settings.slop,
            dropped_pairs=self.dropped,
            new_dropped_pairs=self._meters["dropped"].delta,
            bad_frames=dict(self.rejected),
            recent_bad_input=self.last_rejection[1] if recent(self.last_rejection) else "",
            backwards=dict(stats.backwards),
            duplicates=dict(stats.duplicates),
            new_duplicates=self._meters["duplicates"].delta,
            recent_backwards=self.last_backwards[1] if recent(self.last_backwards) else "",
            resolution={c: f"{s[0]}x{s[1]}" if s else "" for c, s in (resolution or {}).items()} or
            dict.fromkeys(CAMERAS, ""),
            recent_resolution_change=(self.last_resolution_change[1] if recent(self.last_resolution_change)
                                      else ""),
            uninformative={c: s[0] if s else "" for c, s in self._uninformative.items()},
            uninformative_s={c: now - s[1] if s else 0.0 for c, s in self._uninformative.items()},
            ignored_frames=dict(self.ignored),
            latency_p50_ms=self.latency.percentile(50),
            latency_p95_ms=self.latency.percentile(95),
            latency_warn_ms=latency_warn_ms,
            state=self.state,
            score=self.score,
            debug_images=self.debug_images,
        )


def assess(h: Health) -> tuple[int, str]:
    """(level, message) a person understands: ERROR without input, WARN for anything degraded."""
    if all(h.silent.values()):
        if not any(h.seen.values()):
            return ERROR, (f"no camera frames received yet on {h.topics['visible']} or {h.topics['thermal']}"
                           " (check the topic names and the QoS)")
        return ERROR, "both cameras are silent: no frames to track on"
    if all(h.silent[c] or h.unpairable[c] == "stuck" for c in CAMERAS):
        said = "; ".join(_stuck(h, c) for c in CAMERAS if h.unpairable[c] == "stuck")
        return ERROR, f"no camera sends fresh stamps ({said}): no frames to track on"
    warnings = []
    for camera in CAMERAS:
        other = "thermal" if camera == "visible" else "visible"
        if h.silent[camera]:
            never = "" if h.seen[camera] else f" (nothing received on {h.topics[camera]})"
            warnings.append(f"{camera} camera silent{never}: tracking on {other} alone")
        elif h.unpairable[camera] == "stuck":
            warnings.append(f"{_stuck(h, camera)}: tracking on {other} alone")
        elif h.unpairable[camera] == "unpaired":
            warnings.append(f"{_unpaired(h, camera, other)}: tracking on {other} alone{_offset_advice(h)}")
        elif h.uninformative[camera]:
            usable = not (h.silent[other] or h.unpairable[other] or h.uninformative[other])
            warnings.append(f"{camera} frames hold no information ({h.uninformative[camera]}) for "
                            f"{h.uninformative_s[camera]:.1f} s: " + (f"tracking on {other} alone" if usable else "ignored"))
    if any(h.uninformative.values()) and all(h.silent[c] or h.unpairable[c] or h.uninformative[c] for c in CAMERAS):
        idle = h.state & state_codes.STATE_MASK == state_codes.State.IDLE
        warnings.append("no camera gives information" + ("" if idle else ": the box is held, uncertain"))
    if h.recent_bad_input:
        warnings.append(f"frames rejected: {h.recent_bad_input}")
    if h.recent_backwards:
        warnings.append(f"{h.recent_backwards} stamps went backwards: pairing and the buffer restarted")
    if h.recent_resolution_change:
        warnings.append(f"{h.recent_resolution_change}: followed, the target initialised again on its box")
    if h.new_duplicates:
        warnings.append(f"{h.new_duplicates} frames repeated their camera's previous stamp and were dropped")
    if not any(h.silent.values()) and h.pair_hz == 0.0 and all(v > 0 for v in h.input_hz.values()):
        warnings.append("frames arrive from both cameras but none pair: stamps further apart than sync.slop"
                        + _offset_advice(h))
    elif not any(h.silent.values()) and not any(h.unpairable.values()) and any(h.new_unpaired[c] > UNPAIRED_SHARE * h.input_hz[c] for c in CAMERAS):
        counts = " and ".join(f"{h.new_unpaired[c]} {c}" for c in CAMERAS)
        warnings.append(f"{counts} frames found no partner within sync.slop ({h.slop_s:g} s) in the last "
                        "second: their stamps jitter or are offset by more; raise sync.slop or set sync.thermal_offset")
    if h.new_dropped_pairs:
        warnings.append(f"{h.new_dropped_pairs} pairs dropped in the last second (processing slower than input)")
    if h.latency_p95_ms is not None and h.latency_p95_ms > h.latency_warn_ms:
        warnings.append(f"latency p95 {h.latency_p95_ms:.0f} ms above {h.latency_warn_ms:g} ms")
    if h.state & state_codes.STATE_MASK == state_codes.State.LOST:
        warnings.append("target lost")
    if warnings:
        return WARN, "; ".join(warnings)
    code = h.state & state_codes.STATE_MASK
    if code == state_codes.State.IDLE:
        return OK, f"idle: waiting for a target (~/init_target), {h.pair_hz:.1f} pairs/s"
    return OK, f"{state_codes.describe(h.state)}, score {h.score:.2f}, {h.processed_hz:.1f} Hz processed"


def to_status(h: Health, name: str, hardware_id: str):
    """The DiagnosticStatus for one tick."""
    from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

    level, message = assess(h)
    values = [
        ("state", state_codes.describe(h.state)),
        ("state code", str(h.state)),
        ("score", f"{h.score:.3f}"),
        ("visible rate (Hz)", f"{h.input_hz['visible']:.1f}"),
        ("thermal rate (Hz)", f"{h.input_hz['thermal']:.1f}"),
        ("pair rate (Hz)", f"{h.pair_hz:.1f}"),
        ("processed rate (Hz)", f"{h.processed_hz:.1f}"),
        ("pairing skew (ms)", _ms(h.skew_ms)),
        ("visible pairing", _pairing(h, "visible")),
        ("thermal pairing", _pairing(h, "thermal")),
        ("measured thermal offset (s)", "n/a" if h.measured_offset_s is None else f"{h.measured_offset_s:.3f}"),
        ("unpaired visible frames", str(h.unpaired["visible"])),
        ("unpaired thermal frames", str(h.unpaired["thermal"])),
        ("dropped pairs", str(h.dropped_pairs)),
        ("pair buffer", "n/a" if h.pair_buffer is None else
         "{} pairs, {:.2f} s, {:.0f} MB".format(*h.pair_buffer)),
        ("rejected visible frames", str(h.bad_frames["visible"])),
        ("rejected thermal frames", str(h.bad_frames["thermal"])),
        ("last rejection", h.recent_bad_input or "none recently"),
        ("visible stamps backwards", str(h.backwards["visible"])),
        ("thermal stamps backwards", str(h.backwards["thermal"])),
        ("visible duplicate stamps", str(h.duplicates["visible"])),
        ("thermal duplicate stamps", str(h.duplicates["thermal"])),
        ("visible reordered stamps", str(h.reordered["visible"])),
        ("thermal reordered stamps", str(h.reordered["thermal"])),
        ("visible resolution", h.resolution["visible"] or "n/a"),
        ("thermal resolution", h.resolution["thermal"] or "n/a"),
        ("last resolution change", h.recent_resolution_change or "none recently"),
        ("visible frame content", _content(h, "visible")),
        ("thermal frame content", _content(h, "thermal")),
        ("ignored visible frames", str(h.ignored_frames["visible"])),
        ("ignored thermal frames", str(h.ignored_frames["thermal"])),
        ("latency p50 (ms)", _ms(h.latency_p50_ms)),
        ("latency p95 (ms)", _ms(h.latency_p95_ms)),
        ("execution provider", h.provider),
        ("model", h.model),
        ("thermal to visible", h.homography),
        ("debug images published", str(h.debug_images)),
    ]
    return DiagnosticStatus(
        level=bytes([level]),
        name=name,
        message=message,
        hardware_id=hardware_id,
        values=[KeyValue(key=k, value=v) for k, v in values],
    )


def _stuck(h: Health, camera: str) -> str:
    stamp = h.stuck_stamp_s[camera]
    after = "" if stamp is None else f" after {stamp:.3f}"
    return f"{camera} stamps stuck (no frame stamped{after}: not paired)"


def _unpaired(h: Health, camera: str, other: str) -> str:
    apart = ""
    if h.measured_offset_s is not None:
        apart = f", stamps {1000 * abs(h.measured_offset_s - h.thermal_offset_s):.0f} ms apart by their arrival times"
    return f"{camera} frames do not pair with {other} ones (beyond sync.slop {h.slop_s:g} s{apart})"


def _offset_advice(h: Health) -> str:
    """'; set sync.thermal_offset to -0.300 ...' when the measured offset is beyond slop from the set one."""
    measured = h.measured_offset_s
    if measured is None or abs(measured - h.thermal_offset_s) <= h.slop_s:
        return ""
    return f"; if the cameras' clocks differ by that, set sync.thermal_offset to {measured:.3f}"


def _content(h: Health, camera: str) -> str:
    """'ok', or why the camera's frames are set aside and since how long: 'black for 3.2 s'."""
    reason = h.uninformative[camera]
    return f"{reason} for {h.uninformative_s[camera]:.1f} s" if reason else "ok"


def _pairing(h: Health, camera: str) -> str:
    """'ok', 'silent', 'stamps stuck: none after ...' or 'not pairing: set aside' for one camera."""
    if h.silent[camera]:
        return "silent"
    if h.unpairable[camera] == "stuck":
        stamp = h.stuck_stamp_s[camera]
        return "stamps stuck" + ("" if stamp is None else f": none after {stamp:.3f}")
    return "not pairing: set aside" if h.unpairable[camera] == "unpaired" else "ok"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
