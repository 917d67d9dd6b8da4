"""Recorded ROS 2 bags (rosbag2, sqlite3 or MCAP storage) without a ROS install, through `rosbags`.

- messages.py: the message types the project reads and writes, built from and read into numpy;
- storage.py: opening a bag for reading, creating one (a bag folder, or a single .mcap / .db3 file);
- topics.py: which topics hold the cameras and the ground truth (named, or found by type and name);
- sequence_bag.py: a Sequence written as a bag (`rgbt-tracker bag`), stamped like `play` stamps.

The Sequence reader for bags (`eval --sequences BAG`) is data/readers/bag.py. No rclpy here: the
node's offline run over a bag is ros_tools/bag_tracking.py, the player ros_tools/bag_player.py.
"""
