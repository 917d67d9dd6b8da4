"""The shipped Fast DDS profile (config/fastdds_shm.xml) and the environment that makes it hold.

The profile gives camera frames a 16 MiB shared-memory segment and keeps DDS on this machine: UDP
only on 127.0.0.1, discovery by unicast to 127.0.0.1's participant ports, no multicast. Under
`ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`, though, rmw_fastrtps adds its own transports on top of
any profile (a default 512 KiB shared-memory transport and a UDPv4 transport on every interface,
rmw_fastrtps_shared_cpp's participant.cpp): a node bound 0.0.0.0 and the machine's address
(issue 14, finding 14). With the shipped profile in use the range is therefore handed to Fast DDS
(SYSTEM_DEFAULT: rmw leaves the participant as the profile has it); the profile does the same
localhost-only discovery, and peers still in LOCALHOST mode (a `ros2` shell without the profile)
find the node and are found by it. No rclpy here: the node's main and the tools that start ROS
processes apply it to an environment before rclpy starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import MutableMapping

try:
    from ament_index_python.packages import get_package_share_directory
except ImportError:  # a source tree without ament_index: the profile next to the sources is all there is
    get_package_share_directory = None

PACKAGE = "rgbt_tracker_ros"
PROFILE_FILE = Path("config") / "fastdds_shm.xml"
PROFILE_VARIABLE = "FASTDDS_DEFAULT_PROFILES_FILE"
RANGE_VARIABLE = "ROS_AUTOMATIC_DISCOVERY_RANGE"
# The range under which rmw_fastrtps leaves the participant's transports and discovery to the profile.
PROFILE_RANGE = "SYSTEM_DEFAULT"


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


def uses_shipped_profile(env: MutableMapping[str, str]) -> bool:
    named = env.get(PROFILE_VARIABLE, "")
    if not named:
        return False
    path = Path(named).resolve()
    return any(path == candidate.resolve() for candidate in shipped_profiles())


def apply_shipped_profile(env: MutableMapping[str, str]) -> None:
    """Point Fast DDS at the shipped profile unless another is named, and when the shipped one is in
    use under LOCALHOST discovery, let the profile do the localhost discovery (see the module's
    docstring). A profile of the user's own and every other range are left as they are."""
    if not env.get(PROFILE_VARIABLE):
        profile = shipped_profile()
        if profile is not None:
            env[PROFILE_VARIABLE] = str(profile)
    if env.get(RANGE_VARIABLE) == "LOCALHOST" and uses_shipped_profile(env):
        env[RANGE_VARIABLE] = PROFILE_RANGE
