"""Tracker runtime: ONNX Runtime session, preprocessing and the RGBTTracker (no torch, no rclpy)."""
