"""The demo (`rgbt-tracker demo`): the player and the tracker node as separate processes over DDS on localhost.

The node (`python -m rgbt_tracker_ros.ros.tracker_node`) and the player (`rgbt-tracker play`) run as
child processes with discovery on this machine only and the shipped Fast DDS profile; this process
waits for the node, initialises the target through `~/init_target` with the ground-truth box of the
first annotated frame (and that frame's stamp), shows a live status line on stderr, then matches
each `~/target` to its frame by header stamp, prints PR/SR against the ground truth and writes an
annotated video and an image strip into --output-dir. Children are stopped with SIGINT (then
killed after a timeout). A node or player that fails raises NodeFailed (a JobFailed: exit 1).

This module is the orchestration; the parts live next to it: processes (the environment of ROS
processes, starting and stopping children), tracker_client (the node's services and results as
seen from here, the status line), demo_scoring (results against the ground truth) and demo_video
(the annotated video and image strip). The command (arguments, report) is commands/demo.py.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.readers import load_sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.data.writer import format_box
from rgbt_tracker_ros.ros.image_conversion import TRANSPORTS
from rgbt_tracker_ros.ros.names import HOMOGRAPHY_PARAMETER, NODE_NAME
from rgbt_tracker_ros.ros_tools.demo_scoring import DemoOutcome, score_records
from rgbt_tracker_ros.ros_tools.demo_video import write_video_and_strip
from rgbt_tracker_ros.ros_tools.player import read_stamp_log, thermal_homography, transport_arguments
from rgbt_tracker_ros.ros_tools.processes import (
    STOPPED_CLEANLY, NodeFailed, apply_ros_environment, cli_command, log_tail, node_command, start_process,
    stop_process,
)
from rgbt_tracker_ros.ros_tools.registration import format_matrix
from rgbt_tracker_ros.ros_tools.tracker_client import (
    TargetRecord, TrackerClient, connected_client, percentile_ms, status_line,
)

DEMO_SEED = 1_000_000            # the first synthetic validation sequence
DEFAULT_THERMAL_SIZE = (640, 512)
# Compressed: up to this many frames the player encodes them all before playing (0.45 MB a 640x480
# pair in its memory), so a loaded machine cannot hold it back; the node is what the demo shows.
ENCODE_FIRST_FRAMES = 600
INIT_WAIT_S = 30.0                # for the first published frame, plus 60 s while the player encodes


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
    transport: str = "raw"                   # both cameras: raw Image or CompressedImage (jpeg / 16-bit png)

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise InputError(f"--transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}")
        if not 0.1 <= self.seconds <= 3600:
            raise InputError(f"--seconds must be in [0.1, 3600], got {self.seconds}")
        if not 1.0 <= self.rate_hz <= 240.0:
            raise InputError(f"--rate must be in [1, 240] Hz, got {self.rate_hz}")


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
            return load_sequence(s.sequence)
        length = max(2, round(s.seconds * s.rate_hz))
        config = SyntheticConfig(width=s.size[0], height=s.size[1], length=length,
                                 thermal_size=s.thermal_size or DEFAULT_THERMAL_SIZE)
        return make_sequence(s.synthetic, config)

    def homography(self) -> np.ndarray:
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
            "--wait-for-subscribers", "20", "--stamp-log", str(self.stamp_log), "--transport", s.transport,
            *(["--encode-first"] if self._encode_first else []),
        )

    @property
    def _encode_first(self) -> bool:
        return self.settings.transport == "compressed" and self.frames <= ENCODE_FIRST_FRAMES

    def run(self) -> DemoOutcome:
        s = self.settings
        self.out.mkdir(parents=True, exist_ok=True)
        self.stamp_log.unlink(missing_ok=True)
        apply_ros_environment()
        ros_args = ["-p", f"{HOMOGRAPHY_PARAMETER}:={format_matrix(self.homography())}",
                    *transport_arguments(s.transport), *s.ros_args]
        node_log = self.out / "node.log"
        print(f"demo: {self.sequence.name}, {self.frames} frames at {s.rate_hz:g} Hz; ROS domain "
              f"{os.environ['ROS_DOMAIN_ID']}, localhost only; logs in {self.out}", file=sys.stderr)
        node = start_process(node_command(s.node_command, ros_args), node_log)
        try:
            with connected_client(node, s.node_name, s.startup_timeout_s, "rgbt_demo") as client:
                print(f"demo: tracker node ready (pid {node.pid}); starting the player", file=sys.stderr)
                records = self._play(client, node)
        except NodeFailed as exc:
            raise NodeFailed(f"{exc}\n{log_tail(node_log)}") from None
        finally:
            code = stop_process(node, timeout_s=10.0)
        if code not in STOPPED_CLEANLY:
            raise NodeFailed(f"the tracker node exited with code {code}\n{log_tail(node_log)}")
        return self.score(records)

    def _play(self, client: TrackerClient, node) -> list[TargetRecord]:
        """Run the player to its end: initialise, show the status line; the results received."""
        player_log = self.out / "player.log"
        player = start_process(self.player_command(), player_log)
        try:
            self._initialise(client, node, player)
            self._watch(client, node, player)
            if player.returncode != 0:
                raise NodeFailed(f"the player failed (exit code {player.returncode}); see {player_log}\n"
                                 + log_tail(player_log))
            time.sleep(1.0)  # the last frames' results are still on their way
            return client.snapshot()
        finally:
            stop_process(player)

    def _initialise(self, client: TrackerClient, node, player) -> None:
        """Draw the ground-truth box of the first annotated frame, stamped with that frame's stamp.

        If the node refuses that stamp (its pair was lost on the way, or has left the node's buffer),
        the newest published annotated frame is tried instead; the node catches up from there.
        """
        deadline = time.monotonic() + INIT_WAIT_S + (60.0 if self._encode_first else 0.0)
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
        frame_of = read_stamp_log(self.stamp_log)["visible"]
        return score_records(records, frame_of, self.sequence, self.frames, self.init_frame)

    def write_outputs(self, outcome: DemoOutcome) -> list[Path]:
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
