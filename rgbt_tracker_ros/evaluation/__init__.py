"""Evaluation: metrics under the benchmark conventions, the sequence runner, OpenCV peers, plots and
the `rgbt-tracker eval` command (no torch, no rclpy; matplotlib only when plotting)."""
