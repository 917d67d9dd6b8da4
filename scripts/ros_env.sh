# Source this (or let the Makefile do it) before starting anything that runs rclpy here.
# Discovery must stay on this machine; each shell gets its own domain unless one is set.
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( (RANDOM % 90) + 1 ))}
export ROS_LOG_DIR=${ROS_LOG_DIR:-${TMPDIR:-/tmp}/rgbt_tracker_ros_logs}
export AMENT_PREFIX_PATH=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}
unset RMW_IMPLEMENTATION
