"""ROS processes started from here: their environment, starting and stopping them, their resource use.

Every process that starts rclpy (this one included, see apply_ros_environment) discovers peers on
this machine only, in one domain, with the shipped Fast DDS profile (ros.dds_profile). Children are
stopped with SIGINT, then killed after a timeout; ProcessMeter reads a child's CPU and memory. Used by
`demo`, `node-bench` and `play`.
"""

from __future__ import annotations

import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from rgbt_tracker_ros.common.errors import JobFailed
from rgbt_tracker_ros.ros.dds_profile import apply_shipped_profile
from rgbt_tracker_ros.ros.names import NODE_MODULE

# Exit codes of a child that stopped as asked: normally, or on the SIGINT stop_process sends.
STOPPED_CLEANLY = (0, -signal.SIGINT, 128 + signal.SIGINT)


class NodeFailed(JobFailed):
    """The tracker node (or the player next to it) exited or never became ready: the job failed (exit 1)."""


def ros_environment(base: dict[str, str] | None = None, domain_id: int | None = None) -> dict[str, str]:
    """An environment for a process that starts rclpy: discovery on this machine only, a domain id
    (given, inherited or random 1..100), a log folder, no RMW override, the shipped Fast DDS profile
    (ros.dds_profile)."""
    env = dict(os.environ if base is None else base)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    elif not env.get("ROS_DOMAIN_ID", "").isdigit():
        env["ROS_DOMAIN_ID"] = str(random.randint(1, 100))
    env.setdefault("ROS_LOG_DIR", str(Path(tempfile.gettempdir()) / "rgbt_tracker_ros_logs"))
    env.pop("RMW_IMPLEMENTATION", None)  # rcl is linked to Fast DDS; naming another RMW aborts
    apply_shipped_profile(env)
    return env


def apply_ros_environment(domain_id: int | None = None) -> None:
    """ros_environment() for this process; call before rclpy.init (and before starting children)."""
    env = ros_environment(domain_id=domain_id)
    os.environ.pop("RMW_IMPLEMENTATION", None)
    os.environ.update(env)


def node_command(command: str | None = None, ros_args: list[str] | None = None) -> list[str]:
    """The tracker node as a child process (default: this interpreter running NODE_MODULE), with
    --ros-args items (parameters, remappings) appended."""
    base = shlex.split(command) if command else [sys.executable, "-m", NODE_MODULE]
    return [*base, "--ros-args", *(ros_args or [])]


def cli_command(*args: str) -> list[str]:
    """An `rgbt-tracker` subcommand as a child process of the same interpreter."""
    return [sys.executable, "-m", "rgbt_tracker_ros.cli", *args]


def start_process(command: list[str], log_path: Path | None = None) -> subprocess.Popen:
    """Start a child with this process's (ROS-ready) environment; its output goes to log_path."""
    output = open(log_path, "wb") if log_path is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(command, env=ros_environment(), stdout=output, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    finally:
        if log_path is not None:
            output.close()


def stop_process(process: subprocess.Popen, timeout_s: float = 5.0) -> int:
    """SIGINT, wait, then SIGKILL after timeout_s; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def log_tail(path: Path, lines: int = 15, what: str = "") -> str:
    """'--- last lines of {what}{path}:' and the last lines of a child's log; '' when it cannot be read."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"--- last lines of {what}{path}:\n" + "\n".join(text)


class ProcessMeter:
    """CPU and resident memory of a process and its children (psutil)."""

    def __init__(self, pid: int):
        import psutil

        self._psutil = psutil
        self.root = psutil.Process(pid)
        self._known: dict[int, object] = {}

    def _processes(self) -> list:
        procs = [self.root]
        try:
            procs += self.root.children(recursive=True)
        except self._psutil.Error:
            pass
        for proc in procs:
            self._known.setdefault(proc.pid, proc)
        return [self._known[p.pid] for p in procs]

    def start_cpu(self) -> None:
        for proc in self._processes():
            try:
                proc.cpu_percent(None)
            except self._psutil.Error:
                pass

    def cpu_percent(self) -> float:
        """Percent of one core since start_cpu (may exceed 100 with several threads busy)."""
        total = 0.0
        for proc in self._processes():
            try:
                total += proc.cpu_percent(None)
            except self._psutil.Error:
                pass
        return total

    def memory_mb(self) -> tuple[float, float]:
        """(resident, resident minus file-backed and shared pages) in MB. The second leaves out the
        DDS shared-memory segments, whose pages count as resident once touched."""
        rss = private = 0
        for proc in self._processes():
            try:
                info = proc.memory_info()
            except self._psutil.Error:
                continue
            rss += info.rss
            private += info.rss - getattr(info, "shared", 0)
        return rss / 2**20, private / 2**20
