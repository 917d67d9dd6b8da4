"""`rgbt-tracker play` (commands/play.py over ros_tools/player.py) as a separate process over DDS on
localhost: this process subscribes to what the player publishes, in a domain of this run's own."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import yaml

rclpy = pytest.importorskip("rclpy")

from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CompressedImage, Image  # noqa: E402

from helpers.ros_processes import ros_test_environment, run_command  # noqa: E402
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence  # noqa: E402
from rgbt_tracker_ros.data.writer import write_sequence_folder  # noqa: E402
from rgbt_tracker_ros.ros.image_conversion import thermal_from_compressed, visible_from_compressed  # noqa: E402
from rgbt_tracker_ros.ros.names import INPUT_TOPICS  # noqa: E402
from rgbt_tracker_ros.ros_tools.player import read_stamp_log  # noqa: E402
from rgbt_tracker_ros.ros_tools.spinning import BackgroundSpinner  # noqa: E402

pytestmark = pytest.mark.ros


class ImageRecorder:
    """Subscribes to both image topics (reliable, deep queue) in its own rclpy context; with
    `compressed`, to their compressed forms (CompressedImage on <topic>/compressed) as well."""

    def __init__(self, compressed: bool = False):
        self.context = rclpy.Context()
        rclpy.init(args=[], context=self.context)
        self.node = rclpy.create_node(f"player_test_{os.getpid()}", context=self.context)
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.messages = {"visible": [], "thermal": []}
        for camera in self.messages:
            self.node.create_subscription(Image, INPUT_TOPICS[camera], self.messages[camera].append, qos)
        self.compressed = {"visible": [], "thermal": []}
        for camera in self.compressed if compressed else ():
            self.node.create_subscription(CompressedImage, INPUT_TOPICS[camera] + "/compressed",
                                          self.compressed[camera].append, qos)
        executor = SingleThreadedExecutor(context=self.context)
        executor.add_node(self.node)
        self.spinner = BackgroundSpinner(executor, name="player-test")

    def close(self):
        assert self.spinner.stop(), "the test's executor thread did not stop"
        self.node.destroy_node()
        self.context.try_shutdown()


def play(*args: str, timeout: float = 60.0):
    return run_command("play", *args, "--qos", "reliable", "--wait-for-subscribers", "20", timeout=timeout)


def stamp_ns(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


@pytest.fixture(scope="module", autouse=True)
def ros_env():
    with ros_test_environment():
        yield


@pytest.fixture
def recorder():
    rec = ImageRecorder()
    yield rec
    rec.close()


@pytest.mark.slow
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

    logged = read_stamp_log(stamp_log)
    assert logged["visible"] == {int(s): i for i, s in enumerate(v_stamps)}
    assert set(logged["thermal"]) == set(t_stamps.tolist())


@pytest.mark.slow
def test_player_scales_8_bit_thermal_and_applies_a_negative_offset(recorder, tmp_path):
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


@pytest.mark.slow
@pytest.mark.parametrize("encode_first", [False, True])
def test_player_compressed_publishes_jpeg_visible_and_16_bit_png_thermal(tmp_path, encode_first):
    sequence = make_sequence(3, SyntheticConfig(width=96, height=64, length=6, thermal_bits=8))
    folder = write_sequence_folder(sequence, tmp_path / "seq")
    recorder = ImageRecorder(compressed=True)
    try:
        result = play("--sequence", str(folder), "--rate", "25", "--transport", "compressed",
                      *(["--encode-first"] if encode_first else []))
        assert result.returncode == 0, result.stderr
        assert "/visible/image/compressed and /thermal/image/compressed (reliable, compressed)" in result.stderr
        time.sleep(0.5)
        visible, thermal = recorder.compressed["visible"], recorder.compressed["thermal"]
        assert len(visible) == 6 and len(thermal) == 6
        assert not recorder.messages["visible"] and not recorder.messages["thermal"]   # nothing raw
    finally:
        recorder.close()
    assert {m.format for m in visible} == {"rgb8; jpeg compressed bgr8"}
    assert {m.format for m in thermal} == {"mono16; png compressed "}
    for index, (v, t) in enumerate(zip(sorted(visible, key=stamp_ns), sorted(thermal, key=stamp_ns))):
        np.testing.assert_array_equal(thermal_from_compressed(t), sequence.thermal[index].astype(np.uint16) * 257)
        decoded = visible_from_compressed(v)
        assert decoded.shape == (64, 96, 3) and np.abs(decoded.astype(int) - sequence.visible[index]).mean() < 8.0
    np.testing.assert_allclose(np.diff(sorted(stamp_ns(m) for m in visible)) / 1e6, 40.0, atol=1e-3)


def test_player_rejects_bad_input():
    result = play("--synthetic", "1", "--thermal-size", "640by512", timeout=30)
    assert result.returncode == 2 and "WIDTHxHEIGHT" in result.stderr
    result = play("--synthetic", "1", "--rate", "0", timeout=30)
    assert result.returncode == 2 and "rate must be" in result.stderr
    result = play("--synthetic", "1", "--transport", "theora", timeout=30)
    assert result.returncode == 2 and "invalid choice: 'theora'" in result.stderr
    result = play("--synthetic", "1", "--encode-first", timeout=30)
    assert result.returncode == 2 and "--encode-first goes with --transport compressed" in result.stderr
