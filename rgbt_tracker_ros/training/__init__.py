"""Training side: typed configs, losses, the trainer, ONNX export (needs torch)."""
