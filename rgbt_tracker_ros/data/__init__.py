"""Sequences: dataset readers, the synthetic RGB-T generator and the training sampler."""
