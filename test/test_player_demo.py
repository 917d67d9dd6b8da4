"""`rgbt-tracker play`, `node-bench` and `demo`, each as separate processes over DDS on localhost.

This process subscribes to what the player publishes; the node-bench and demo runs start the tracker
node themselves. Every process runs with discovery on this machine only, in a domain of its own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import time

import numpy as np
import pytest
import yaml

from rgbt_tracker_ros.ros.processes import cli_command, ros_environment
from rgbt_tracker_ros.ros.spinning import BackgroundSpinner

DOMAIN_ID = 1 + os.getpid() % 100
HAS_NODE = importlib.util.find_spec("rgbt_tracker_ros.ros.tracker_node") is not None
needs_node = pytest.mark.skipif(not HAS_NODE, reason="the tracker node module does not exist yet")


class ImageRecorder:
    """Subscribes to both image topics (reliable, deep queue) in its own rclpy context."""

    def __init__(self):
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image

        self.context = rclpy.Context()
        rclpy.init(args=[], context=self.context)
        self.node = rclpy.create_node(f"player_test_{os.getpid()}", context=self.context)
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.messages = {"visible": [], "thermal": []}
        for camera in self.messages:
            self.node.create_subscription(Image, f"{camera}/image", self.messages[camera].append, qos)
        executor = SingleThreadedExecutor(context=self.context)
        executor.add_node(self.node)
        self.spinner = BackgroundSpinner(executor, name="player-test")

    def close(self):
        assert self.spinner.stop(), "the test's executor thread did not stop"
        self.node.destroy_node()
        self.context.try_shutdown()


def play(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command("play", *args, "--qos", "reliable", "--wait-for-subscribers", "20"),
                          env=ros_environment(), capture_output=True, text=True, timeout=timeout)


def stamp_ns(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


@pytest.fixture(scope="module", autouse=True)
def ros_env():
    """Localhost discovery, a domain of this run's own and the shipped Fast DDS profile, for this
    process's rclpy and every child (the children get ros_environment() of this environment)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ros_environment(domain_id=DOMAIN_ID).items():
            if os.environ.get(name) != value:
                patch.setenv(name, value)
        patch.delenv("RMW_IMPLEMENTATION", raising=False)
        yield


@pytest.fixture
def recorder():
    rec = ImageRecorder()
    yield rec
    rec.close()


def test_background_spinner_serves_callbacks_and_stops_before_the_node_is_destroyed():
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import UInt8

    context = rclpy.Context()
    rclpy.init(args=[], context=context)
    try:
        node = rclpy.create_node(f"spinner_test_{os.getpid()}", context=context)
        received = []
        node.create_subscription(UInt8, "spinner_test", lambda m: received.append(m.data), 10)
        publisher = node.create_publisher(UInt8, "spinner_test", 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        spinner = BackgroundSpinner(executor, name="spinner-test")
        deadline = time.monotonic() + 10.0
        while not received and time.monotonic() < deadline:
            publisher.publish(UInt8(data=7))
            time.sleep(0.05)
        assert received and received[0] == 7, "no callback was served"
        started = time.monotonic()
        assert spinner.stop(timeout_s=5.0)
        assert time.monotonic() - started < 1.0, "stop() waited longer than a spin slice or two"
        count = len(received)
        publisher.publish(UInt8(data=8))
        time.sleep(0.3)
        assert len(received) == count, "callbacks were served after stop()"
        node.destroy_node()
    finally:
        context.try_shutdown()


def test_player_publishes_encodings_stamps_offset_jitter_and_thermal_size(recorder, tmp_path):
    frames, rate = 12, 20.0
    stamp_log = tmp_path / "stamps.csv"
    started = time.time_ns()
    result = play("--synthetic", "7", "--length", str(frames), "--size", "160x120", "--thermal-size", "128x96",
                  "--rate", f"{rate:g}", "--thermal-offset-ms", "7", "--jitter-ms", "3", "--stamp-log", str(stamp_log))
    assert result.returncode == 0, result.stderr
    time.sleep(0.5)
    visible, thermal = recorder.messages["visible"], recorder.messages["thermal"]
    assert len(visible) == frames and len(thermal) == frames

    assert {(m.encoding, m.width, m.height, m.step) for m in visible} == {("rgb8", 160, 120, 480)}
    assert {(m.encoding, m.width, m.height, m.step, m.is_bigendian) for m in thermal} == {("mono16", 128, 96, 256, 0)}
    counts = np.frombuffer(bytes(thermal[0].data), "<u2")
    assert counts.size == 128 * 96 and counts.min() > 255  # radiometric counts, not display levels

    v_stamps = np.array([stamp_ns(m) for m in visible])
    t_stamps = np.array([stamp_ns(m) for m in thermal])
    np.testing.assert_allclose(np.diff(v_stamps) / 1e6, 1000.0 / rate, atol=1e-3)  # steady period
    offsets = (np.sort(t_stamps) - np.sort(v_stamps)) / 1e6
    assert np.all(np.abs(offsets - 7.0) <= 3.0 + 1e-3) and np.ptp(offsets) > 0.1  # offset +- jitter
    assert started < v_stamps[0] < time.time_ns()  # system-clock stamps of this run
    assert {m.header.frame_id for m in visible} == {"visible_camera"}

    # The homography of the played thermal frames, as a parameter block on stdout.
    block = yaml.safe_load(result.stdout)
    matrix = np.array(block["/**"]["ros__parameters"]["thermal_to_visible"]).reshape(3, 3)
    np.testing.assert_allclose(matrix, np.diag([160 / 128, 120 / 96, 1.0]))

    from rgbt_tracker_ros.ros.player import read_stamp_log

    logged = read_stamp_log(stamp_log)
    assert logged["visible"] == {int(s): i for i, s in enumerate(v_stamps)}
    assert set(logged["thermal"]) == set(t_stamps.tolist())


def test_player_scales_8_bit_thermal_and_applies_a_negative_offset(recorder, tmp_path):
    from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
    from rgbt_tracker_ros.data.writer import write_sequence_folder

    sequence = make_sequence(3, SyntheticConfig(width=96, height=64, length=5, thermal_bits=8))
    folder = write_sequence_folder(sequence, tmp_path / "seq")
    result = play("--sequence", str(folder), "--rate", "25", "--thermal-offset-ms", "-5")
    assert result.returncode == 0, result.stderr
    time.sleep(0.5)
    visible, thermal = recorder.messages["visible"], recorder.messages["thermal"]
    assert len(visible) == 5 and len(thermal) == 5
    for index, msg in enumerate(sorted(thermal, key=stamp_ns)):
        assert msg.encoding == "mono16"
        counts = np.frombuffer(bytes(msg.data), "<u2").reshape(64, 96)
        np.testing.assert_array_equal(counts, sequence.thermal[index].astype(np.uint16) * 257)
    offsets = (np.sort([stamp_ns(m) for m in thermal]) - np.sort([stamp_ns(m) for m in visible])) / 1e6
    np.testing.assert_allclose(offsets, -5.0, atol=1e-3)


def test_player_rejects_bad_input():
    result = play("--synthetic", "1", "--thermal-size", "640by512", timeout=30)
    assert result.returncode == 2 and "WIDTHxHEIGHT" in result.stderr
    result = play("--synthetic", "1", "--rate", "0", timeout=30)
    assert result.returncode == 2 and "rate must be" in result.stderr


@needs_node
def test_node_bench_json_end_to_end():
    command = cli_command("node-bench", "--seconds", "3", "--warmup", "1", "--json")
    result = subprocess.run(command, env=ros_environment(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "processed_hz", "offered_hz",
                "dropped_pairs", "cpu_percent", "rss_mb_start", "rss_mb_end"):
        assert key in report, key
    assert report["offered_pairs"] >= 60 and report["processed_pairs"] > 0
    assert 0 < report["latency_ms_p50"] <= report["latency_ms_p95"] <= report["latency_ms_p99"]
    assert report["dropped_pairs"] == report["offered_pairs"] - report["processed_pairs"]
    assert report["rss_mb_start"] > 10 and report["cpu_percent"] > 0
    assert "latency visible stamp -> ~/target" in result.stderr


@needs_node
def test_short_demo_prints_scores_and_writes_outputs(tmp_path):
    out = tmp_path / "demo"
    command = cli_command("demo", "--seconds", "1.5", "--output-dir", str(out))
    result = subprocess.run(command, env=ros_environment(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "PR " in result.stdout and "SR " in result.stdout
    assert "target initialised on frame" in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 45 and summary["scored_frames"] == 44 - summary["init_frame"]
    assert 0.0 <= summary["pr"] <= 1.0 and 0.0 <= summary["sr"] <= 1.0
    assert summary["processed_frames"] > 0
    video = out / "demo.mp4" if (out / "demo.mp4").exists() else out / "demo.avi"
    assert video.stat().st_size > 10_000 and (out / "strip.png").stat().st_size > 10_000
    boxes = (out / "boxes.txt").read_text().splitlines()
    assert len(boxes) == 45
