"""Issue 14, section 4's bar over DDS: the demo's 300-frame sequence played into the node raw and
compressed (jpeg visible, 16-bit png thermal; the player and the node in their own processes)
scores within 0.02 PR/SR. A module of its own: test_node_compressed.py's cameras keep publishing
compressed frames of another size for as long as its module fixture lives, in the same domain."""

from __future__ import annotations

import pytest

pytest.importorskip("rclpy")

from helpers.ros_processes import ros_test_environment  # noqa: E402
from rgbt_tracker_ros.ros_tools.demo import Demo, DemoSettings  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def _demo(tmp_path, transport: str):
    # The 10 s demo's 300-frame sequence, played at 10 Hz with reliable QoS: every pair reaches the
    # node, and (nearly) every pair is processed even on a loaded machine: the runs differ by the transport.
    settings = DemoSettings(seconds=30.0, rate_hz=10.0, qos="reliable", output_dir=tmp_path / transport,
                            ros_args=("-p", "qos.reliability:=reliable", "-p", "qos.depth:=50",
                                      "-p", "providers:=[cpu]"),
                            video=False, transport=transport)
    demo = Demo(settings)
    outcome = demo.run()
    return demo, outcome


def test_the_demo_sequence_played_compressed_scores_like_raw(tmp_path):
    with ros_test_environment():
        runs = {transport: _demo(tmp_path, transport) for transport in ("raw", "compressed")}
    scores = {t: (round(o.pr, 3), round(o.sr, 3), o.processed) for t, (_, o) in runs.items()}
    print(f"demo sequence, PR / SR / processed: {scores}")
    # Nearly every pair processed, so the runs see nearly the same frames; a loaded machine makes the
    # node drop some in either run (286 of 299 raw, 299 compressed in one run at load average 4-6).
    for demo, outcome in runs.values():
        assert outcome.frames == 300 and outcome.processed >= 0.9 * (300 - outcome.init_frame - 1), scores
    raw, compressed = runs["raw"][1], runs["compressed"][1]
    assert raw.pr > 0.9 and raw.sr > 0.7, scores           # the raw run tracks: the comparison means something
    assert abs(compressed.pr - raw.pr) <= 0.02 and abs(compressed.sr - raw.sr) <= 0.02, scores
    node_log = (tmp_path / "compressed" / "node.log").read_text()
    assert "/visible/image/compressed and /thermal/image/compressed" in node_log
