"""Bags without ROS (data/bags/, data/readers/bag.py): a Sequence written as a bag in each storage
(sqlite3 and MCAP; a bag folder or a single file) reads back frame for frame, with the ground
truth, the registration and the stamps `play` gives; topics found by name; bad bags refused."""

from __future__ import annotations

import numpy as np
import pytest

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.bags import messages
from rgbt_tracker_ros.data.bags.sequence_bag import write_sequence_bag
from rgbt_tracker_ros.data.bags.storage import BagWriter, Topic, open_bag, read_messages
from rgbt_tracker_ros.data.bags.topics import (
    COMPRESSED_SUFFIX, GROUNDTRUTH_TOPIC, THERMAL_TOPIC, VISIBLE_TOPIC, find_topics,
)
from rgbt_tracker_ros.data.camera_timing import CameraTiming, FrameClock, parse_stamp
from rgbt_tracker_ros.data.readers import detect_layout, load_sequence, load_sequences
from rgbt_tracker_ros.data.sequence import ArrayFrames, Sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.ros.names import INPUT_TOPICS
from rgbt_tracker_ros.ros.pairing import THERMAL, VISIBLE

START_NS = 1_700_000_000_000_000_000
TIMING = CameraTiming(rate_hz=20.0, thermal_offset_ms=-4.0, jitter_ms=3.0, seed=5)


@pytest.fixture(scope="module")
def sequence() -> Sequence:
    seq = make_sequence(1_000_000, SyntheticConfig(width=96, height=72, length=12))
    seq.groundtruth[4] = np.nan  # an unannotated frame
    return seq


def _assert_same_frames(read: Sequence, written: Sequence) -> None:
    assert len(read) == len(written) and read.modalities == written.modalities
    for k in range(len(written)):
        for camera in ("visible", "thermal"):
            if getattr(written, camera) is not None:
                got, want = getattr(read, camera)[k], getattr(written, camera)[k]
                assert got.dtype == want.dtype and np.array_equal(got, want), (camera, k)


@pytest.mark.parametrize("name, storage", [("seq.mcap", None), ("seq.db3", None), ("folder_mcap", "mcap"),
                                           ("folder_sqlite", "sqlite3")])
def test_a_sequence_bag_reads_back_frame_for_frame(tmp_path, sequence, name, storage):
    out = tmp_path / name
    summary = write_sequence_bag(sequence, out, TIMING, storage=storage, start_ns=START_NS)
    assert summary.storage == (storage or ("mcap" if name.endswith(".mcap") else "sqlite3"))
    assert summary.counts == {VISIBLE_TOPIC: 12, THERMAL_TOPIC: 12, GROUNDTRUTH_TOPIC: 12}
    assert out.is_file() == (storage is None) and list(tmp_path.iterdir()) == [out]  # no staging left
    assert detect_layout(out) == "bag"

    read = load_sequence(out)
    assert read.name == out.stem
    _assert_same_frames(read, sequence)
    # Backwards and skipping access (the eval runner reads in order; others may not).
    assert np.array_equal(read.visible[9], sequence.visible[9]) and np.array_equal(read.visible[2], sequence.visible[2])
    annotated = np.all(np.isfinite(sequence.groundtruth), axis=1)
    assert not np.isfinite(read.groundtruth[4]).any() and annotated.sum() == 11
    # Point32 carries float32 corners.
    np.testing.assert_allclose(read.groundtruth[annotated], sequence.groundtruth[annotated], atol=1e-4)

    # The stamps are play's: visible every 50 ms, thermal 4 ms ahead +- 3 ms, from the start.
    with open_bag(out) as reader:
        stamps = {VISIBLE_TOPIC: [], THERMAL_TOPIC: []}
        for topic, log_time, message in read_messages(reader, [VISIBLE_TOPIC, THERMAL_TOPIC]):
            assert log_time == messages.stamp_ns(message)  # recorded as it was stamped
            stamps[topic].append(messages.stamp_ns(message))
    clock = FrameClock(TIMING)
    expected = [clock.next_frame(k) for k in range(12)]
    first = START_NS + 7_000_000  # no stamp before the start: the thermal camera may run 7 ms ahead
    assert stamps[VISIBLE_TOPIC] == [first + round(v * 1e9) for v, _ in expected]
    assert stamps[THERMAL_TOPIC] == sorted(first + round(t * 1e9) for _, t in expected)
    offsets = (np.array(sorted(stamps[THERMAL_TOPIC])) - np.array(stamps[VISIBLE_TOPIC])) / 1e6
    assert np.all(np.abs(offsets + 4.0) <= 3.0 + 1e-6) and np.ptp(offsets) > 0.5


def test_the_bag_topics_are_the_node_inputs_at_the_root():
    assert VISIBLE_TOPIC == "/" + INPUT_TOPICS[VISIBLE] and THERMAL_TOPIC == "/" + INPUT_TOPICS[THERMAL]


def test_single_camera_8_bit_thermal_and_registration_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    thermal8 = [rng.integers(0, 255, (24, 32), dtype=np.uint8) for _ in range(4)]
    homography = np.array([[2.0, 0.0, 3.0], [0.0, 2.0, -1.0], [0.0, 0.0, 1.0]])
    gt = np.array([[1.0, 2.0, 5.0, 6.0]] * 4)
    thermal_only = Sequence("t", None, ArrayFrames(thermal8), gt, thermal_to_visible=homography)
    out = tmp_path / "t.mcap"
    write_sequence_bag(thermal_only, out, start_ns=START_NS)
    read = load_sequence(out)
    assert read.modalities == "thermal"
    for k in range(4):  # 8-bit counts go out as mono16 x 257, as play sends them
        assert read.thermal[k].dtype == np.uint16 and np.array_equal(read.thermal[k], thermal8[k].astype(np.uint16) * 257)
    np.testing.assert_allclose(read.groundtruth, gt)  # boxes on the thermal frames' stamps
    np.testing.assert_array_equal(read.thermal_to_visible, homography)

    grey = [rng.integers(0, 255, (24, 32), dtype=np.uint8) for _ in range(3)]
    temps = [rng.normal(30.0, 2.0, (12, 16)).astype(np.float32) for _ in range(3)]
    mixed = Sequence("m", ArrayFrames(grey), ArrayFrames(temps), np.full((3, 4), np.nan))
    write_sequence_bag(mixed, tmp_path / "m.db3", start_ns=START_NS)
    read = load_sequence(tmp_path / "m.db3")
    for k in range(3):  # mono8 visible read as the node reads it (RGB, three equal channels); 32FC1 thermal
        assert np.array_equal(read.visible[k], np.repeat(grey[k][:, :, None], 3, axis=2))
        assert read.thermal[k].dtype == np.float32 and np.array_equal(read.thermal[k], temps[k])
    assert read.thermal_to_visible is None and not np.isfinite(read.groundtruth).any()


def test_a_folder_of_bags_is_a_dataset(tmp_path, sequence):
    write_sequence_bag(sequence, tmp_path / "b.mcap", start_ns=START_NS)
    write_sequence_bag(sequence, tmp_path / "a", storage="sqlite3", start_ns=START_NS)
    (tmp_path / "notes.txt").write_text("not a sequence")
    assert [s.name for s in load_sequences(tmp_path)] == ["a", "b"]


def test_images_of_other_encodings_and_padded_rows_are_read():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    bgr = messages.raw_image(rgb[:, :, ::-1], "bgr8", 5, "c")
    assert np.array_equal(messages.image_array(bgr, colour=True), rgb)
    counts = np.array([[1, 513], [65535, 7]], dtype=np.uint16)
    msg = messages.raw_image(counts, "mono16", 5, "c")
    padded = messages.TYPESTORE.types[messages.IMAGE](
        header=msg.header, height=2, width=2, encoding="16UC1", is_bigendian=1, step=6,
        data=np.frombuffer(b"\x00\x01\x02\x01\xaa\xaa\xff\xff\x00\x07\xbb\xbb", np.uint8))
    assert np.array_equal(messages.image_array(padded, colour=False), counts)
    assert messages.cdr_header_stamp_ns(messages.serialize(msg)) == 5
    # Every encoding the node takes (one reader, common/raw_images.py): YUV 4:2:2 from a bag too.
    uyvy = messages.TYPESTORE.types[messages.IMAGE](
        header=msg.header, height=1, width=2, encoding="yuv422", is_bigendian=0, step=4,
        data=np.array([128, 16, 128, 235], np.uint8))
    decoded = messages.image_array(uyvy, colour=True)
    assert decoded.shape == (1, 2, 3) and decoded[0, 0].max() < 5 and decoded[0, 1].min() > 250  # black, white
    with pytest.raises(InputError, match="thermal image data is truncated: 3 bytes, but 2 rows of step 2 need 4"):
        messages.image_array(messages.TYPESTORE.types[messages.IMAGE](
            header=msg.header, height=2, width=2, encoding="mono8", is_bigendian=0, step=2,
            data=np.zeros(3, np.uint8)), colour=False)
    with pytest.raises(InputError, match="visible image encoding 'mono16' is not supported"):
        messages.image_array(msg, colour=True)


def test_polygons_carry_boxes_and_empty_ones_none():
    message = messages.polygon_box(np.array([10.5, 20.0, 30.0, 40.25]), 7, "f")
    assert [(p.x, p.y) for p in message.polygon.points] == [(10.5, 20.0), (40.5, 20.0), (40.5, 60.25), (10.5, 60.25)]
    np.testing.assert_array_equal(messages.box_of_polygon(message), [10.5, 20.0, 30.0, 40.25])
    assert not messages.polygon_box(np.full(4, np.nan), 7, "f").polygon.points
    assert np.isnan(messages.box_of_polygon(messages.polygon_box(None, 7, "f"))).all()


def test_camera_topics_are_found_by_name_or_named():
    image = messages.IMAGE
    assert find_topics({"/camera/color/image_raw": image, "/thermal/image_raw": image, "/tf": "tf2_msgs/msg/TFMessage"}
                       ) == find_topics({"/camera/color/image_raw": image, "/thermal/image_raw": image})
    found = find_topics({"/camera/color/image_raw": image, "/flir/image_raw": image})
    assert (found.visible, found.thermal) == ("/camera/color/image_raw", "/flir/image_raw")
    assert find_topics({"/lwir/image": image}).cameras == ["/lwir/image"]
    with pytest.raises(InputError, match="cannot tell which image topic.*--visible-topic"):
        find_topics({"/cam0/image": image, "/cam1/image": image})
    named = find_topics({"/cam0/image": image, "/cam1/image": image}, visible="/cam0/image", thermal="/cam1/image")
    assert (named.visible, named.thermal, named.groundtruth) == ("/cam0/image", "/cam1/image", None)
    with pytest.raises(InputError, match="no topic /nope"):
        find_topics({"/cam0/image": image}, visible="/nope")
    with pytest.raises(InputError, match="no camera image topic"):
        find_topics({"/tf": "tf2_msgs/msg/TFMessage"})


def test_bad_paths_and_existing_outputs_are_refused(tmp_path, sequence):
    with pytest.raises(InputError, match="no such bag"):
        with open_bag(tmp_path / "missing.mcap"):
            pass
    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(InputError, match="is not a bag"):
        with open_bag(tmp_path / "plain.txt"):
            pass
    (tmp_path / "broken.mcap").write_bytes(b"not an mcap file at all")
    with pytest.raises(InputError, match="cannot read bag"):
        load_sequence(tmp_path / "broken.mcap")
    write_sequence_bag(sequence, tmp_path / "x.mcap", start_ns=START_NS)
    with pytest.raises(InputError, match="exists already"):
        write_sequence_bag(sequence, tmp_path / "x.mcap", start_ns=START_NS)
    with pytest.raises(InputError, match="names a mcap file but --storage is sqlite3"):
        BagWriter(tmp_path / "y.mcap", "sqlite3")
    with pytest.raises(InputError, match="does not exist"):
        BagWriter(tmp_path / "no" / "y.mcap")
    # A failed write leaves nothing behind.
    with pytest.raises(RuntimeError):
        with BagWriter(tmp_path / "z.mcap") as writer:
            writer.add_topic(Topic("/a", messages.FLOAT32))
            raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mcap", "plain.txt", "x.mcap"]


def test_stamps_parse():
    assert parse_stamp("1718000000.25", "--x") == 1_718_000_000_250_000_000
    assert parse_stamp("12", "--x") == 12_000_000_000
    for bad in ("-1.5", "1.2.3", "abc", "1.1234567891"):
        with pytest.raises(InputError, match="SEC.NSEC"):
            parse_stamp(bad, "--x")


def test_a_compressed_bag_reads_back_jpeg_visible_and_exact_16_bit_thermal(tmp_path, sequence):
    out = tmp_path / "compressed.mcap"
    summary = write_sequence_bag(sequence, out, TIMING, start_ns=START_NS, compressed=True)
    compressed = {VISIBLE_TOPIC + COMPRESSED_SUFFIX: 12, THERMAL_TOPIC + COMPRESSED_SUFFIX: 12, GROUNDTRUTH_TOPIC: 12}
    assert summary.counts == compressed
    with open_bag(out) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        formats = {t: m.format for t, _, m in read_messages(reader, list(compressed)[:2])}
    assert types[VISIBLE_TOPIC + COMPRESSED_SUFFIX] == messages.COMPRESSED_IMAGE
    assert formats == {VISIBLE_TOPIC + COMPRESSED_SUFFIX: "rgb8; jpeg compressed bgr8",
                       THERMAL_TOPIC + COMPRESSED_SUFFIX: "mono16; png compressed "}
    found = find_topics(types)
    assert (found.visible, found.thermal) == (VISIBLE_TOPIC + COMPRESSED_SUFFIX, THERMAL_TOPIC + COMPRESSED_SUFFIX)

    read, raw = load_sequence(out), load_sequence(write_sequence_bag(sequence, tmp_path / "raw.mcap", TIMING,
                                                                      start_ns=START_NS).path)
    assert len(read) == 12 and read.modalities == "rgbt"
    for k in range(12):
        assert read.thermal[k].dtype == np.uint16 and np.array_equal(read.thermal[k], raw.thermal[k])
        got, want = read.visible[k], raw.visible[k]
        assert got.shape == want.shape and got.dtype == np.uint8
        assert np.abs(got.astype(int) - want).mean() < 6.0          # jpeg at quality 90
    np.testing.assert_array_equal(read.groundtruth, raw.groundtruth)


def test_a_compressed_bag_of_temperatures_is_refused(tmp_path):
    temps = [np.full((12, 16), 30.0, np.float32) for _ in range(2)]
    with pytest.raises(InputError, match="cannot be compressed"):
        write_sequence_bag(Sequence("f", None, ArrayFrames(temps), np.full((2, 4), np.nan)), tmp_path / "f.mcap",
                           start_ns=START_NS, compressed=True)
    assert not (tmp_path / "f.mcap").exists()


def test_compressed_topics_are_found_by_name_and_raw_preferred_when_both_are_there():
    image, compressed = messages.IMAGE, messages.COMPRESSED_IMAGE
    found = find_topics({"/camera/color/image_raw/compressed": compressed, "/flir/image_raw/compressed": compressed})
    assert (found.visible, found.thermal) == ("/camera/color/image_raw/compressed", "/flir/image_raw/compressed")
    both = {VISIBLE_TOPIC: image, THERMAL_TOPIC: image, VISIBLE_TOPIC + COMPRESSED_SUFFIX: compressed,
            THERMAL_TOPIC + COMPRESSED_SUFFIX: compressed}
    assert find_topics(both).cameras == [VISIBLE_TOPIC, THERMAL_TOPIC]
    named = find_topics(both, visible=VISIBLE_TOPIC + COMPRESSED_SUFFIX, thermal=THERMAL_TOPIC + COMPRESSED_SUFFIX)
    assert named.cameras == [VISIBLE_TOPIC + COMPRESSED_SUFFIX, THERMAL_TOPIC + COMPRESSED_SUFFIX]
    with pytest.raises(InputError, match="holds tf2_msgs/msg/TFMessage, not sensor_msgs/msg/Image or "
                                         "sensor_msgs/msg/CompressedImage"):
        find_topics({"/tf": "tf2_msgs/msg/TFMessage", THERMAL_TOPIC: image}, visible="/tf")
