"""Training side (needs torch): typed run configs, the data stream, the one training loop with its
objective hook (plain training, distillation, the thermal compression stages), pruning, ONNX export."""
