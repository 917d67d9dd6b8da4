"""An executor spun on a thread of its own, for processes that also do other work (clients, tests).

`Executor.spin()` on a thread cannot be stopped cleanly: `Executor.shutdown()` does not wait for the
spinning thread, and destroying a node or shutting rclpy down while that thread is still inside
`rcl_wait` can deadlock in Fast DDS (ros2/rclpy#205, #456, #663). Here the thread spins in short
slices until asked to stop, and `stop()` joins it before anyone destroys a node.
"""

from __future__ import annotations

import threading

from rclpy.executors import ExternalShutdownException

SLICE_S = 0.05


class BackgroundSpinner:
    """Serve `executor`'s callbacks on a daemon thread until `stop()`."""

    def __init__(self, executor, name: str = "ros-spinner"):
        self.executor = executor
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and self.executor.context.ok():
                self.executor.spin_once(timeout_sec=SLICE_S)
        except (ExternalShutdownException, KeyboardInterrupt):
            pass

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop spinning and shut the executor down; False if the thread did not end within timeout_s
        (the caller should then leave its nodes alone rather than destroy them under a live wait)."""
        self._stop.set()
        self._thread.join(timeout_s)
        stopped = not self._thread.is_alive()
        if stopped:
            self.executor.shutdown(timeout_sec=timeout_s)
        return stopped
