"""`rgbt-tracker bag --from-sequence`: a sequence folder as a bag in each storage, read back frame
for frame; `eval` scores the bag exactly as it scores the folder; bad input exits 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rgbt_tracker_ros.commands import bag as bag_command
from rgbt_tracker_ros.commands import eval as eval_command
from rgbt_tracker_ros.data.bags import messages
from rgbt_tracker_ros.data.bags.storage import open_bag, read_messages
from rgbt_tracker_ros.data.bags.topics import VISIBLE_TOPIC
from rgbt_tracker_ros.data.readers import load_sequence
from rgbt_tracker_ros.data.synthetic import SyntheticConfig, make_sequence
from rgbt_tracker_ros.data.writer import write_sequence_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    sequence = make_sequence(1_000_000, SyntheticConfig(width=160, height=120, length=24))
    return write_sequence_folder(sequence, tmp_path_factory.mktemp("seq") / "seq")


def _bag(*argv: str) -> int:
    return bag_command.main([*argv, "--no-progress"])


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_bag_from_a_folder_reads_back_and_eval_scores_it_like_the_folder(tmp_path, folder, storage, capsys):
    out = tmp_path / f"recorded_{storage}"
    assert _bag("--from-sequence", str(folder), "--output", str(out), "--storage", storage, "--rate", "15",
                "--thermal-offset-ms", "2", "--jitter-ms", "1.5", "--start-time", "1718000000.25") == 0
    printed = capsys.readouterr().out
    assert f"({storage}): 24 frames of seq" in printed and "/groundtruth (24)" in printed
    original, read = load_sequence(folder), load_sequence(out)
    for k in range(len(original)):
        assert np.array_equal(read.visible[k], original.visible[k]) and np.array_equal(read.thermal[k], original.thermal[k])
    np.testing.assert_allclose(read.groundtruth, original.groundtruth, atol=1e-4)
    with open_bag(out) as reader:
        first = next(read_messages(reader, [VISIBLE_TOPIC]))[2]
        assert reader.connections[0].msgtype == messages.IMAGE
    assert messages.stamp_ns(first) == 1_718_000_000_250_000_000 and first.encoding == "rgb8"

    scores = {}
    for name, path in (("folder", folder), ("bag", out)):
        assert eval_command.main(["--sequences", str(path), "--trackers", "student,kcf", "--json", "--no-progress"]) == 0
        report = json.loads(capsys.readouterr().out)
        scores[name] = {t: (r["PR"], r["SR"], r["NPR"], r["frames"]) for t, r in report["overall"].items()}
    assert scores["bag"] == scores["folder"]
    assert scores["bag"]["student"][3] == 23


def test_bag_of_a_synthetic_sequence_as_one_mcap_file(tmp_path, capsys):
    out = tmp_path / "synthetic.mcap"
    assert _bag("--synthetic", "3", "--length", "5", "--size", "96x72", "--output", str(out)) == 0
    assert out.is_file() and len(load_sequence(out)) == 5


def test_bag_compressed_writes_compressed_image_topics(tmp_path, folder, capsys):
    out = tmp_path / "compressed.db3"
    assert _bag("--from-sequence", str(folder), "--output", str(out), "--compressed") == 0
    printed = capsys.readouterr().out
    assert "/visible/image/compressed (24), /thermal/image/compressed (24), /groundtruth (24)" in printed
    with open_bag(out) as reader:
        assert {c.msgtype for c in reader.connections if "image" in c.topic} == {messages.COMPRESSED_IMAGE}
    original, read = load_sequence(folder), load_sequence(out)
    assert len(read) == 24 and np.array_equal(read.thermal[5], original.thermal[5])   # png: exact counts
    # eval scores a compressed bag (on this 24-frame 160x120 cut the jpeg frames give another run of a
    # fast target: PR/SR are compared on a longer sequence in test_track_bag.py)
    assert eval_command.main(["--sequences", str(out), "--trackers", "student", "--json", "--no-progress"]) == 0
    student = json.loads(capsys.readouterr().out)["overall"]["student"]
    assert student["frames"] == 23 and 0.0 <= student["SR"] <= 1.0


@pytest.mark.parametrize("argv, message", [
    (["--synthetic", "3", "--output", "{tmp}/x.mcap", "--storage", "sqlite3"], "names a mcap file"),
    (["--synthetic", "3", "--output", "{tmp}/x", "--start-time", "yesterday"], "SEC.NSEC"),
    (["--synthetic", "3", "--output", "{tmp}/x", "--rate", "0"], "rate must be"),
    (["--synthetic", "3", "--output", "{tmp}/x", "--size", "64by48"], "WIDTHxHEIGHT"),
    (["--from-sequence", "{tmp}/nothing", "--output", "{tmp}/x"], "does not exist"),
    (["--synthetic", "3", "--output", "{tmp}/no/x.mcap"], "does not exist"),
])
def test_bag_bad_input_exits_2_with_one_line(tmp_path, argv, message, capsys):
    assert _bag(*[a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("rgbt-tracker bag: error:")
    assert not (tmp_path / "x").exists()


def test_bag_refuses_to_overwrite(tmp_path, capsys):
    (tmp_path / "x.mcap").write_bytes(b"keep")
    assert _bag("--synthetic", "3", "--length", "3", "--size", "96x72", "--output", str(tmp_path / "x.mcap")) == 2
    assert "exists already" in capsys.readouterr().err and (tmp_path / "x.mcap").read_bytes() == b"keep"
