"""SIGINT and SIGTERM as a stop request that the node's main loop reads, instead of rclpy's handler.

rclpy's own handler shuts the context down from inside the signal, whatever the executor is doing
at that moment: a signal that landed while the executor was building its wait set made spin()
raise `RCLError: failed to initialize wait set: the given context is not valid`, and the node
exited 1 with a traceback (issue 14, finding 12). Here Python's handlers catch the two signals
(in whichever thread the kernel delivers them to: numpy's and DDS's threads exist before main()),
and the interpreter writes each signal's number to a wake-up pipe at once. A thread reading the
pipe records the request and calls the wake-up the node registered (a guard condition's trigger),
so the main loop stops spinning at its next turn, even while it waits in rcl, and tears down in
order. No rclpy here.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Callable

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Create it in the main thread (Python's signal handlers can only be set there)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._received: int | None = None
        self._wake: Callable[[], None] | None = None
        self._read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        for number in STOP_SIGNALS:
            # The handler itself has nothing to do (it runs late, in the main thread); installing it
            # replaces the default action (SIGTERM: die) and rclpy's.
            signal.signal(number, lambda *_: None)
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._wait, name="stop_signals", daemon=True)
        self._thread.start()

    @property
    def requested(self) -> bool:
        with self._lock:
            return self._received is not None

    @property
    def received(self) -> int | None:
        """The first stop signal's number; None while none came."""
        with self._lock:
            return self._received

    def on_stop(self, wake: Callable[[], None] | None) -> None:
        """Call `wake` when a stop signal arrives (at once if one already has); None: call nothing
        from now on (when this returns, no earlier `wake` is running: clear it before destroying
        what it touches)."""
        with self._lock:
            self._wake = wake
            already = self._received is not None
        if already and wake is not None:
            wake()

    def _wait(self) -> None:
        while True:
            try:
                data = os.read(self._read_fd, 64)
            except InterruptedError:
                continue
            numbers = [n for n in data if n in STOP_SIGNALS]
            if not numbers:
                continue
            with self._lock:  # held through wake(), so on_stop(None) waits for it
                if self._received is None:
                    self._received = numbers[0]
                if self._wake is not None:
                    self._wake()
