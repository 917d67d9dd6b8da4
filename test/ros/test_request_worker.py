"""ros/request_worker.py without DDS: requests run one at a time in arrival order, a keyed request
with a later one of its key waiting is answered as superseded, a failing request is answered with
its exception and the worker goes on, and nothing runs after stop()."""

from __future__ import annotations

import threading

from rgbt_tracker_ros.ros.request_worker import Request, RequestWorker


def _collect():
    answers, done = [], threading.Condition()

    def answer(value):
        with done:
            answers.append(value)
            done.notify_all()

    def wait(n):
        with done:
            assert done.wait_for(lambda: len(answers) >= n, timeout=5.0), answers
        return list(answers)
    return answer, wait


def test_requests_run_in_order_and_a_waiting_one_is_superseded_by_a_later_one_of_its_key():
    errors = []
    worker = RequestWorker(lambda request, exc: errors.append(exc))
    answer, wait = _collect()
    gate = threading.Event()
    ran = []
    worker.submit(Request(lambda: gate.wait(5.0) and "first", answer))   # holds the worker
    for i in range(3):
        worker.submit(Request(lambda i=i: ran.append(i) or f"init {i}", answer, key="init",
                              superseded=lambda i=i: f"superseded {i}"))
    worker.submit(Request(lambda: "reset", answer))
    gate.set()
    assert wait(5) == ["first", "superseded 0", "superseded 1", "init 2", "reset"]
    assert ran == [2] and not errors
    assert worker.stop()


def test_a_failing_request_is_answered_with_its_exception_and_the_worker_goes_on():
    errors = []
    worker = RequestWorker(lambda request, exc: errors.append(str(exc)))
    answer, wait = _collect()
    worker.submit(Request(lambda: 1 / 0, answer))
    worker.submit(Request(lambda: "after", answer))
    first, second = wait(2)
    assert isinstance(first, ZeroDivisionError) and second == "after"
    assert errors == ["division by zero"]
    assert worker.stop()


def test_nothing_runs_after_stop():
    worker = RequestWorker(lambda request, exc: None)
    assert worker.stop(timeout_s=2.0)
    ran = []
    assert not worker.submit(Request(lambda: ran.append(1)))
    assert ran == []
