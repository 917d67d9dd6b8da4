"""Fast DDS shared-memory files left in /dev/shm by processes that died without closing them.

A SIGKILLed (or crashed) node leaves its segments and port files behind (16 files per node here);
Fast DDS never removes them itself, so a node respawned again and again fills /dev/shm. Fast DDS
ships the cleaner, `fastdds shm clean`: it removes only the files whose lock no live process holds
(each segment and port has a lock file its owner keeps locked while it is open), so it is safe to
run next to live participants. The node runs it once at start, before rclpy creates its own
segments. No rclpy here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CLEAN_TIMEOUT_S = 10.0
# `fastdds` as the Python wheels install it: a shell script that runs the tool with `python3` from
# PATH, which need not be this environment's; run the tool's script with this interpreter instead.
WHEEL_TOOL = Path(sys.prefix) / "tools" / "fastdds" / "fastdds.py"
NOT_INSTALLED = "the fastdds tool is not installed"


@dataclass(frozen=True)
class CleanResult:
    ran: bool
    segments: int = 0   # zombie segments removed
    ports: int = 0      # zombie ports removed
    detail: str = ""    # why it did not run, or the tool's error


def cleaner_command() -> list[str] | None:
    if WHEEL_TOOL.is_file():
        return [sys.executable, str(WHEEL_TOOL), "shm", "clean"]
    found = shutil.which("fastdds")
    return [found, "shm", "clean"] if found else None


def clean_stale_segments() -> CleanResult:
    """Run `fastdds shm clean`; what it removed. Never raises: a node starts without it."""
    command = cleaner_command()
    if command is None:
        return CleanResult(False, detail=NOT_INSTALLED)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CLEAN_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return CleanResult(False, detail=f"{type(exc).__name__}: {exc}")
    if done.returncode != 0:
        return CleanResult(False, detail=(done.stderr or done.stdout).strip()[-300:])
    return CleanResult(True, segments=_count(done.stdout, "zombie segments cleaned"),
                       ports=_count(done.stdout, "zombie ports cleaned"))


def _count(output: str, what: str) -> int:
    match = re.search(rf"(\d+) {what}", output)
    return int(match.group(1)) if match else 0
