"""Turn a DataConfig into a PairSampler and torch datasets (training stream, fixed validation set)."""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch.utils.data import IterableDataset

from rgbt_tracker_ros.data.readers import load_sequences
from rgbt_tracker_ros.data.sampler import CropGeometry, PairSampler, TrainingPair
from rgbt_tracker_ros.data.synthetic import SPLIT_SEED_START, SyntheticConfig, make_sequence
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.training.config import DataConfig, DataSource


def _synthetic_getter(source: DataSource, data: DataConfig, split: str):
    ranges = {name: tuple(value) for name in ("target_size", "aspect_ratio")
              if (value := getattr(source, name)) is not None}
    config = SyntheticConfig(width=data.synthetic_width, height=data.synthetic_height,
                             length=data.synthetic_length, thermal_bits=source.thermal_bits,
                             thermal_world=source.thermal_world, **ranges)
    # Few sequences are alive at once: building one is cheap, holding hundreds is not.
    return functools.lru_cache(maxsize=64)(lambda i: make_sequence(SPLIT_SEED_START[split] + i, config))


def _source_group(source: DataSource, data: DataConfig):
    if source.kind == "synthetic":
        return _synthetic_getter(source, data, "train"), source.count, source.weight
    sequences = load_sequences(source.path)
    if source.count:
        sequences = sequences[: source.count]
    return sequences.__getitem__, len(sequences), source.weight


def crop_geometry(model: ModelConfig) -> CropGeometry:
    """The crops a model is trained on: its own (the sampler has no geometry of its own)."""
    return CropGeometry(template_size=model.template_size, search_size=model.search_size,
                        template_factor=model.template_factor, search_factor=model.search_factor)


def build_sampler(data: DataConfig, model: ModelConfig) -> PairSampler:
    return PairSampler([_source_group(s, data) for s in data.sources], data.sampler, crop_geometry(model))


def build_val_sampler(data: DataConfig, model: ModelConfig) -> PairSampler:
    source = DataSource(kind="synthetic", count=data.val_sequences)
    group = (_synthetic_getter(source, data, "val"), data.val_sequences, 1.0)
    return PairSampler([group], data.sampler, crop_geometry(model))


def collate(pairs: list[TrainingPair]) -> dict[str, torch.Tensor]:
    def stack(name, channels_last_3=True):
        arr = np.stack([getattr(p, name) for p in pairs])
        t = torch.from_numpy(arr).float()
        return t.permute(0, 3, 1, 2).contiguous() if t.ndim == 4 else t.unsqueeze(1)

    return {
        "template_visible": stack("template_visible"),
        "template_thermal": stack("template_thermal"),
        "search_visible": stack("search_visible"),
        "search_thermal": stack("search_thermal"),
        "box": torch.from_numpy(np.stack([p.box for p in pairs])).float(),
        "has_target": torch.tensor([p.has_target for p in pairs]),
    }


class PairStream(IterableDataset):
    """Endless training pairs; every (seed, rank, worker) draws its own reproducible stream."""

    def __init__(self, data: DataConfig, model: ModelConfig, seed: int, rank: int = 0):
        self.data, self.model, self.seed, self.rank = data, model, seed, rank

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        rng = np.random.default_rng([self.seed, self.rank, worker])
        sampler = build_sampler(self.data, self.model)
        while True:
            yield sampler.sample(rng)


def fixed_validation_batches(data: DataConfig, model: ModelConfig, batch_size: int) -> list[dict[str, torch.Tensor]]:
    """The same validation pairs every time (seeded), from the synthetic validation split."""
    sampler = build_val_sampler(data, model)
    rng = np.random.default_rng(12345)
    pairs = [sampler.sample(rng) for _ in range(data.val_pairs)]
    return [collate(pairs[i : i + batch_size]) for i in range(0, len(pairs), batch_size)]
