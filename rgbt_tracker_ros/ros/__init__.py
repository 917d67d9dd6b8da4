"""ROS 2 side of the package: the tracker node and the pieces it is built from.

Only `tracker_node` starts rclpy; its decisions live in `node_session` (no rclpy), and image
conversion, pairing, the pair buffer, diagnostics building, debug rendering, the parameter table
and the node's names work on plain message objects and numpy arrays. The tools that drive a
running node from another process (player, client, demo, node-bench) are in `ros_tools/`.
"""
