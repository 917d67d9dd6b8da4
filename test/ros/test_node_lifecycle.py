"""Issue 14, section 2: the tracker as a managed (lifecycle) node, driven from this process through
the standard `~/change_state` and `~/get_state` services, as a lifecycle manager drives it.

With `autostart:=false` the node waits unconfigured; configure loads the model (a bad one fails the
transition with the reason in the log, the process stays up), activate subscribes and publishes,
deactivate stops the output but keeps the session (the target survives a deactivate/activate),
cleanup frees it (configure again starts afresh), shutdown exits 0. With autostart (the default)
every other test of the node runs it configured and active at start, as before.
"""

from __future__ import annotations

import time

import pytest

rclpy = pytest.importorskip("rclpy")

from lifecycle_msgs.msg import State, Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState, GetState  # noqa: E402

from helpers.live_node import NODE_ARGS, LiveClient, NodeProcess, box_at, wait_for  # noqa: E402
from helpers.ros_processes import ros_test_environment  # noqa: E402
from rgbt_tracker_ros.ros.state import STATE_MASK, State as TrackState  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

MANAGED = [*NODE_ARGS, "-p", "autostart:=false"]
QUIET_S = 1.0  # no output for this long (cameras at 20 Hz) = output stopped


class Manager:
    """A lifecycle manager's side of the node: its ~/change_state and ~/get_state."""

    def __init__(self, client: LiveClient):
        self.client = client
        self.change = client.node.create_client(ChangeState, f"{client.prefix}/change_state")
        self.get = client.node.create_client(GetState, f"{client.prefix}/get_state")

    def state(self) -> str:
        return self.client.call(self.get, GetState.Request(), timeout=20.0).current_state.label

    def transition(self, transition_id: int) -> bool:
        request = ChangeState.Request()
        request.transition.id = transition_id
        return bool(self.client.call(self.change, request, timeout=60.0).success)


def _states_since(client, t0):
    return client.since(client.states, t0)


def _output_stopped(client) -> None:
    """The cameras' subscriptions dropped, and a QUIET_S without any ~/state while the cameras send
    at 20 Hz (an active node publishes a state for every pair; the wait allows for messages still
    on their way on a loaded machine)."""
    wait_for(lambda: all(p.get_subscription_count() == 0 for p in client.pubs.values()), 10.0,
             "the camera subscriptions dropped")
    sent, t0 = client.frame_index, time.monotonic()

    def quiet() -> bool:
        with client.lock:
            last = max(client.states[-1][0] if client.states else 0.0, t0)
        return time.monotonic() - last > QUIET_S
    wait_for(quiet, 15.0, f"{QUIET_S:g} s without outputs while the node is not active", poll=0.05)
    assert client.frame_index > sent + 5, "the cameras stopped: the quiet proves nothing"


@pytest.fixture
def managed(tmp_path):
    def start(args):
        process = NodeProcess(tmp_path / "node.log", args)
        client = LiveClient(context)
        manager = Manager(client)
        started.append((process, client))
        assert manager.get.wait_for_service(timeout_sec=60.0), process.output()[-3000:]
        return process, client, manager

    started = []
    with ros_test_environment():
        context = rclpy.Context()
        rclpy.init(args=[], context=context)
        try:
            yield start
        finally:
            for process, client in started:
                client.close()
                process.stop()
            rclpy.try_shutdown(context=context)


def test_transitions_through_the_lifecycle_services(managed):
    process, client, manager = managed(MANAGED)
    assert manager.state() == "unconfigured"
    assert not client.init_client.wait_for_service(timeout_sec=1.0)  # no tracker yet

    assert manager.transition(Transition.TRANSITION_CONFIGURE)
    assert manager.state() == "inactive"
    assert "configured: model" in process.output()
    _output_stopped(client)  # configured, not active: no subscriptions, no output

    assert manager.transition(Transition.TRANSITION_ACTIVATE)
    assert manager.state() == "active"
    client.wait_ready(process)
    client.wait_outputs(5)
    assert client.init(box_at(client.frame_index)).success
    wait_for(lambda: (_states_since(client, time.monotonic() - 0.2) or [0])[-1] & STATE_MASK == TrackState.TRACKING,
             10.0, "tracking")

    assert manager.transition(Transition.TRANSITION_DEACTIVATE)
    assert manager.state() == "inactive"
    _output_stopped(client)
    assert client.init_client.service_is_ready()  # configured: the services stay

    assert manager.transition(Transition.TRANSITION_ACTIVATE)  # output resumes, the target kept
    client.wait_outputs(10)
    t0 = time.monotonic()
    client.wait_outputs(10)
    resumed = {s & STATE_MASK for s in _states_since(client, t0)}
    assert TrackState.IDLE not in resumed and TrackState.TRACKING in resumed, resumed

    assert manager.transition(Transition.TRANSITION_DEACTIVATE)
    assert manager.transition(Transition.TRANSITION_CLEANUP)
    assert manager.state() == "unconfigured"
    wait_for(lambda: not client.init_client.service_is_ready(), 10.0, "the services gone after cleanup")
    assert "cleaned up" in process.output()

    assert manager.transition(Transition.TRANSITION_CONFIGURE)  # configure again, afresh
    assert manager.transition(Transition.TRANSITION_ACTIVATE)
    client.wait_ready(process)
    t0 = time.monotonic()
    client.wait_outputs(5)
    assert {s & STATE_MASK for s in _states_since(client, t0)} == {TrackState.IDLE}  # a new session

    assert manager.transition(Transition.TRANSITION_ACTIVE_SHUTDOWN)
    assert process.proc.wait(timeout=20) == 0, process.output()[-3000:]
    assert "shut down" in process.output()


def test_configure_with_a_bad_model_fails_with_the_reason_and_the_process_stays_up(managed, tmp_path):
    missing = tmp_path / "no_such_model"
    process, client, manager = managed([*MANAGED, "-p", f"model:={missing}"])
    assert manager.state() == "unconfigured"
    assert not manager.transition(Transition.TRANSITION_CONFIGURE)
    assert manager.state() == "unconfigured"
    assert process.alive()
    log = process.output()
    assert "configure failed:" in log and str(missing) in log and "does not exist" in log, log[-2000:]
    assert not client.init_client.wait_for_service(timeout_sec=1.0)
    assert not manager.transition(Transition.TRANSITION_CONFIGURE)  # again: the same answer, still up
    assert process.alive()
    assert manager.transition(Transition.TRANSITION_UNCONFIGURED_SHUTDOWN)
    assert process.proc.wait(timeout=20) == 0, process.output()[-3000:]
