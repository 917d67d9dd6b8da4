"""The training loop: one process, or one per GPU under torchrun (DistributedDataParallel).

One loop for every run: `train` (a student, a teacher, a distillation: `TrackingObjective`) and the
stages of `compress` (the RGB teacher is a `train` run; distil and fine-tune run the
`CompressionObjective` on the thermal-only student as a `Stage`). The Trainer owns the schedule
(warm-up then cosine decay), the data stream, gradient clipping, checkpoints, resuming, validation
and the history; the objective hook (training/objectives.py) owns what is computed on a batch.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.models.builder import build_model, parameter_count
from rgbt_tracker_ros.models.checkpoint import load_checkpoint_model
from rgbt_tracker_ros.models.losses import TrackingLoss, decode_at, giou_loss
from rgbt_tracker_ros.training.config import OptimConfig, TrainConfig
from rgbt_tracker_ros.training.datasets import PairStream, collate, fixed_validation_batches
from rgbt_tracker_ros.training.objectives import INPUTS, TrackingObjective, batch_targets

log = logging.getLogger(__name__)


class Objective(Protocol):
    """The hook: what a run computes on a batch (training/objectives.py)."""

    module: nn.Module | None  # trainable parameters of its own (adapters), or None
    state_key: str            # their checkpoint key

    def __call__(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]: ...

    def validation(self, outputs: dict, batch: dict) -> dict[str, float]: ...

    def describe(self) -> str | None: ...


@dataclass(frozen=True)
class Stage:
    """A run that is one stage of a pipeline (compress's `distil`, `finetune`) rather than a run of its
    own: its history records and progress carry the stage name, its checkpoints store
    `checkpoint_config` (what `models.checkpoint.load_checkpoint_model` reads, plus the pipeline's
    config), the pipeline writes the config and summary (no config.json, no plot here), best.pt is
    written before last.pt (so last.pt holds the best validation loss so far; `train` writes last.pt
    first, as it always has), and its data stream is offset by `stream_seed_offset`."""

    name: str
    checkpoint_config: dict
    stream_seed_offset: int = 0


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, 0
    return int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0"))


def training_device(name: str, local_rank: int = 0) -> torch.device:
    """run.device (auto, cpu, cuda, cuda:N) as a torch device; cuda is this process's GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        name = f"cuda:{local_rank}"
    return torch.device(name)


def batch_to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def save_checkpoint(state: dict, path: Path) -> None:
    """torch.save, written beside and renamed into place: a run killed mid-save keeps its previous checkpoint."""
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def learning_rate(optim: OptimConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 2 % of optim.lr at the last step."""
    total = optim.epochs * optim.steps_per_epoch
    if step < optim.warmup_steps:
        return optim.lr * (step + 1) / optim.warmup_steps
    progress = (step - optim.warmup_steps) / max(1, total - optim.warmup_steps)
    return optim.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


class Trainer:
    """Trains `model` (default: built from config.model) on config.data with config.optim, minimising
    `objective` (default: `TrackingObjective` of the config: box losses, teacher paths, distillation)."""

    def __init__(self, config: TrainConfig, model: nn.Module | None = None, objective: Objective | None = None,
                 stage: Stage | None = None, progress: bool = True):
        self.config = config
        self.stage = stage
        self.progress = progress
        self.rank, self.world, local_rank = _distributed()
        self.device = training_device(config.run.device, local_rank)
        if self.world > 1:
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
        if config.run.threads:
            torch.set_num_threads(config.run.threads)
        if model is None:
            torch.manual_seed(config.run.seed)
            model = build_model(config.model)
        self.out_dir = Path(config.run.output_dir)
        self.model = model.to(self.device)
        self.net = self.model
        if self.world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        self.loss = TrackingLoss(config.loss)  # validation: the box losses of the prediction
        self.objective = objective or TrackingObjective(config, self.net, self.model, self.device, self.rank)
        self.extra = self.objective.module
        if self.extra is not None:
            self.extra.to(self.device)
            if self.world > 1:  # outside DDP: same start on every rank, gradients averaged by hand
                for p in self.extra.parameters():
                    dist.broadcast(p.data, src=0)
        self.trainable = list(self.model.parameters())
        if self.extra is not None:
            self.trainable += list(self.extra.parameters())
        self.optimizer = torch.optim.AdamW(self.trainable, lr=config.optim.lr,
                                           weight_decay=config.optim.weight_decay)
        self.step = 0
        self.epoch = 0
        self.best_val = math.inf
        self.is_main = self.rank == 0

    # -- schedule, checkpoints ------------------------------------------------------------------
    def _lr(self) -> float:
        return learning_rate(self.config.optim, self.step)

    def save(self, name: str) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / name
        state = {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "step": self.step, "epoch": self.epoch, "best_val": self.best_val,
            "config": self.stage.checkpoint_config if self.stage else asdict(self.config),
        }
        if self.extra is not None:
            state[self.objective.state_key] = self.extra.state_dict()
        if self.stage:
            state["stage"] = self.stage.name
        save_checkpoint(state, path)
        return path

    def resume(self, path: str | Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        if self.extra is not None and self.objective.state_key in state:
            self.extra.load_state_dict(state[self.objective.state_key])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.epoch, self.best_val = state["step"], state["epoch"], state["best_val"]
        where = f"stage {self.stage.name}: " if self.stage else ""
        log.info("%sresumed from %s at epoch %d, step %d", where, path, self.epoch, self.step)

    def initialize_weights(self, path: str | Path) -> None:
        """The model's weights from a checkpoint of the same kind and shapes; optimizer and schedule stay fresh."""
        try:
            source, _ = load_checkpoint_model(path)
        except InputError as exc:
            raise InputError(f"run.init: {exc}") from exc
        if source.config.kind != self.config.model.kind:
            raise InputError(f"run.init: {path} holds a {source.config.kind!r} model, this run trains "
                             f"a {self.config.model.kind!r}")
        try:
            self.model.load_state_dict(source.state_dict())
        except RuntimeError as exc:
            raise InputError(f"run.init: {path} does not fit this run's model: {exc}") from exc
        log.info("weights initialised from %s", path)

    # -- loop -----------------------------------------------------------------------------------
    def data_loader(self) -> DataLoader:
        offset = self.stage.stream_seed_offset if self.stage else 0
        stream = PairStream(self.config.data, self.config.model,
                            seed=self.config.run.seed * 1000 + self.epoch + offset, rank=self.rank)
        workers = self.config.run.workers
        return DataLoader(stream, batch_size=self.config.optim.batch_size, collate_fn=collate,
                          num_workers=workers, persistent_workers=False,
                          prefetch_factor=4 if workers else None,
                          pin_memory=self.device.type == "cuda")

    def _train_mode(self, on: bool) -> None:
        self.model.train(on)
        if self.extra is not None:
            self.extra.train(on)

    def train_step(self, batch: dict) -> dict[str, float]:
        c = self.config
        loss, parts = self.objective(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.extra is not None and self.world > 1:
            for p in self.extra.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= self.world
        torch.nn.utils.clip_grad_norm_(self.trainable, c.optim.grad_clip)
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        self.optimizer.step()
        self.step += 1
        return {"loss": loss.item(), **parts}

    @torch.no_grad()
    def validate(self, batches: list[dict]) -> dict[str, float]:
        """Loss on the fixed validation pairs, what the objective adds there, and how often the score
        peak lands within one cell of the true centre with IoU > 0.5 (a quick stand-in for tracking
        success)."""
        self._train_mode(False)
        total, hits, positives = 0.0, 0, 0
        extra: dict[str, float] = {}
        for batch in batches:
            batch = batch_to(batch, self.device)
            targets = batch_targets(batch, self.config.model)
            out = self.model(*(batch[k] for k in INPUTS))
            loss, _ = self.loss(out, targets)
            b = len(batch["box"])
            total += float(loss) * b
            for key, value in self.objective.validation(out, batch).items():
                extra[key] = extra.get(key, 0.0) + value * b
            peak = out["score_logits"].flatten(1).argmax(1)
            pred = decode_at(out["size"], out["offset"], peak)
            iou_ok = (1 - giou_loss(pred, targets.box)) > 0.5
            pos = targets.has_target
            hits += int((iou_ok & pos).sum())
            positives += int(pos.sum())
        self._train_mode(True)
        n = sum(len(b["box"]) for b in batches)
        return {"val_loss": total / n, **{k: v / n for k, v in extra.items()}, "val_hit_rate": hits / max(1, positives)}

    def _end_of_epoch(self, metrics: dict[str, float]) -> None:
        """The checkpoints of an epoch: last.pt, and best.pt when the validation loss is the best yet."""
        if self.stage is None:
            self.save("last.pt")
            if metrics["val_loss"] < self.best_val:
                self.best_val = metrics["val_loss"]
                self.save("best.pt")
            return
        if metrics["val_loss"] < self.best_val or not (self.out_dir / "best.pt").is_file():
            self.best_val = min(self.best_val, metrics["val_loss"])
            self.save("best.pt")
        self.save("last.pt")

    def fit(self) -> Path | None:
        c = self.config
        if c.run.resume:
            self.resume(c.run.resume)
        elif c.run.init:
            self.initialize_weights(c.run.init)
        val_batches = fixed_validation_batches(c.data, c.model, c.optim.batch_size) if self.is_main else []
        if self.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if self.stage is None:
                (self.out_dir / "config.json").write_text(json.dumps(asdict(c), indent=2))
                log.info("model %s: %d parameters, device %s, world size %d",
                         c.model.kind, parameter_count(self.model), self.device, self.world)
                described = self.objective.describe()
                if described:
                    log.info("%s", described)
        history = self.out_dir / "history.jsonl"
        label = self.stage.name if self.stage else "epoch"
        self._train_mode(True)
        while self.epoch < c.optim.epochs:
            loader = iter(self.data_loader())
            bar = tqdm(range(c.optim.steps_per_epoch), desc=f"{label} {self.epoch + 1}/{c.optim.epochs}",
                       disable=not (self.is_main and self.progress), dynamic_ncols=True)
            running: dict[str, float] = {}
            started = time.perf_counter()
            for _ in bar:
                parts = self.train_step(batch_to(next(loader), self.device))
                running = {k: 0.9 * running.get(k, v) + 0.1 * v for k, v in parts.items()}
                bar.set_postfix({k: f"{v:.3f}" for k, v in running.items()} | {"lr": f"{self._lr():.1e}"})
            del loader
            self.epoch += 1
            if self.is_main:
                metrics = self.validate(val_batches)
                head = {"stage": self.stage.name} if self.stage else {}
                record = {**head, "epoch": self.epoch, "step": self.step, **running, **metrics,
                          "seconds": time.perf_counter() - started}
                with history.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                where = f"{self.stage.name} " if self.stage else ""
                log.info("%sepoch %d: %s", where, self.epoch, ", ".join(f"{k}={v:.4f}" for k, v in record.items()
                                                                       if isinstance(v, float)))
                self._end_of_epoch(metrics)
            if self.world > 1:
                dist.barrier()
        if self.world > 1:
            dist.destroy_process_group()
        if self.is_main:
            if self.stage is None:
                _plot_history(history, self.out_dir / "training.png")
            return self.out_dir / "best.pt"
        return None


def _plot_history(history: Path, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    records = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    if not records:
        return
    epochs = [r["epoch"] for r in records]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(epochs, [r["loss"] for r in records], label="train loss")
    a.plot(epochs, [r["val_loss"] for r in records], label="validation loss")
    a.set_xlabel("epoch"); a.legend(); a.grid(alpha=0.3)
    b.plot(epochs, [r["val_hit_rate"] for r in records], color="tab:green")
    b.set_xlabel("epoch"); b.set_ylabel("validation hit rate (IoU > 0.5 at the peak)"); b.grid(alpha=0.3)
    fig.tight_layout(); fig.savefig(out, dpi=100); plt.close(fig)
