"""Decoding a camera's compressed messages off the executor thread; the newest message wins.

The image callback only `put`s the message with its receive time (a short lock, never a wait), and
a thread of its own per camera decodes the newest one and hands the frame on (`deliver`) or the
reason it is unusable (`reject`). A message that arrives before the previous one was taken
replaces it: under load the node decodes the newest frame, not a backlog. No rclpy here.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

import numpy as np

from rgbt_tracker_ros.common.errors import InputError

Message = TypeVar("Message")


class NewestDecoder(Generic[Message]):
    """One camera: `put` from the callback; decode(message) -> image on the decoder's thread, then
    deliver(message, image, received) or reject(reason, received). Other exceptions go to `failed`
    (a bug must show in the log, and the thread goes on)."""

    def __init__(self, name: str, decode: Callable[[Message], np.ndarray],
                 deliver: Callable[[Message, np.ndarray, float], None],
                 reject: Callable[[str, float], None], failed: Callable[[Exception], None]):
        self._decode, self._deliver, self._reject, self._failed = decode, deliver, reject, failed
        self._slot: tuple[Message, float] | None = None
        self._ready = threading.Condition()
        self._stopping = False
        self.superseded = 0            # messages replaced by a newer one before they were decoded
        self.decoded = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, message: Message, received: float) -> bool:
        """Store the newest message; True when it replaced one that was still waiting (not decoded)."""
        with self._ready:
            replaced = self._slot is not None
            self.superseded += replaced
            self._slot = (message, received)
            self._ready.notify()
        return replaced

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._ready:
            self._stopping = True
            self._slot = None
            self._ready.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._ready:
                while self._slot is None and not self._stopping:
                    self._ready.wait()
                if self._stopping:
                    return
                (message, received), self._slot = self._slot, None
            try:
                image = self._decode(message)
            except InputError as exc:
                self._reject(str(exc), received)
                continue
            except Exception as exc:  # noqa: BLE001 (a decoder bug must not stop the camera)
                self._failed(exc)
                continue
            self.decoded += 1
            try:
                self._deliver(message, image, received)
            except Exception as exc:  # noqa: BLE001
                self._failed(exc)
