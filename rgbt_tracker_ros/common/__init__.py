"""Small helpers shared by every part of the package (no torch, no rclpy)."""
