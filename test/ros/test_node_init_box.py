"""Issue 14, finding 11: an `init_box` the tracker cannot use is refused in the set_parameters
result, with the reason, and the old value is kept; at start, such a box stops the node with
"cannot start". Before the fix the four boxes below were accepted at run time (the refusal came
later, only in the log) and a 1x1 box passed at start."""

from __future__ import annotations

import time

import pytest

rclpy = pytest.importorskip("rclpy")

from rclpy.parameter import Parameter  # noqa: E402
from rclpy.parameter_client import AsyncParameterClient  # noqa: E402

from helpers.live_node import NODE_ARGS, H, W, box_at, running_node, start_that_fails, wait_for  # noqa: E402
from helpers.ros_processes import ros_test_environment  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with running_node(tmp_path_factory.mktemp("init_box") / "node.log") as (process, client):
        params = AsyncParameterClient(client.node, client.prefix)
        assert params.wait_for_services(timeout_sec=20.0)
        yield process, client, params


def _set(params, box):
    future = params.set_parameters([Parameter("init_box", value=[float(v) for v in box])])
    wait_for(future.done, 20.0, "set_parameters")
    return future.result().results[0]


def _get(params):
    """The node's init_box; None while it is unset (declared by type, no value)."""
    future = params.get_parameters(["init_box"])
    wait_for(future.done, 20.0, "get_parameters")
    values = future.result().values
    return list(values[0].double_array_value) if values else None


@pytest.mark.parametrize("box, reason", [
    ([5000, 5000, 40, 60], f"lies outside the {W}x{H} image"),
    ([100, 80, 1e9, 1e9], f"is larger than the {W}x{H} image"),
    ([100, 80, 1, 1], "is too small: width and height must be at least 2.0 px"),
    ([-100, -100, 50, 50], "lies left of or above the image"),
])
def test_a_box_the_tracker_cannot_use_is_refused_and_the_old_value_kept(node, box, reason):
    process, client, params = node
    # The node knows the image size from the frames it converted: wait for its outputs on them.
    wait_for(lambda: len(client.sent) > 5 and len(client.states) >= 3, 20.0, "the node's outputs on frames")
    before = _get(params)
    result = _set(params, box)
    assert not result.successful and reason in result.reason, result.reason
    assert _get(params) == before
    t0 = time.monotonic()
    wait_for(lambda: len(client.since(client.states, t0)) >= 5, 10.0, "states")
    assert set(client.since(client.states, t0)) == {0}, "the refused box started tracking"
    assert process.alive()


def test_a_usable_box_is_taken_and_starts_tracking(node):
    _, client, params = node
    box = [round(v) for v in box_at(client.frame_index)]
    result = _set(params, box)
    assert result.successful, result.reason
    assert _get(params) == [float(v) for v in box]
    t0 = time.monotonic()
    wait_for(lambda: any(s & 0x0F == 1 for s in client.since(client.states, t0)), 10.0, "tracking from init_box")
    assert client.reset().success


@pytest.mark.parametrize("box, reason", [
    ("[100.0, 80.0, 1.0, 1.0]", "is too small: width and height must be at least 2.0 px"),
    ("[-100.0, -100.0, 50.0, 50.0]", "lies left of or above the image"),
])
def test_a_box_that_cannot_be_used_at_start_stops_the_node_with_a_reason(tmp_path, box, reason):
    with ros_test_environment():
        code, output = start_that_fails(tmp_path / "node.log", [*NODE_ARGS, "-p", f"init_box:={box}"])
    assert code == 1 and "cannot start: parameter init_box" in output and reason in output, output
    assert "Traceback" not in output
