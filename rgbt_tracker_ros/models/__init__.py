"""PyTorch networks (training side only): backbones, fusion, heads, the student, one builder."""
