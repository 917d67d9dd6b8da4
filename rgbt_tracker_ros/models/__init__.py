"""PyTorch networks (training side only; imports `common` alone): backbones, fusion, heads, the
student, the two-stream teachers, the single-modality student, one builder, checkpoint loading, the
head's box losses and the reduced-precision forward helpers."""
