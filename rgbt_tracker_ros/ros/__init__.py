"""ROS 2 side of the package: the tracker node and the pieces it is built from.

Only `tracker_node` (and the player/demo modules) import rclpy; image conversion, pairing, the pair
buffer, diagnostics building and debug rendering work on plain message objects and numpy arrays.
"""
