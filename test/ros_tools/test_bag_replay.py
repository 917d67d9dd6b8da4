"""A recorded bag over DDS: `play --bag` publishes the recorded messages (stamps, bytes, topics)
paced by their receive times, and the tracker node, run as its own process over a played
deterministic bag, publishes the same boxes, scores and states as the offline `track --bag` (same
pairing, same frames): the bar of issue 14, section 1."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from geometry_msgs.msg import PolygonStamped  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CompressedImage, Image  # noqa: E402
from sensor_msgs.srv import SetCameraInfo  # noqa: E402
from std_msgs.msg import Float32, UInt8  # noqa: E402

from helpers.paths import REPO  # noqa: E402
from helpers.ros_processes import ros_test_environment, run_command  # noqa: E402
from rgbt_tracker_ros.commands import bag as bag_command  # noqa: E402
from rgbt_tracker_ros.data.bags import messages  # noqa: E402
from rgbt_tracker_ros.data.bags.sequence_bag import write_sequence_bag  # noqa: E402
from rgbt_tracker_ros.data.bags.storage import open_bag, read_messages  # noqa: E402
from rgbt_tracker_ros.data.bags.topics import THERMAL_TOPIC, VISIBLE_TOPIC  # noqa: E402
from rgbt_tracker_ros.data.camera_timing import CameraTiming  # noqa: E402
from rgbt_tracker_ros.data.readers import load_sequence  # noqa: E402
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence  # noqa: E402
from rgbt_tracker_ros.data.writer import write_sequence_folder  # noqa: E402
from rgbt_tracker_ros.evaluation.metrics import evaluate  # noqa: E402
from rgbt_tracker_ros.evaluation.runner import run_tracker  # noqa: E402
from rgbt_tracker_ros.ros.image_conversion import stamp_to_ns  # noqa: E402
from rgbt_tracker_ros.ros.names import NODE_NAME, SCORE_TOPIC, STATE_TOPIC, TARGET_TOPIC  # noqa: E402
from rgbt_tracker_ros.ros_tools.processes import cli_command, log_tail, node_command, start_process, stop_process  # noqa: E402
from rgbt_tracker_ros.ros_tools.spinning import BackgroundSpinner  # noqa: E402
from rgbt_tracker_ros.tracking.config import TrackerConfig  # noqa: E402
from rgbt_tracker_ros.tracking.tracker import RGBTTracker  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

START_NS = 1_718_000_000_000_000_000
FRAMES = 30
RATE_HZ = 10.0       # slow enough that the node tracks every pair even on a loaded machine
RELIABLE = QoSProfile(depth=200, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture(scope="module", autouse=True)
def ros_env():
    with ros_test_environment():
        yield


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A deterministic bag: a synthetic sequence at 10 Hz, the thermal camera 4 ms late +- 3 ms."""
    sequence = make_sequence(1_000_000, SyntheticConfig(width=320, height=240, length=FRAMES))
    bag = tmp_path_factory.mktemp("replay") / "drive.mcap"
    write_sequence_bag(sequence, bag, CameraTiming(RATE_HZ, 4.0, 3.0, seed=2), start_ns=START_NS)
    return bag, tuple(round(float(v), 2) for v in sequence.groundtruth[0])


@pytest.fixture(scope="module")
def recorded_compressed(tmp_path_factory):
    """The same recording with compressed cameras (bag --compressed: jpeg visible, 16-bit png thermal)."""
    sequence = make_sequence(1_000_000, SyntheticConfig(width=320, height=240, length=FRAMES))
    bag = tmp_path_factory.mktemp("replay") / "drive_compressed.mcap"
    write_sequence_bag(sequence, bag, CameraTiming(RATE_HZ, 4.0, 3.0, seed=2), start_ns=START_NS, compressed=True)
    return bag, tuple(round(float(v), 2) for v in sequence.groundtruth[0])


class Listener:
    """This process's rclpy side: subscriptions that keep what arrives."""

    def __init__(self):
        self.context = rclpy.Context()
        rclpy.init(args=[], context=self.context)
        self.node = rclpy.create_node(f"bag_replay_test_{os.getpid()}", context=self.context)
        self.lock = threading.Lock()
        self.received: dict[str, list] = {}
        executor = SingleThreadedExecutor(context=self.context)
        executor.add_node(self.node)
        self.spinner = BackgroundSpinner(executor, name="bag-replay-test")

    def listen(self, kind, topic: str):
        self.received[topic] = []

        def keep(message, store=self.received[topic]):
            with self.lock:
                store.append((time.monotonic(), message))
        return self.node.create_subscription(kind, topic, keep, RELIABLE)

    def got(self, topic: str) -> list:
        with self.lock:
            return list(self.received[topic])

    def close(self):
        assert self.spinner.stop(), "the test's executor thread did not stop"
        self.node.destroy_node()
        self.context.try_shutdown()


@pytest.fixture
def listener():
    node = Listener()
    yield node
    node.close()


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_play_bag_publishes_the_recording_as_recorded(recorded, listener):
    bag, _ = recorded
    for topic in (VISIBLE_TOPIC, THERMAL_TOPIC):
        listener.listen(Image, topic)
    rate = 2.0
    result = run_command("play", "--bag", str(bag), "--rate", f"{rate:g}", "--qos", "reliable",
                         "--wait-for-subscribers", "20", timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"published {2 * FRAMES} images ({FRAMES} on {VISIBLE_TOPIC})" in result.stderr
    _wait(lambda: all(len(listener.got(t)) == FRAMES for t in (VISIBLE_TOPIC, THERMAL_TOPIC)), 10, "every image")

    with open_bag(bag) as reader:
        recorded_messages = list(read_messages(reader, [VISIBLE_TOPIC, THERMAL_TOPIC]))
    for topic in (VISIBLE_TOPIC, THERMAL_TOPIC):
        got = [m for _, m in listener.got(topic)]
        want = [(log, m) for t, log, m in recorded_messages if t == topic]
        assert [stamp_to_ns(m.header.stamp) for m in got] == [messages.stamp_ns(m) for _, m in want]
        for mine, (_, theirs) in zip(got, want):
            assert (mine.header.frame_id, mine.encoding, mine.width, mine.height, mine.step) == \
                (theirs.header.frame_id, theirs.encoding, theirs.width, theirs.height, theirs.step)
            assert bytes(mine.data) == theirs.data.tobytes()
    # Paced by the receive times at twice the speed: 2.9 s of recording in about 1.45 s.
    arrivals = np.array([t for t, _ in listener.got(VISIBLE_TOPIC)])
    span = arrivals[-1] - arrivals[0]
    assert abs(span - (FRAMES - 1) / RATE_HZ / rate) < 0.25, span


def test_play_bag_publishes_compressed_topics_as_recorded(recorded_compressed, listener):
    bag, _ = recorded_compressed
    topics = (VISIBLE_TOPIC + "/compressed", THERMAL_TOPIC + "/compressed")
    for topic in topics:
        listener.listen(CompressedImage, topic)
    result = run_command("play", "--bag", str(bag), "--rate", "4", "--qos", "reliable", "--wait-for-subscribers", "20",
                         timeout=60)
    assert result.returncode == 0, result.stderr
    _wait(lambda: all(len(listener.got(t)) == FRAMES for t in topics), 10, "every compressed image")
    with open_bag(bag) as reader:
        recorded_messages = list(read_messages(reader, list(topics)))
    for topic in topics:
        got = [m for _, m in listener.got(topic)]
        want = [m for t, _, m in recorded_messages if t == topic]
        assert [(stamp_to_ns(m.header.stamp), m.format, bytes(m.data)) for m in got] == \
            [(messages.stamp_ns(m), m.format, m.data.tobytes()) for m in want]


def test_play_bag_refuses_sequence_options(recorded):
    bag, _ = recorded
    result = run_command("play", "--bag", str(bag), "--jitter-ms", "3", timeout=30)
    assert result.returncode == 2 and "--jitter-ms shape a played sequence" in result.stderr
    result = run_command("play", "--bag", str(bag), "--transport", "compressed", timeout=30)
    assert result.returncode == 2 and "--transport shape a played sequence" in result.stderr
    result = run_command("play", "--bag", str(bag), "--visible-topic", "/nope", timeout=30)
    assert result.returncode == 2 and "the bag has no topic /nope" in result.stderr


def _start_node(log_path: Path, *params: str):
    """The tracker node in its own process, reliable inputs (every played frame arrives), one thread."""
    args = ["--params-file", str(REPO / "config" / "tracker.yaml"), "-p", "providers:=[cpu]", "-p", "threads:=1",
            "-p", "qos.reliability:=reliable", "-p", "qos.depth:=50"]
    for param in params:
        args += ["-p", param]
    return start_process(node_command(ros_args=args), log_path)


@pytest.mark.parametrize("bag_fixture, transport", [("recorded", "raw"), ("recorded_compressed", "compressed")])
def test_the_node_over_a_played_bag_gives_the_offline_boxes(bag_fixture, transport, listener, tmp_path, request):
    """Also with compressed cameras: the node decodes on its decoder threads what track --bag decodes
    in line, and publishes the same boxes, scores and states."""
    bag, init = request.getfixturevalue(bag_fixture)
    offline_bag = tmp_path / "offline.mcap"
    result = run_command("track", "--bag", str(bag), "--init", ",".join(f"{v:g}" for v in init),
                         "--output", str(tmp_path / "offline.txt"), "--output-bag", str(offline_bag),
                         "--providers", "cpu", "--threads", "1", "--no-progress", timeout=120)
    assert result.returncode == 0, result.stderr
    with open_bag(offline_bag) as reader:
        offline = {t.rsplit("/", 1)[1]: [m for _, _, m in read_messages(reader, [t])]
                   for t in (c.topic for c in reader.connections)}
    assert len(offline[TARGET_TOPIC]) == FRAMES

    prefix = f"/{NODE_NAME}"
    target_sub = listener.listen(PolygonStamped, f"{prefix}/{TARGET_TOPIC}")
    listener.listen(Float32, f"{prefix}/{SCORE_TOPIC}")
    listener.listen(UInt8, f"{prefix}/{STATE_TOPIC}")
    node_log = tmp_path / "node.log"
    node = _start_node(node_log, f"init_box:=[{', '.join(f'{v:.2f}' for v in init)}]",
                       f"visible.transport:={transport}", f"thermal.transport:={transport}")
    try:
        _wait(lambda: target_sub.get_publisher_count() > 0 or node.poll() is not None, 60, "the node's outputs")
        assert node.poll() is None, log_tail(node_log, what="the node: ")
        # Compressed at half speed (5 Hz): a decoder thread starved for a frame interval on a loaded
        # machine replaces the waiting frame by the next (newest wins), and the runs would part.
        speed = "0.5" if transport == "compressed" else "1"
        played = run_command("play", "--bag", str(bag), "--rate", speed, "--qos", "reliable",
                             "--wait-for-subscribers", "30", timeout=90)
        assert played.returncode == 0, played.stderr
        try:
            _wait(lambda: len(listener.got(f"{prefix}/{TARGET_TOPIC}")) >= FRAMES, 15, "an output for every pair")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {len(listener.got(f'{prefix}/{TARGET_TOPIC}'))} of {FRAMES}; "
                                 f"player: {played.stderr.strip().splitlines()[-1]}") from None
        time.sleep(0.5)  # nothing more comes
    finally:
        assert stop_process(node) == 0, log_tail(node_log, what="the node: ")

    live = {name: [m for _, m in listener.got(f"{prefix}/{name}")] for name in (TARGET_TOPIC, SCORE_TOPIC, STATE_TOPIC)}
    assert [len(v) for v in live.values()] == [FRAMES] * 3  # every pair processed once, none dropped
    tracked = 0
    for mine, theirs in zip(live[TARGET_TOPIC], offline[TARGET_TOPIC]):
        assert stamp_to_ns(mine.header.stamp) == messages.stamp_ns(theirs)
        assert mine.header.frame_id == theirs.header.frame_id
        # Point32 carries float32: the same float64 box gives the same corners, bit for bit.
        assert [(p.x, p.y) for p in mine.polygon.points] == [(p.x, p.y) for p in theirs.polygon.points]
        tracked += bool(mine.polygon.points)
    assert [m.data for m in live[SCORE_TOPIC]] == [m.data for m in offline[SCORE_TOPIC]]
    assert [m.data for m in live[STATE_TOPIC]] == [m.data for m in offline[STATE_TOPIC]]
    assert tracked >= FRAMES // 2  # a real run: the boxes compared are mostly non-empty


def test_a_sqlite3_bag_of_a_folder_played_into_the_node_scores_like_the_folder(listener, tmp_path):
    """`bag --from-sequence` in sqlite3 storage, played into the node, initialised through
    ~/init_target on the first frame's stamp once a few pairs are in: the node's boxes are the folder
    run's (the eval runner's) on every frame it published, and so are PR and SR over those frames."""
    sequence = make_sequence(1_000_001, SyntheticConfig(width=320, height=240, length=FRAMES))
    folder = write_sequence_folder(sequence, tmp_path / "folder")
    bag = tmp_path / "drive_sqlite"
    assert bag_command.main(["--from-sequence", str(folder), "--output", str(bag), "--storage", "sqlite3",
                             "--rate", f"{RATE_HZ:g}", "--thermal-offset-ms", "-3", "--jitter-ms", "2",
                             "--start-time", "1718000000", "--no-progress"]) == 0
    with open_bag(bag) as reader:
        stamps = [messages.stamp_ns(m) for _, _, m in read_messages(reader, [VISIBLE_TOPIC])]
    assert len(stamps) == FRAMES and stamps[0] == START_NS + 5_000_000  # the thermal camera may run 5 ms ahead
    folder_sequence = load_sequence(folder)
    box = tuple(float(round(v)) for v in folder_sequence.groundtruth[0])  # a RegionOfInterest holds integers
    reference = run_tracker(RGBTTracker(TrackerConfig(providers=("cpu",), threads=1)), folder_sequence,
                            init_box=box, init_frame=0, progress=False)

    prefix = f"/{NODE_NAME}"
    target_sub = listener.listen(PolygonStamped, f"{prefix}/{TARGET_TOPIC}")
    init_client = listener.node.create_client(SetCameraInfo, f"{prefix}/init_target")
    node_log = tmp_path / "node.log"
    node = _start_node(node_log)
    player = None
    try:
        _wait(lambda: (target_sub.get_publisher_count() > 0 and init_client.service_is_ready())
              or node.poll() is not None, 60, "the node")
        assert node.poll() is None, log_tail(node_log, what="the node: ")
        player = start_process(cli_command("play", "--bag", str(bag), "--qos", "reliable", "--wait-for-subscribers", "30"),
                               tmp_path / "player.log")
        _wait(lambda: len(listener.got(f"{prefix}/{TARGET_TOPIC}")) >= 3, 30, "three idle outputs")
        request = SetCameraInfo.Request()
        request.camera_info.header.stamp.sec, request.camera_info.header.stamp.nanosec = divmod(stamps[0], 1_000_000_000)
        x, y, w, h = (int(v) for v in box)
        request.camera_info.roi.x_offset, request.camera_info.roi.y_offset = x, y
        request.camera_info.roi.width, request.camera_info.roi.height = w, h
        future = init_client.call_async(request)
        _wait(future.done, 10, "the init_target answer")
        assert future.result().success, future.result().status_message
        assert player.wait(60) == 0, log_tail(tmp_path / "player.log", what="the player: ")
        time.sleep(1.0)  # the last outputs arrive
    finally:
        if player is not None:
            stop_process(player)
        assert stop_process(node) == 0, log_tail(node_log, what="the node: ")

    frame_of = {stamp: k for k, stamp in enumerate(stamps)}
    published = [(frame_of[stamp_to_ns(m.header.stamp)], m) for _, m in listener.got(f"{prefix}/{TARGET_TOPIC}")]
    after = [(k, m) for k, m in published if m.polygon.points]
    frames = [k for k, _ in after]
    # Catch-up published its last pair only; from there on, every frame, once, in order.
    assert frames == list(range(frames[0], FRAMES)) and frames[0] <= FRAMES // 2, frames
    node_boxes = np.array([messages.box_of_polygon(m) for _, m in after])
    np.testing.assert_allclose(node_boxes, reference.predictions[frames], atol=1e-3)  # float32 corners
    scored = np.full((FRAMES, 4), np.nan)
    scored[frames] = node_boxes
    mine = evaluate(scored[frames[0] - 1:], folder_sequence.groundtruth[frames[0] - 1:], init_frame=0)
    folders = evaluate(reference.predictions[frames[0] - 1:], folder_sequence.groundtruth[frames[0] - 1:], init_frame=0)
    assert (mine.pr, mine.sr, mine.frames) == (folders.pr, folders.sr, folders.frames)
    assert mine.frames == len(frames)


def test_play_bag_loops_until_stopped(recorded, listener, tmp_path):
    bag, _ = recorded
    listener.listen(Image, VISIBLE_TOPIC)
    listener.listen(Image, THERMAL_TOPIC)  # the player waits for a subscriber on both
    player = start_process(cli_command("play", "--bag", str(bag), "--loop", "--rate", "5", "--qos", "reliable",
                                       "--wait-for-subscribers", "30"), tmp_path / "player.log")
    try:
        _wait(lambda: len(listener.got(VISIBLE_TOPIC)) >= FRAMES + 5 or player.poll() is not None, 40, "a second pass")
    finally:
        code = stop_process(player)
    assert code == 0, log_tail(tmp_path / "player.log", what="the player: ")
    stamps = [stamp_to_ns(m.header.stamp) for _, m in listener.got(VISIBLE_TOPIC)]
    assert stamps[FRAMES:FRAMES + 5] == stamps[:5]  # the recording again, as recorded
