"""The node's requests (service calls, init_box set at run time) on a thread of their own, one at a
time in arrival order, so the executor thread that serves the cameras and the services never waits
for the tracker (an init_target takes the tracker for a template pass, a catch-up and a track).

A request with a `key` that has a later request of the same key waiting behind it is answered with
its `superseded` answer instead of being run: of 50 init_target calls sent at once, each would
replace the previous target, so only the last is run and the others are told so at once. No rclpy:
the node turns the answers into its service responses.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

Answer = Callable[[Any], None]


@dataclass(frozen=True)
class Request:
    run: Callable[[], Any]                      # the work; its return value is the answer
    answer: Answer | None = None                # called with the answer (on the worker's thread)
    key: str | None = None                      # requests of one key supersede the earlier waiting ones
    superseded: Callable[[], Any] | None = None  # the answer of a request superseded before it ran


class RequestWorker:
    """Runs submitted requests on a daemon thread; `on_error(request, exc)` hears of a failing one
    (its answer is then the exception, so a caller waiting on it is never left without one)."""

    def __init__(self, on_error: Callable[[Request, Exception], None], name: str = "rgbt_tracker_requests"):
        self._on_error = on_error
        self._queue: deque[Request] = deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def submit(self, request: Request) -> bool:
        """Queue a request; False (and it is not run) once stopped."""
        with self._wake:
            if self._stopping:
                return False
            self._queue.append(request)
            self._wake.notify()
        return True

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Run nothing more (waiting requests are dropped); True if the thread ended within timeout_s."""
        with self._wake:
            self._stopping = True
            self._queue.clear()
            self._wake.notify_all()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                request = self._queue.popleft()
                later = {r.key for r in self._queue if r.key is not None}
            if request.key is not None and request.key in later and request.superseded is not None:
                result = request.superseded()
            else:
                try:
                    result = request.run()
                except Exception as exc:  # the worker must outlive a failing request
                    self._on_error(request, exc)
                    result = exc
            if request.answer is not None:
                request.answer(result)
