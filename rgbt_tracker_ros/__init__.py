"""RGB-T single object tracking for ROS 2: a distilled single-stream student run through ONNX Runtime."""

__version__ = "0.1.0"
