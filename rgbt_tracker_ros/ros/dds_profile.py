"""The shipped Fast DDS profile (config/fastdds_shm.xml), pointed at before rclpy starts.

The profile gives camera frames a 16 MiB shared-memory segment (Fast DDS's default 512 KiB one loses
most best-effort frames) and a UDP transport bound to 127.0.0.1. Discovery stays as
`ROS_AUTOMATIC_DISCOVERY_RANGE` says, which every process here runs with set to LOCALHOST: unicast to
127.0.0.1, no multicast. In that mode rmw_fastrtps also adds a UDP transport of its own on top of any
profile; its two send sockets (ephemeral ports, on 0.0.0.0 and the machine's address) are the
only sockets of a node beyond loopback, and no socket listens beyond it (test_node_hygiene). The
range is never changed here. No rclpy: the node's main and the tools that start ROS processes apply
it to an environment before rclpy starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, MutableMapping

try:
    from ament_index_python.packages import get_package_share_directory
except ImportError:  # a source tree without ament_index: the profile next to the sources is all there is
    get_package_share_directory = None

PACKAGE = "rgbt_tracker_ros"
PROFILE_FILE = Path("config") / "fastdds_shm.xml"
PROFILE_VARIABLE = "FASTDDS_DEFAULT_PROFILES_FILE"


def shipped_profiles() -> list[Path]:
    """Where the shipped profile is: the source tree's, then the installed package's share folder."""
    candidates = [Path(__file__).resolve().parents[2] / PROFILE_FILE]
    if get_package_share_directory is not None:
        try:
            candidates.append(Path(get_package_share_directory(PACKAGE)) / PROFILE_FILE)
        except (LookupError, ValueError):  # not installed (PackageNotFoundError), or no AMENT_PREFIX_PATH
            pass
    return [path for path in candidates if path.is_file()]


def shipped_profile() -> Path | None:
    found = shipped_profiles()
    return found[0] if found else None


def apply_shipped_profile(env: MutableMapping[str, str]) -> None:
    """Point Fast DDS at the shipped profile unless another is named; a profile of the user's own is
    left as it is."""
    if not env.get(PROFILE_VARIABLE):
        profile = shipped_profile()
        if profile is not None:
            env[PROFILE_VARIABLE] = str(profile)


def profile_problem(env: Mapping[str, str]) -> str | None:
    """Why the Fast DDS profile `env` names cannot be used (None: it is a file, or none is named).
    Fast DDS itself only prints a parser error and runs on its defaults, whose 512 KiB
    shared-memory segment loses most camera frames."""
    named = env.get(PROFILE_VARIABLE)
    if named and not Path(named).is_file():
        return (f"{PROFILE_VARIABLE} names {named}, which is not a file: Fast DDS runs on its defaults (a "
                f"512 KiB shared-memory segment, too small for camera frames); name an existing profile, "
                f"e.g. {shipped_profile()}")
    return None
