"""`rgbt-tracker demo`: the player and the tracker node as separate processes over DDS on localhost.

The node (`python -m rgbt_tracker_ros.ros.tracker_node`) and the player (`rgbt-tracker play`) run as
child processes with discovery on this machine only and the shipped Fast DDS profile; this process
waits for the node, initialises the target through `~/init_target` with the ground-truth box of the
first annotated frame (and that frame's stamp), shows a live status line on stderr, then matches
each `~/target` to its frame by header stamp, prints PR/SR against the ground truth and writes an
annotated video and an image strip into --output-dir. Children are stopped with SIGINT (then
killed after a timeout). Exit codes: 0 done; 1 the node (or the player) failed; 2 bad input.

The module also holds what the demo and `node-bench` share: the environment of ROS processes, the
child processes, and TrackerClient (this process's side of the node's topics and services).
"""

from __future__ import annotations

import math
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.errors import InputError

NODE_NAME = "rgbt_tracker"
NODE_MODULE = "rgbt_tracker_ros.ros.tracker_node"
# The Fast DDS profile shipped with the package: large shared-memory segments for camera frames and
# UDP on loopback only.
FASTDDS_PROFILE = Path("config") / "fastdds_shm.xml"


def fastdds_profile() -> Path | None:
    """The shipped Fast DDS profile: from the source tree, else from the package's share directory."""
    candidates = [Path(__file__).resolve().parents[2] / FASTDDS_PROFILE]
    try:
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory("rgbt_tracker_ros")) / FASTDDS_PROFILE)
    except Exception:  # no AMENT_PREFIX_PATH or not installed: the source tree is all there is
        pass
    return next((path for path in candidates if path.is_file()), None)


def ros_environment(base: dict[str, str] | None = None, domain_id: int | None = None) -> dict[str, str]:
    """An environment for a process that starts rclpy: discovery on this machine only, a domain id
    (given, inherited or random 1..100), a log folder, no RMW override, the shipped Fast DDS profile."""
    env = dict(os.environ if base is None else base)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    elif not env.get("ROS_DOMAIN_ID", "").isdigit():
        env["ROS_DOMAIN_ID"] = str(random.randint(1, 100))
    env.setdefault("ROS_LOG_DIR", str(Path(tempfile.gettempdir()) / "rgbt_tracker_ros_logs"))
    env.pop("RMW_IMPLEMENTATION", None)  # rcl is linked to Fast DDS; naming another RMW aborts
    if "FASTDDS_DEFAULT_PROFILES_FILE" not in env:
        profile = fastdds_profile()
        if profile is not None:
            env["FASTDDS_DEFAULT_PROFILES_FILE"] = str(profile)
    return env


def apply_ros_environment(domain_id: int | None = None) -> None:
    """ros_environment() for this process; call before rclpy.init (and before starting children)."""
    env = ros_environment(domain_id=domain_id)
    os.environ.pop("RMW_IMPLEMENTATION", None)
    os.environ.update(env)


def start_process(command: list[str], log_path: Path | None = None) -> subprocess.Popen:
    """Start a child with this process's (ROS-ready) environment; its output goes to log_path."""
    output = open(log_path, "wb") if log_path is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(command, env=ros_environment(), stdout=output, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    finally:
        if log_path is not None:
            output.close()


def stop_process(process: subprocess.Popen, timeout_s: float = 5.0) -> int:
    """SIGINT, wait, then SIGKILL after timeout_s; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def node_command(command: str | None = None, ros_args: list[str] | None = None) -> list[str]:
    """The tracker node as a child process (default: this interpreter running NODE_MODULE), with
    --ros-args items (parameters, remappings) appended."""
    base = shlex.split(command) if command else [sys.executable, "-m", NODE_MODULE]
    return [*base, "--ros-args", *(ros_args or [])]


def cli_command(*args: str) -> list[str]:
    """An `rgbt-tracker` subcommand as a child process of the same interpreter."""
    return [sys.executable, "-m", "rgbt_tracker_ros.cli", *args]


class NodeFailed(RuntimeError):
    """The tracker node exited or never became ready."""


# --- talking to the node from this process --------------------------------------------------------

@dataclass(frozen=True)
class TargetRecord:
    """One `~/target` message as received here."""

    stamp_ns: int                 # header stamp: the visible frame it was computed on
    received_ns: int              # system clock, the clock the stamps are on
    box: np.ndarray | None        # x, y, w, h (bounding box of the polygon); None for an empty polygon
    score: float                  # the score published for that frame (NaN when unknown)
    state: str                    # the state published for that frame ('' when unknown)

    @property
    def latency_ms(self) -> float:
        return (self.received_ns - self.stamp_ns) / 1e6


def polygon_box(points) -> np.ndarray | None:
    if len(points) == 0:
        return None
    xs = np.array([p.x for p in points], dtype=np.float64)
    ys = np.array([p.y for p in points], dtype=np.float64)
    return np.array([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])


def percentile_ms(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


class TrackerClient:
    """This process's view of a running tracker node: its outputs, recorded, and its services.

    Spins its own rclpy node in a background thread; rclpy must be initialised first.
    """

    def __init__(self, node_name: str = NODE_NAME, client_name: str = "rgbt_tracker_client"):
        from geometry_msgs.msg import PolygonStamped
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.srv import SetCameraInfo
        from std_srvs.srv import Trigger

        self.topics = NodeTopics(node_name)
        self.node = __import__("rclpy").create_node(f"{client_name}_{os.getpid()}")
        self._lock = threading.Lock()
        self.records: list[TargetRecord] = []
        self._score = math.nan
        self._state = ""
        # The node publishes its outputs reliably: a reliable reader here loses none of them.
        self._qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        # The node publishes score and state just before ~/target, and the executor serves ready
        # subscriptions in creation order: so each target is recorded with its own score and state.
        self._subscribe_score_state()
        self.node.create_subscription(PolygonStamped, self.topics.target, self._on_target, self._qos)
        self.init_client = self.node.create_client(SetCameraInfo, self.topics.init_target)
        self.reset_client = self.node.create_client(Trigger, self.topics.reset)
        self._executor = SingleThreadedExecutor()
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, name="tracker-client", daemon=True)
        self._thread.start()

    def _subscribe_score_state(self) -> None:
        from std_msgs.msg import Float32, UInt8

        self.node.create_subscription(Float32, self.topics.score, self._on_score, self._qos)
        self.node.create_subscription(UInt8, self.topics.state, self._on_state, self._qos)

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            self._executor.spin()
        except (ExternalShutdownException, KeyboardInterrupt):
            pass
        except Exception:  # the context was shut down under the executor: nothing left to do
            pass

    def _on_score(self, msg) -> None:
        self._score = float(msg.data)

    def _on_state(self, msg) -> None:
        from rgbt_tracker_ros.ros.state import describe

        try:
            self._state = describe(int(msg.data))
        except ValueError:
            self._state = f"state {int(msg.data)}"

    def _on_target(self, msg) -> None:
        received = time.time_ns()
        stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
        record = TargetRecord(stamp, received, polygon_box(msg.polygon.points), self._score, self._state)
        with self._lock:
            self.records.append(record)

    def snapshot(self) -> list[TargetRecord]:
        with self._lock:
            return list(self.records)

    def wait_until_ready(self, process: subprocess.Popen | None, timeout_s: float) -> None:
        """Block until the node's init service is there; NodeFailed if the node exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        while not self.init_client.wait_for_service(timeout_sec=0.25):
            if process is not None and process.poll() is not None:
                raise NodeFailed(f"the tracker node exited with code {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise NodeFailed(f"the tracker node offered no {self.topics.init_target} service within {timeout_s:g} s")

    def init_target(self, box, stamp_ns: int, timeout_s: float = 10.0) -> tuple[bool, str]:
        """Call `~/init_target` with box (x, y, w, h, visible pixels) drawn on the frame stamped stamp_ns."""
        from sensor_msgs.srv import SetCameraInfo

        request = SetCameraInfo.Request()
        sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
        request.camera_info.header.stamp.sec, request.camera_info.header.stamp.nanosec = sec, nanosec
        x, y, w, h = (float(v) for v in box)
        roi = request.camera_info.roi
        roi.x_offset, roi.y_offset = max(0, round(x)), max(0, round(y))
        roi.width, roi.height = max(1, round(w)), max(1, round(h))
        return self._call(self.init_client, request, timeout_s)

    def reset(self, timeout_s: float = 5.0) -> tuple[bool, str]:
        from std_srvs.srv import Trigger

        return self._call(self.reset_client, Trigger.Request(), timeout_s)

    @staticmethod
    def _call(client, request, timeout_s: float) -> tuple[bool, str]:
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout_s):
            client.remove_pending_request(future)
            return False, f"no answer from {client.srv_name} within {timeout_s:g} s"
        response = future.result()
        return bool(response.success), str(response.status_message if hasattr(response, "status_message")
                                            else response.message)

    def close(self) -> None:
        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()


@dataclass(frozen=True)
class NodeTopics:
    """Absolute names of the tracker node's interface, for a node named node_name in the root namespace."""

    node_name: str = NODE_NAME

    @property
    def base(self) -> str:
        return "/" + self.node_name.strip("/")

    @property
    def target(self) -> str:
        return f"{self.base}/target"

    @property
    def score(self) -> str:
        return f"{self.base}/score"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def init_target(self) -> str:
        return f"{self.base}/init_target"

    @property
    def reset(self) -> str:
        return f"{self.base}/reset"


# --- the demo ---------------------------------------------------------------------------------------

DEMO_SEED = 1_000_000            # the first synthetic validation sequence
DEFAULT_THERMAL_SIZE = (640, 512)
STRIP_FRAMES = 6


@dataclass(frozen=True)
class DemoSettings:
    sequence: Path | None = None             # None: the synthetic sequence `synthetic`
    synthetic: int = DEMO_SEED
    seconds: float = 10.0
    rate_hz: float = 30.0
    size: tuple[int, int] = (640, 480)       # visible size of the synthetic sequence
    thermal_size: tuple[int, int] | None = None  # None: 640x512 for synthetic, native for a folder
    thermal_offset_ms: float = 0.0
    jitter_ms: float = 0.0
    qos: str = "sensor_data"
    output_dir: Path = Path("outputs/demo")
    node_name: str = NODE_NAME
    node_command: str | None = None
    ros_args: tuple[str, ...] = ()
    startup_timeout_s: float = 60.0
    video: bool = True

    def __post_init__(self) -> None:
        if not 0.1 <= self.seconds <= 3600:
            raise InputError(f"--seconds must be in [0.1, 3600], got {self.seconds}")
        if not 1.0 <= self.rate_hz <= 240.0:
            raise InputError(f"--rate must be in [1, 240] Hz, got {self.rate_hz}")


@dataclass
class DemoOutcome:
    frames: int
    init_frame: int
    processed: int
    predictions: np.ndarray          # (frames, 4), the last published box held over unprocessed frames
    scores: np.ndarray               # (frames,) NaN where unknown
    states: list[str]
    latencies_ms: list[float]
    pr: float
    sr: float
    scored_frames: int


class Demo:
    """Runs the node and the player as child processes, initialises, watches, scores and draws."""

    def __init__(self, settings: DemoSettings):
        self.settings = settings
        self.out = Path(settings.output_dir)
        self.sequence = self._load_sequence()
        if self.sequence.modalities != "rgbt":
            raise InputError(f"sequence {self.sequence.name} has only {self.sequence.modalities} frames; "
                             "the demo plays both cameras")
        self.frames = min(len(self.sequence), max(2, round(settings.seconds * settings.rate_hz)))
        self.stamp_log = self.out / "stamps.csv"
        self.init_frame = self.sequence.first_annotated()
        if self.init_frame >= self.frames - 1:
            raise InputError(f"the first annotated frame ({self.init_frame}) is past the {self.frames} frames played")

    def _load_sequence(self):
        s = self.settings
        if s.sequence is not None:
            from rgbt_tracker_ros.data.readers import load_sequence

            return load_sequence(s.sequence)
        from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence

        length = max(2, round(s.seconds * s.rate_hz))
        config = SyntheticConfig(width=s.size[0], height=s.size[1], length=length,
                                 thermal_size=s.thermal_size or DEFAULT_THERMAL_SIZE)
        return make_sequence(s.synthetic, config)

    def homography(self) -> np.ndarray:
        from rgbt_tracker_ros.ros.player import thermal_homography

        resized = self.settings.thermal_size if self.settings.sequence is not None else None
        return thermal_homography(self.sequence, resized)

    def player_command(self) -> list[str]:
        s = self.settings
        source = (["--sequence", str(s.sequence)] if s.sequence is not None else
                  ["--synthetic", str(s.synthetic), "--length", str(len(self.sequence)),
                   "--size", f"{s.size[0]}x{s.size[1]}"])
        thermal_size = s.thermal_size or (DEFAULT_THERMAL_SIZE if s.sequence is None else None)
        if thermal_size is not None:
            source += ["--thermal-size", f"{thermal_size[0]}x{thermal_size[1]}"]
        return cli_command(
            "play", *source, "--rate", f"{s.rate_hz:g}", "--frames", str(self.frames), "--qos", s.qos,
            "--thermal-offset-ms", f"{s.thermal_offset_ms:g}", "--jitter-ms", f"{s.jitter_ms:g}",
            "--wait-for-subscribers", "20", "--stamp-log", str(self.stamp_log),
        )

    def run(self) -> DemoOutcome:
        import rclpy
        from rclpy.signals import SignalHandlerOptions

        from rgbt_tracker_ros.ros.registration import format_matrix

        s = self.settings
        self.out.mkdir(parents=True, exist_ok=True)
        self.stamp_log.unlink(missing_ok=True)
        apply_ros_environment()
        ros_args = ["-p", f"thermal_to_visible:={format_matrix(self.homography())}", *s.ros_args]
        node_log, player_log = self.out / "node.log", self.out / "player.log"
        print(f"demo: {self.sequence.name}, {self.frames} frames at {s.rate_hz:g} Hz; ROS domain "
              f"{os.environ['ROS_DOMAIN_ID']}, localhost only; logs in {self.out}", file=sys.stderr)
        node = start_process(node_command(s.node_command, ros_args), node_log)
        player = None
        rclpy.init(args=[], signal_handler_options=SignalHandlerOptions.NO)
        client = None
        try:
            client = TrackerClient(s.node_name, "rgbt_demo")
            client.wait_until_ready(node, s.startup_timeout_s)
            print(f"demo: tracker node ready (pid {node.pid}); starting the player", file=sys.stderr)
            player = start_process(self.player_command(), player_log)
            self._initialise(client, node, player)
            self._watch(client, node, player)
            if player.returncode != 0:
                raise NodeFailed(f"the player failed (exit code {player.returncode}); see {player_log}\n"
                                 + _tail(player_log))
            time.sleep(1.0)  # the last frames' results are still on their way
            records = client.snapshot()
        except NodeFailed as exc:
            raise NodeFailed(f"{exc}\n{_tail(node_log)}") from None
        finally:
            if player is not None:
                stop_process(player)
            if client is not None:
                client.close()
            rclpy.try_shutdown()
            code = stop_process(node, timeout_s=10.0)
        if code not in (0, -signal.SIGINT, 128 + signal.SIGINT):
            raise NodeFailed(f"the tracker node exited with code {code}\n{_tail(node_log)}")
        return self.score(records)

    def _initialise(self, client: TrackerClient, node, player) -> None:
        """Draw the ground-truth box of the first annotated frame, stamped with that frame's stamp.

        If the node refuses that stamp (its pair was lost on the way, or has left the node's buffer),
        the newest published annotated frame is tried instead; the node catches up from there.
        """
        from rgbt_tracker_ros.ros.player import read_stamp_log

        deadline = time.monotonic() + 30.0
        wanted, message = self.init_frame, "the player published nothing"
        while time.monotonic() < deadline:
            for process, what in ((node, "tracker node"), (player, "player")):
                if process.poll() is not None:
                    raise NodeFailed(f"the {what} exited with code {process.returncode} before initialisation; "
                                     f"last answer: {message}")
            published = {frame: stamp for stamp, frame in read_stamp_log(self.stamp_log)["visible"].items()}
            if wanted not in published:
                time.sleep(0.05)
                continue
            time.sleep(0.1)  # the pair is on its way to the node
            ok, message = client.init_target(self.sequence.groundtruth[wanted], published[wanted])
            if ok:
                self.init_frame = wanted
                print(f"demo: target initialised on frame {wanted} through {client.topics.init_target}: "
                      f"{message}", file=sys.stderr)
                return
            later = [f for f in published if f > wanted and f < self.frames - 1 and self._annotated(f)]
            print(f"demo: init_target refused for frame {wanted} ({message})"
                  + (f"; trying frame {max(later)}" if later else "; retrying"), file=sys.stderr)
            if later:
                wanted = max(later)
            else:
                time.sleep(0.2)
        raise NodeFailed(f"could not initialise the target: {message}")

    def _annotated(self, frame: int) -> bool:
        box = self.sequence.groundtruth[frame]
        return bool(np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0)

    def _watch(self, client: TrackerClient, node, player) -> None:
        """A live status line on stderr until the player is done."""
        from rgbt_tracker_ros.ros.player import read_stamp_log

        tty = sys.stderr.isatty()
        last_line = 0.0
        while player.poll() is None:
            if node.poll() is not None:
                raise NodeFailed(f"the tracker node exited with code {node.returncode} while tracking")
            time.sleep(0.5)
            if not tty and time.monotonic() - last_line < 2.0:
                continue
            last_line = time.monotonic()
            published = len(read_stamp_log(self.stamp_log)["visible"])
            line = status_line(client.snapshot(), published, self.frames)
            print(f"\r{line:<110}" if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
        if tty:
            print(file=sys.stderr)

    def score(self, records: list[TargetRecord]) -> DemoOutcome:
        """Match results to frames by stamp and score them against the ground truth."""
        from rgbt_tracker_ros.evaluation.metrics import evaluate
        from rgbt_tracker_ros.ros.player import read_stamp_log

        frame_of = read_stamp_log(self.stamp_log)["visible"]
        n, start = self.frames, self.init_frame
        predictions = np.full((n, 4), np.nan)
        scores = np.full(n, np.nan)
        states = [""] * n
        processed = np.zeros(n, bool)
        latencies = []
        for record in records:
            frame = frame_of.get(record.stamp_ns)
            if frame is None or not start <= frame < n or processed[frame]:
                continue
            processed[frame] = True
            latencies.append(record.latency_ms)
            if record.box is not None:
                predictions[frame] = record.box
            scores[frame], states[frame] = record.score, record.state
        if not processed[start] or not np.all(np.isfinite(predictions[start])):
            predictions[start] = self.sequence.groundtruth[start]
        # A frame the node skipped (it always takes the newest pair) keeps the last published box:
        # that is what a consumer of ~/target had at that time.
        for frame in range(start + 1, n):
            if not processed[frame]:
                predictions[frame] = predictions[frame - 1]
                states[frame] = states[frame - 1]
        scores_ = evaluate(predictions, self.sequence.groundtruth[:n], protocol=self.sequence.protocol,
                           groundtruth_thermal=(None if self.sequence.groundtruth_thermal is None
                                                else self.sequence.groundtruth_thermal[:n]),
                           init_frame=start)
        return DemoOutcome(n, start, int(processed[start + 1:].sum()), predictions, scores, states, latencies,
                           scores_.pr, scores_.sr, scores_.frames)

    def write_outputs(self, outcome: DemoOutcome) -> list[Path]:
        import json

        from rgbt_tracker_ros.data.writer import format_box

        written = []
        boxes = self.out / "boxes.txt"
        boxes.write_text("".join(format_box(b) + "\n" for b in outcome.predictions))
        written.append(boxes)
        if self.settings.video:
            written += write_video_and_strip(self.sequence, outcome, self.out, self.settings.rate_hz)
        summary = self.out / "summary.json"
        after_init = outcome.frames - outcome.init_frame - 1
        summary.write_text(json.dumps({
            "sequence": self.sequence.name, "frames": outcome.frames, "init_frame": outcome.init_frame,
            "processed_frames": outcome.processed, "skipped_frames": after_init - outcome.processed,
            "pr": _finite(outcome.pr), "sr": _finite(outcome.sr), "scored_frames": outcome.scored_frames,
            "protocol": self.sequence.protocol,
            "latency_ms_p50": _finite(percentile_ms(outcome.latencies_ms, 50)),
            "latency_ms_p95": _finite(percentile_ms(outcome.latencies_ms, 95)),
            "outputs": [p.name for p in written],
        }, indent=2) + "\n")
        written.append(summary)
        return written


def _finite(value: float) -> float | None:
    return round(float(value), 4) if math.isfinite(value) else None


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"--- last lines of {path}:\n" + "\n".join(text)


def status_line(records: list[TargetRecord], published: int, total: int) -> str:
    """'frame 123/300 | 29.8 Hz | latency 12 ms (p95 20) | score 0.81 | tracking'."""
    now = time.time_ns()
    recent = [r for r in records if now - r.received_ns <= 1_000_000_000]
    latencies = [r.latency_ms for r in recent]
    last = records[-1] if records else None
    score = f"{last.score:.2f}" if last is not None and math.isfinite(last.score) else "-"
    state = (last.state or "-") if last is not None else "waiting"
    latency = (f"{percentile_ms(latencies, 50):.0f} ms (p95 {percentile_ms(latencies, 95):.0f})"
               if latencies else "-")
    return (f"frame {published}/{total} | {len(recent):d} Hz | latency {latency} | score {score} | {state}")


# --- annotated video and image strip -----------------------------------------------------------------

_GT_COLOUR = (0, 220, 0)                      # BGR
_STATE_COLOURS = {"tracking": (0, 170, 255), "uncertain": (0, 255, 255), "lost": (0, 0, 255)}


def annotate(sequence, frame: int, outcome: DemoOutcome) -> np.ndarray:
    """The visible frame (BGR) with ground truth, the tracker's box, score and state, and a thermal inset."""
    import cv2

    from rgbt_tracker_ros.tracking.preprocessing import apply_stretch, thermal_stretch

    visible, thermal = sequence.frame(frame)
    canvas = cv2.cvtColor(visible if visible.ndim == 3 else cv2.cvtColor(visible, cv2.COLOR_GRAY2RGB),
                          cv2.COLOR_RGB2BGR)
    height, width = canvas.shape[:2]
    if thermal is not None:
        grey = apply_stretch(thermal, *thermal_stretch(thermal))
        inset_w = width // 4
        inset_h = max(1, round(grey.shape[0] * inset_w / grey.shape[1]))
        inset = cv2.applyColorMap(cv2.resize(grey, (inset_w, inset_h), interpolation=cv2.INTER_AREA),
                                  cv2.COLORMAP_INFERNO)
        canvas[4:4 + inset_h, width - inset_w - 4:width - 4] = inset[: height - 4]
        cv2.rectangle(canvas, (width - inset_w - 5, 3), (width - 4, 4 + inset_h), (255, 255, 255), 1)
    gt = sequence.groundtruth[frame]
    if np.all(np.isfinite(gt)) and gt[2] > 0:
        _box(canvas, gt, _GT_COLOUR, 1)
    state = outcome.states[frame].split(" ")[0] if frame > outcome.init_frame else "init"
    box = outcome.predictions[frame]
    if frame >= outcome.init_frame and np.all(np.isfinite(box)):
        _box(canvas, box, _STATE_COLOURS.get(state, (255, 0, 255)), 2)
    score = outcome.scores[frame]
    text = f"#{frame}  {state or '-'}" + (f"  score {score:.2f}" if math.isfinite(score) else "")
    (text_w, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 1)
    cv2.rectangle(canvas, (4, height - 16 - text_h), (12 + text_w, height - 4), (0, 0, 0), cv2.FILLED)
    cv2.putText(canvas, text, (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    cv2.putText(canvas, "green: ground truth", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, _GT_COLOUR, 1, cv2.LINE_AA)
    return canvas


def _box(canvas: np.ndarray, box, colour, thickness: int) -> None:
    import cv2

    x, y, w, h = (float(v) for v in box)
    cv2.rectangle(canvas, (round(x), round(y)), (round(x + w), round(y + h)), colour, thickness, cv2.LINE_AA)


def write_video_and_strip(sequence, outcome: DemoOutcome, out: Path, fps: float) -> list[Path]:
    """demo.mp4 (MPEG-4; demo.avi MJPG where no MP4 encoder exists) and strip.png."""
    import cv2

    first = annotate(sequence, 0, outcome)
    size = (first.shape[1], first.shape[0])
    path = out / "demo.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        path = out / "demo.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    written = []
    picks = np.linspace(outcome.init_frame, outcome.frames - 1, STRIP_FRAMES).round().astype(int)
    tiles = {}
    for frame in range(outcome.frames):
        image = first if frame == 0 else annotate(sequence, frame, outcome)
        if writer.isOpened():
            writer.write(image)
        if frame in picks:
            tiles[frame] = cv2.resize(image, (size[0] // 2, size[1] // 2), interpolation=cv2.INTER_AREA)
    if writer.isOpened():
        writer.release()
        written.append(path)
    else:
        print("demo: no video encoder available; wrote the image strip only", file=sys.stderr)
    row = STRIP_FRAMES // 2
    ordered = [tiles[f] for f in sorted(tiles)]
    ordered += [np.zeros_like(ordered[0])] * (2 * row - len(ordered))
    strip = np.vstack([np.hstack(ordered[:row]), np.hstack(ordered[row:2 * row])])
    strip_path = out / "strip.png"
    cv2.imwrite(str(strip_path), strip)
    written.append(strip_path)
    return written


# --- command -------------------------------------------------------------------------------------------

def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--sequence", type=Path, metavar="DIR", help="play this sequence folder instead")
    source.add_argument("--synthetic", type=int, default=DEMO_SEED, metavar="SEED",
                        help="synthetic sequence seed (default %(default)s, the first validation sequence)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length played (default %(default)s)")
    parser.add_argument("--rate", type=float, default=30.0, metavar="HZ", help="(default %(default)s)")
    parser.add_argument("--size", default="640x480", metavar="WxH",
                        help="visible size of the synthetic sequence (default %(default)s)")
    parser.add_argument("--thermal-size", default=None, metavar="WxH",
                        help="thermal resolution (default: 640x512 for synthetic, native for a folder)")
    parser.add_argument("--thermal-offset-ms", type=float, default=0.0, metavar="MS", help="(default %(default)s)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, metavar="MS", help="(default %(default)s)")
    parser.add_argument("--qos", choices=("sensor_data", "reliable"), default="sensor_data",
                        help="image publishers' reliability (default %(default)s)")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/demo"), help="(default %(default)s)")
    parser.add_argument("--no-video", action="store_true", help="skip the video and the image strip")
    parser.add_argument("--node-command", default=None, metavar="CMD",
                        help="how to start the node (default: python -m rgbt_tracker_ros.ros.tracker_node)")
    parser.add_argument("--node-name", default=NODE_NAME, help="(default %(default)s)")
    parser.add_argument("--ros-arg", action="append", default=[], metavar="ARG",
                        help="an item passed to the node after --ros-args (repeatable)")
    parser.add_argument("--startup-timeout", type=float, default=60.0, metavar="S", help="(default %(default)s)")


def run(args) -> int:
    from rgbt_tracker_ros.ros.player import parse_size

    try:
        settings = DemoSettings(
            sequence=args.sequence, synthetic=args.synthetic, seconds=args.seconds, rate_hz=args.rate,
            size=parse_size(args.size), thermal_size=parse_size(args.thermal_size) if args.thermal_size else None,
            thermal_offset_ms=args.thermal_offset_ms, jitter_ms=args.jitter_ms, qos=args.qos,
            output_dir=args.output_dir, node_name=args.node_name, node_command=args.node_command,
            ros_args=tuple(args.ros_arg), startup_timeout_s=args.startup_timeout, video=not args.no_video,
        )
        demo = Demo(settings)
        outcome = demo.run()
        written = demo.write_outputs(outcome)
    except InputError as exc:
        print(f"rgbt-tracker demo: error: {exc}", file=sys.stderr)
        return 2
    except NodeFailed as exc:
        print(f"rgbt-tracker demo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nrgbt-tracker demo: interrupted", file=sys.stderr)
        return 130
    skipped = outcome.frames - outcome.init_frame - 1 - outcome.processed
    print(f"{demo.sequence.name}: {outcome.frames} frames at {settings.rate_hz:g} Hz, initialised on frame "
          f"{outcome.init_frame}; {outcome.processed} processed, {skipped} skipped (last box held)")
    print(f"PR {outcome.pr:.3f}  SR {outcome.sr:.3f}  over {outcome.scored_frames} frames "
          f"({demo.sequence.protocol} conventions: PR at 20 px centre error, SR = mean success over IoU 0..1)")
    print(f"latency visible stamp -> ~/target: p50 {percentile_ms(outcome.latencies_ms, 50):.1f} ms, "
          f"p95 {percentile_ms(outcome.latencies_ms, 95):.1f} ms")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
