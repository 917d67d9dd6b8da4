"""The node benchmark (`rgbt-tracker node-bench`): the tracker node as a robot runs it, measured from outside.

The node runs as its own process (DDS on localhost, the shipped Fast DDS profile); this process
plays a synthetic sequence as 640x480 rgb8 visible and 640x512 mono16 thermal pairs at --rate,
initialises the target through `~/init_target`, and after a warm-up measures for --seconds:
- latency: from the visible stamp to the arrival of `~/target` here (same system clock) -> p50/p95/p99,
- processed and offered pair rates, dropped pairs (offered pairs no `~/target` was published for),
- the node's CPU (percent of one core, children included) and resident memory at the start, halfway and
  end (also without shared pages: the DDS shared-memory segments count as resident once touched),
- the node's own time per pair, as its /diagnostics report it at the end (latency p50/p95 over its
  last 300 pairs: from the arrival of the frame that completed the pair in its callback to the
  publication of ~/target; transport and deserialisation excluded).
--find-ceiling repeats shorter runs at rising rates and reports the highest with no dropped pair.
--visible-size plays visible frames of another size (1920x1080, 3840x2160; thermal stays 640x512).
--flood-hz runs three phases: --rate for --seconds, --flood-hz for --flood-seconds, --rate for
--after-flood seconds, and reports the node's resident memory at the flood's start, its peak
(sampled every 0.25 s through the flood) and at the end of the phase after it, with each phase's
rates and latency. Frames larger than 640x480 and floods are rendered before playing (rendering a
1920x1080 frame takes 43 ms, a 3840x2160 one 176 ms here), turned into messages once, and played
forth and back (the target never jumps) by `PrebuiltPlayer`, which only stamps and publishes: the
sequence player, which builds each message as it goes, reached far less than 200 Hz here.
Human text goes to stderr; a node that fails raises NodeFailed (a JobFailed). The command
(arguments, --json) is commands/node_bench.py.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.camera_images import thermal_payload, visible_payload
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.ros.image_conversion import TRANSPORTS, image_to_msg, ns_to_stamp
from rgbt_tracker_ros.ros.names import DIAGNOSTICS_TOPIC, NODE_NAME
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE
from rgbt_tracker_ros.ros_tools.player import (
    DISCOVERY_SETTLE_S, Player, PlayerSettings, PlayStats, Published, qos_profile, transport_arguments,
)
from rgbt_tracker_ros.ros_tools.processes import (
    STOPPED_CLEANLY, NodeFailed, ProcessMeter, apply_ros_environment, log_tail, node_command, start_process,
    stop_process,
)
from rgbt_tracker_ros.ros_tools.spinning import BackgroundSpinner
from rgbt_tracker_ros.ros_tools.tracker_client import connected_client, percentile_ms

VISIBLE_SIZE = (640, 480)
THERMAL_SIZE = (640, 512)
BENCH_SEED = 1_000_000          # the first synthetic validation sequence
# Compressed inputs: the player encodes this many frames before playing and loops them (a 640x512
# 16-bit png takes 13 ms or more to encode: encoding while playing held the player back on this CPU).
COMPRESSED_FRAMES = 300
# Time after the last measured pair for its result to arrive.
GRACE_S = 1.0
# Pre-rendered frames: at most this many, and at most this much memory in this process.
PRERENDER_FRAMES = 150
PRERENDER_BYTES = 512 * 2**20
RSS_SAMPLE_S = 0.25


@dataclass(frozen=True)
class BenchSettings:
    rate_hz: float = 30.0
    seconds: float = 20.0
    warmup_s: float = 2.0
    qos: str = "sensor_data"
    node_name: str = NODE_NAME
    node_command: str | None = None          # None: this interpreter running the package's node module
    ros_args: tuple[str, ...] = ()
    startup_timeout_s: float = 60.0
    seed: int = BENCH_SEED
    transport: str = "raw"                   # both cameras: raw Image or CompressedImage (jpeg / 16-bit png)
    visible_size: tuple[int, int] = VISIBLE_SIZE
    flood_hz: float | None = None            # None: no flood
    flood_seconds: float = 10.0
    after_flood_s: float = 20.0

    def __post_init__(self) -> None:
        width, height = self.visible_size
        if not (64 <= width <= 7680 and 64 <= height <= 4320):
            raise InputError(f"--visible-size must be within 64x64..7680x4320, got {width}x{height}")
        if self.flood_hz is not None and not 1.0 <= self.flood_hz <= 1000.0:
            raise InputError(f"--flood-hz must be in [1, 1000] Hz, got {self.flood_hz}")
        if not 1.0 <= self.flood_seconds <= 600.0:
            raise InputError(f"--flood-seconds must be in [1, 600], got {self.flood_seconds}")
        if not 1.0 <= self.after_flood_s <= 600.0:
            raise InputError(f"--after-flood must be in [1, 600] s, got {self.after_flood_s}")
        if self.transport not in TRANSPORTS:
            raise InputError(f"--transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}")
        if not 1.0 <= self.rate_hz <= 1000.0:
            raise InputError(f"--rate must be in [1, 1000] Hz, got {self.rate_hz}")
        if not 0.5 <= self.seconds <= 3600.0:
            raise InputError(f"--seconds must be in [0.5, 3600], got {self.seconds}")
        if not 0.0 <= self.warmup_s <= 600.0:
            raise InputError(f"--warmup must be in [0, 600] s, got {self.warmup_s}")


@dataclass
class BenchResult:
    latency_ms_p50: float
    latency_ms_p95: float
    latency_ms_p99: float
    processed_hz: float
    offered_hz: float
    dropped_pairs: int
    cpu_percent: float
    rss_mb_start: float
    rss_mb_end: float
    rss_mb_mid: float = math.nan             # halfway: growth only in the first half is warm-up, not a leak
    private_mb_start: float = math.nan
    private_mb_end: float = math.nan
    rate_hz: float = 0.0
    seconds: float = 0.0
    offered_pairs: int = 0
    processed_pairs: int = 0
    latency_ms_max: float = math.nan
    player_late_messages: int = 0
    load_average_1min: float | None = None
    transport: str = "raw"
    visible_size: str = "640x480"
    node_latency_ms_p50: float = math.nan
    node_latency_ms_p95: float = math.nan
    # Where missing pairs went, from the node's /diagnostics counters over the window (published once
    # a second, so within a second of it): a frame whose partner never reached the node counts as
    # its camera's unpaired frame; a pair the node received but did not track (newest wins) as dropped.
    node_unpaired_visible: int | None = None
    node_unpaired_thermal: int | None = None
    node_dropped_pairs: int | None = None

    def as_json(self) -> dict:
        return {k: _json_number(v) for k, v in asdict(self).items()}


def _json_number(value):
    if isinstance(value, float):
        return round(value, 3) if math.isfinite(value) else None
    return value


@dataclass
class _Published:
    """What the player sent (filled from the player's thread)."""

    visible: dict[int, int] = field(default_factory=dict)    # pair -> visible stamp
    thermal: set[int] = field(default_factory=set)           # pairs whose thermal image went out
    latest: tuple[int, int] | None = None                    # (pair, visible stamp) of the newest
    started: threading.Event = field(default_factory=threading.Event)

    def __call__(self, image) -> None:
        if image.camera == "visible":
            self.visible[image.pair] = image.stamp_ns
            self.latest = (image.pair, image.stamp_ns)
            self.started.set()
        else:
            self.thermal.add(image.pair)


def bench_sequence(settings: BenchSettings, rate_hz: float, seconds: float):
    # Long enough not to loop in a normal run (a loop jumps the target); frames render on demand.
    length = int(min(6000, max(60, math.ceil((seconds + settings.warmup_s + 10.0) * rate_hz))))
    if settings.transport == "compressed":
        length = min(length, COMPRESSED_FRAMES)
    prerender = _prerendered(settings)
    if prerender:
        length = min(length, PRERENDER_FRAMES, max(8, PRERENDER_BYTES // _pair_bytes(settings.visible_size)))
    config = SyntheticConfig(width=settings.visible_size[0], height=settings.visible_size[1], length=length,
                             thermal_size=THERMAL_SIZE)
    sequence = make_sequence(settings.seed, config)
    return forth_and_back(sequence) if prerender else sequence


def _prerendered(settings: BenchSettings) -> bool:
    return settings.transport == "raw" and (settings.flood_hz is not None
                                            or tuple(settings.visible_size) != VISIBLE_SIZE)


def _pair_bytes(visible_size: tuple[int, int]) -> int:
    return visible_size[0] * visible_size[1] * 3 + THERMAL_SIZE[0] * THERMAL_SIZE[1] * 2


def forth_and_back(sequence):
    """The sequence rendered now, played forwards then backwards (looped, the target never jumps)."""
    order = [*range(len(sequence)), *range(len(sequence) - 2, 0, -1)]
    frames = [sequence.frame(i) for i in range(len(sequence))]
    return dataclasses.replace(
        sequence, visible=[frames[i][0] for i in order], thermal=[frames[i][1] for i in order],
        groundtruth=sequence.groundtruth[order],
        groundtruth_thermal=None if sequence.groundtruth_thermal is None else sequence.groundtruth_thermal[order],
        attributes={k: np.asarray(v)[order] for k, v in sequence.attributes.items()},
    )


class PrebuiltPlayer:
    """A sequence's frames as Image messages built once, published at `settings.rate_hz` in a loop
    with fresh stamps (the interface of ros_tools.player.Player that `measure` uses)."""

    def __init__(self, node, sequence, settings: PlayerSettings, on_publish=None):
        self.settings, self.on_publish, self.stats = settings, on_publish, PlayStats()
        self._node = node
        qos = qos_profile(settings.qos, settings.depth)
        self._publishers = {camera: node.create_publisher(Image, settings.topic(camera), qos)
                            for camera in (VISIBLE, THERMAL)}
        self._messages = []
        for index in range(len(sequence)):
            visible, thermal = sequence.frame(index)
            self._messages.append((
                image_to_msg(*visible_payload(visible), Header(frame_id=settings.visible_frame_id)),
                image_to_msg(*thermal_payload(thermal), Header(frame_id=settings.thermal_frame_id))))

    def encode_frames(self) -> None:
        """Nothing to do: the messages were built with the player."""

    def wait_for_subscribers(self, stop: threading.Event) -> bool:
        deadline = time.monotonic() + self.settings.wait_for_subscribers_s
        while not stop.is_set() and time.monotonic() < deadline:
            if all(pub.get_subscription_count() > 0 for pub in self._publishers.values()):
                stop.wait(DISCOVERY_SETTLE_S)
                return True
            stop.wait(0.05)
        return False

    def play(self, stop: threading.Event) -> PlayStats:
        period = 1.0 / self.settings.rate_hz
        start_mono, start_ns = time.monotonic() + 0.05, self._node.get_clock().now().nanoseconds + 50_000_000
        pair = 0
        while not stop.is_set():
            due = start_mono + pair * period
            if stop.wait(max(0.0, due - time.monotonic())):
                break
            stamp_ns = start_ns + round(pair * period * 1e9)
            frame = pair % len(self._messages)
            for camera, message in zip((VISIBLE, THERMAL), self._messages[frame]):
                message.header.stamp = ns_to_stamp(stamp_ns)  # publish() serialises it now: reused safely
                self._publishers[camera].publish(message)
                self.stats.messages += 1
                if time.monotonic() - due > period:
                    self.stats.late_messages += 1
                if self.on_publish is not None:
                    self.on_publish(Published(pair, frame, camera, stamp_ns))
            self.stats.pairs += 1
            pair += 1
        return self.stats

    def close(self) -> None:
        for publisher in self._publishers.values():
            self._node.destroy_publisher(publisher)


class NodeDiagnostics:
    """The latest /diagnostics values of the node, received on `node`'s own spinning thread."""

    def __init__(self, node, context=None):
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()
        self._subscription = node.create_subscription(DiagnosticArray, DIAGNOSTICS_TOPIC, self._keep, 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        self._spinner = BackgroundSpinner(executor, name="bench-diagnostics")

    def _keep(self, msg) -> None:
        if msg.status:
            with self._lock:
                self._values = {kv.key: kv.value for kv in msg.status[0].values}

    def latency_ms(self, which: str) -> float:
        with self._lock:
            value = self._values.get(f"latency {which} (ms)", "n/a")
        return math.nan if value == "n/a" else float(value)

    def counters(self) -> dict[str, int] | None:
        """The node's unpaired-frame and dropped-pair counts so far; None before its first status."""
        with self._lock:
            values = dict(self._values)
        try:
            return {name: int(values[key]) for name, key in _COUNTERS.items()}
        except (KeyError, ValueError):
            return None

    def close(self) -> bool:
        return self._spinner.stop()


# BenchResult field -> the node's /diagnostics key (a count since the node started)
_COUNTERS = {"node_unpaired_visible": "unpaired visible frames", "node_unpaired_thermal": "unpaired thermal frames",
             "node_dropped_pairs": "dropped pairs"}


def measure(bench_node, client, meter: ProcessMeter, node_process, settings: BenchSettings,
            rate_hz: float, seconds: float, sequence, diagnostics: NodeDiagnostics | None = None) -> BenchResult:
    """One run at rate_hz: play, initialise, warm up, measure `seconds`, stop the player."""
    published = _Published()
    player_class = PrebuiltPlayer if _prerendered(settings) else Player
    player = player_class(bench_node, sequence, PlayerSettings(rate_hz=rate_hz, loop=True, qos=settings.qos,
                                                               wait_for_subscribers_s=10.0,
                                                               transport=settings.transport, encode_first=True),
                          on_publish=published)
    player.encode_frames()
    stop = threading.Event()
    play_thread = threading.Thread(target=player.play, args=(stop,), name="player", daemon=True)
    try:
        if not player.wait_for_subscribers(stop):
            raise NodeFailed("the tracker node did not subscribe to both image topics within 10 s")
        play_thread.start()
        _initialise(client, published, sequence, node_process)
        window_start = time.time_ns() + int(settings.warmup_s * 1e9)
        _sleep_until(window_start, node_process)
        counted_before = diagnostics.counters() if diagnostics is not None else None
        meter.start_cpu()
        rss_start, private_start = meter.memory_mb()
        window_end = window_start + int(seconds * 1e9)
        _sleep_until((window_start + window_end) // 2, node_process)
        rss_mid, _ = meter.memory_mb()
        _sleep_until(window_end, node_process)
        cpu = meter.cpu_percent()
        rss_end, private_end = meter.memory_mb()
        node_p50, node_p95 = ((diagnostics.latency_ms("p50"), diagnostics.latency_ms("p95"))
                              if diagnostics is not None else (math.nan, math.nan))
    finally:
        stop.set()
        if play_thread.is_alive():
            play_thread.join(5.0)
    _sleep_until(time.time_ns() + int(GRACE_S * 1e9), node_process)
    player.close()
    counted_after = diagnostics.counters() if diagnostics is not None else None
    counted = ({name: counted_after[name] - counted_before[name] for name in _COUNTERS}
               if counted_before is not None and counted_after is not None else {})

    offered = {stamp for pair, stamp in published.visible.items()
               if window_start <= stamp < window_end and pair in published.thermal}
    records = {}
    for record in client.snapshot():
        if record.stamp_ns in offered:
            records.setdefault(record.stamp_ns, record)
    latencies = [r.latency_ms for r in records.values()]
    stamps = sorted(offered)
    span_s = (stamps[-1] - stamps[0]) / 1e9 + 1.0 / rate_hz if stamps else seconds
    return BenchResult(
        latency_ms_p50=percentile_ms(latencies, 50),
        latency_ms_p95=percentile_ms(latencies, 95),
        latency_ms_p99=percentile_ms(latencies, 99),
        processed_hz=len(records) / span_s,
        offered_hz=len(offered) / span_s,
        dropped_pairs=len(offered) - len(records),
        cpu_percent=cpu,
        rss_mb_start=rss_start,
        rss_mb_end=rss_end,
        rss_mb_mid=rss_mid,
        private_mb_start=private_start,
        private_mb_end=private_end,
        rate_hz=rate_hz,
        seconds=seconds,
        offered_pairs=len(offered),
        processed_pairs=len(records),
        latency_ms_max=max(latencies) if latencies else math.nan,
        player_late_messages=player.stats.late_messages,
        load_average_1min=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        transport=settings.transport,
        visible_size="{}x{}".format(*settings.visible_size),
        node_latency_ms_p50=node_p50,
        node_latency_ms_p95=node_p95,
        **counted,
    )


def _initialise(client, published: _Published, sequence, node_process) -> None:
    """Initialise on a published frame with its ground truth, stamped with that frame's stamp."""
    if not published.started.wait(10.0):
        raise NodeFailed("the player published nothing within 10 s")
    time.sleep(0.2)  # let the first pair reach the node
    pair, stamp = published.latest
    message = ""
    for _ in range(20):
        if node_process.poll() is not None:
            raise NodeFailed(f"the tracker node exited with code {node_process.returncode}")
        ok, message = client.init_target(sequence.groundtruth[pair % len(sequence)], stamp)
        if ok:
            return
        time.sleep(0.25)
        pair, stamp = published.latest  # that pair did not make it: a newer one
    raise NodeFailed(f"the tracker node refused the target: {message}")


def _sleep_until(stamp_ns: int, node_process) -> None:
    while True:
        left = (stamp_ns - time.time_ns()) / 1e9
        if node_process.poll() is not None:
            raise NodeFailed(f"the tracker node exited with code {node_process.returncode} during the run")
        if left <= 0:
            return
        time.sleep(min(left, 0.2))


def describe(result: BenchResult) -> str:
    load = f", load average {result.load_average_1min:.1f}" if result.load_average_1min is not None else ""
    return (
        f"{result.rate_hz:g} Hz ({result.transport}), visible {result.visible_size}, for {result.seconds:g} s: "
        f"{result.processed_pairs}/{result.offered_pairs} pairs "
        f"processed ({result.processed_hz:.1f} of {result.offered_hz:.1f} Hz), {result.dropped_pairs} dropped\n"
        f"  latency visible stamp -> ~/target: p50 {result.latency_ms_p50:.1f} ms, p95 {result.latency_ms_p95:.1f} ms, "
        f"p99 {result.latency_ms_p99:.1f} ms, max {result.latency_ms_max:.1f} ms; in the node (its "
        f"/diagnostics): p50 {result.node_latency_ms_p50:.1f} ms, p95 {result.node_latency_ms_p95:.1f} ms\n"
        f"  node CPU {result.cpu_percent:.0f} % of a core, RSS {result.rss_mb_start:.1f} -> {result.rss_mb_mid:.1f} "
        f"(halfway) -> {result.rss_mb_end:.1f} MB"
        f" ({result.rss_mb_end - result.rss_mb_start:+.1f}; without shared pages "
        f"{result.private_mb_start:.1f} -> {result.private_mb_end:.1f}){load}\n"
        f"  player: {result.player_late_messages} messages published more than one period late"
        + (f"\n  the node counted (its /diagnostics, the window +- 1 s): {result.node_unpaired_visible} visible and "
           f"{result.node_unpaired_thermal} thermal frames without a partner, {result.node_dropped_pairs} pairs not tracked"
           if result.node_dropped_pairs is not None else "")
    )


def ceiling_rates(start: float, step: float, highest: float) -> list[float]:
    rates, rate = [], start
    while rate <= highest + 1e-9:
        rates.append(round(rate, 2))
        rate *= step
    return rates


def run_bench(settings: BenchSettings, find_ceiling: bool = False, ceiling_step: float = 1.25,
              ceiling_max: float = 240.0, ceiling_seconds: float = 5.0, node_log: Path | None = None) -> dict:
    """Start the node, measure, stop it. The report: one BenchResult's fields, or the ceiling search."""
    apply_ros_environment()
    node_log = node_log or Path(tempfile.mkstemp(prefix="node_bench_", suffix=".log")[1])
    ros_args = [*transport_arguments(settings.transport), *settings.ros_args]
    process = start_process(node_command(settings.node_command, ros_args), node_log)
    print(f"node-bench: tracker node pid {process.pid}, domain {os.environ['ROS_DOMAIN_ID']}, log {node_log}",
          file=sys.stderr)
    try:
        with connected_client(process, settings.node_name, settings.startup_timeout_s) as client:
            bench_node = rclpy.create_node(f"rgbt_node_bench_{os.getpid()}")
            meter = ProcessMeter(process.pid)
            diagnostics = NodeDiagnostics(bench_node)
            try:
                if settings.flood_hz is not None:
                    report = _flood_run(bench_node, client, meter, process, settings, diagnostics)
                elif not find_ceiling:
                    report = _single_run(bench_node, client, meter, process, settings, diagnostics)
                else:
                    report = _ceiling_search(bench_node, client, meter, process, settings, ceiling_step,
                                             ceiling_max, ceiling_seconds, diagnostics)
            finally:
                stopped = diagnostics.close()
            if stopped:
                bench_node.destroy_node()
    except NodeFailed as exc:
        _print_log_tail(node_log)
        raise NodeFailed(str(exc)) from None
    finally:
        code = stop_process(process)
    if code not in STOPPED_CLEANLY:  # SIGINT is how it was asked to stop
        _print_log_tail(node_log)
        raise NodeFailed(f"the tracker node exited with code {code} when stopped")
    return report


def _single_run(bench_node, client, meter: ProcessMeter, process, settings: BenchSettings,
                diagnostics: NodeDiagnostics) -> dict:
    sequence = bench_sequence(settings, settings.rate_hz, settings.seconds)
    result = measure(bench_node, client, meter, process, settings, settings.rate_hz, settings.seconds, sequence,
                     diagnostics)
    print(describe(result), file=sys.stderr)
    return result.as_json()


class _PeakMemory:
    """The node's resident memory sampled every RSS_SAMPLE_S on a thread, its peak kept."""

    def __init__(self, meter: ProcessMeter):
        self._meter = meter
        self.peak_mb = self.private_peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            rss, private = self._meter.memory_mb()
            self.peak_mb, self.private_peak_mb = max(self.peak_mb, rss), max(self.private_peak_mb, private)

    def __enter__(self) -> "_PeakMemory":
        self.peak_mb, self.private_peak_mb = self._meter.memory_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2.0)


def _flood_run(bench_node, client, meter: ProcessMeter, process, settings: BenchSettings,
               diagnostics: NodeDiagnostics) -> dict:
    """--rate, then --flood-hz, then --rate again; memory at the flood's start, peak, and after."""
    phases = {}
    for name, rate, seconds in (("before", settings.rate_hz, settings.seconds),
                                ("flood", settings.flood_hz, settings.flood_seconds),
                                ("after", settings.rate_hz, settings.after_flood_s)):
        sequence = bench_sequence(settings, rate, seconds)
        if name == "flood":
            with _PeakMemory(meter) as peak:
                phases[name] = measure(bench_node, client, meter, process, settings, rate, seconds, sequence, diagnostics)
            flood_end = time.monotonic()
        else:
            phases[name] = measure(bench_node, client, meter, process, settings, rate, seconds, sequence, diagnostics)
        print(f"{name}: " + describe(phases[name]), file=sys.stderr)
    after_s = time.monotonic() - flood_end
    start, after = phases["before"].rss_mb_end, phases["after"].rss_mb_end
    private_start, private_after = phases["before"].private_mb_end, phases["after"].private_mb_end
    print(f"flood: node RSS {start:.1f} MB at its start, peak {peak.peak_mb:.1f} MB ({peak.peak_mb - start:+.1f}), "
          f"{after:.1f} MB ({after - start:+.1f}) {after_s:.0f} s after it; without shared pages "
          f"{private_start:.1f}, peak {peak.private_peak_mb:.1f}, {private_after:.1f} MB", file=sys.stderr)
    return {"rss_mb_start": round(start, 1), "rss_mb_peak": round(peak.peak_mb, 1), "rss_mb_after": round(after, 1),
            "private_mb_start": round(private_start, 1), "private_mb_peak": round(peak.private_peak_mb, 1),
            "private_mb_after": round(private_after, 1),
            "seconds_after_flood": round(after_s, 1), **{name: r.as_json() for name, r in phases.items()}}


def _ceiling_search(bench_node, client, meter: ProcessMeter, process, settings: BenchSettings,
                    ceiling_step: float, ceiling_max: float, ceiling_seconds: float,
                    diagnostics: NodeDiagnostics) -> dict:
    steps = []
    ceiling = None
    for rate in ceiling_rates(settings.rate_hz, ceiling_step, ceiling_max):
        client.reset()
        sequence = bench_sequence(settings, rate, ceiling_seconds)
        result = measure(bench_node, client, meter, process, settings, rate, ceiling_seconds, sequence, diagnostics)
        print(describe(result), file=sys.stderr)
        steps.append(result.as_json())
        if result.dropped_pairs > 0 or result.offered_pairs == 0:
            break
        ceiling = rate
    print(f"ceiling: {ceiling if ceiling is not None else 'none'} Hz with every pair processed",
          file=sys.stderr)
    return {"ceiling_hz": ceiling, "steps": steps}


def _print_log_tail(path: Path, lines: int = 20) -> None:
    tail = log_tail(path, lines, "the node's log ")
    if tail:
        print(tail, file=sys.stderr)
