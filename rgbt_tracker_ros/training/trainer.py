"""The training loop: one process, or one per GPU under torchrun (DistributedDataParallel)."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader
from tqdm import tqdm

from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.distill import DistillationLoss, PathSupervisionLoss, load_teacher, mask_search
from rgbt_tracker_ros.models.builder import build_model, parameter_count
from rgbt_tracker_ros.training.config import TrainConfig
from rgbt_tracker_ros.training.datasets import PairStream, collate, fixed_validation_batches
from rgbt_tracker_ros.training.losses import TrackingLoss, decode_at, make_targets
from rgbt_tracker_ros.training.precision import as_float32, forward_autocast

log = logging.getLogger(__name__)


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, 0
    return int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0"))


def _device(name: str, local_rank: int) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        name = f"cuda:{local_rank}"
    return torch.device(name)


_INPUTS = ("template_visible", "template_thermal", "search_visible", "search_thermal")


def batch_to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def save_checkpoint(state: dict, path: Path) -> None:
    """torch.save, written beside and renamed into place: a run killed mid-save keeps its previous checkpoint."""
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    os.replace(partial, path)


class Trainer:
    def __init__(self, config: TrainConfig):
        self.config = config
        self.rank, self.world, local_rank = _distributed()
        self.device = _device(config.run.device, local_rank)
        if self.world > 1:
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
        if config.run.threads:
            torch.set_num_threads(config.run.threads)
        torch.manual_seed(config.run.seed)
        self.out_dir = Path(config.run.output_dir)
        self.model = build_model(config.model).to(self.device)
        self.net = self.model
        if self.world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        self.loss = TrackingLoss(config.loss)
        self.path_loss = PathSupervisionLoss(config.loss) if config.loss.paths > 0 else None  # teachers' paths
        # Distillation: a frozen teacher (no_grad, eval) and the enabled terms, whose adapters train
        # with the student (same optimizer), are saved in the training checkpoint and never exported.
        self.teacher, self.distill, self.mask_generator = None, None, None
        if config.distill is not None:
            self.teacher = load_teacher(config.distill.teacher, config.model, self.device)
            self.distill = DistillationLoss(config.distill, self.model, self.teacher, config.loss).to(self.device)
            if self.world > 1:  # the adapters live outside DDP: same start on every rank, gradients averaged
                for p in self.distill.parameters():
                    dist.broadcast(p.data, src=0)
            self.mask_generator = torch.Generator().manual_seed(config.run.seed * 1000 + self.rank)
        self.trainable = list(self.model.parameters())
        if self.distill is not None:
            self.trainable += list(self.distill.parameters())
        self.optimizer = torch.optim.AdamW(self.trainable, lr=config.optim.lr,
                                           weight_decay=config.optim.weight_decay)
        self.step = 0
        self.epoch = 0
        self.best_val = math.inf
        self.is_main = self.rank == 0

    # -- schedule, checkpoints ------------------------------------------------------------------
    def _lr(self) -> float:
        o = self.config.optim
        total = o.epochs * o.steps_per_epoch
        if self.step < o.warmup_steps:
            return o.lr * (self.step + 1) / o.warmup_steps
        progress = (self.step - o.warmup_steps) / max(1, total - o.warmup_steps)
        return o.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

    def save(self, name: str) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / name
        state = {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "step": self.step, "epoch": self.epoch, "best_val": self.best_val,
            "config": asdict(self.config),
        }
        if self.distill is not None:
            state["distill"] = self.distill.state_dict()
        save_checkpoint(state, path)
        return path

    def resume(self, path: str | Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        if self.distill is not None and "distill" in state:
            self.distill.load_state_dict(state["distill"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.epoch, self.best_val = state["step"], state["epoch"], state["best_val"]
        log.info("resumed from %s at epoch %d, step %d", path, self.epoch, self.step)

    def initialize_weights(self, path: str | Path) -> None:
        """The model's weights from a checkpoint of the same kind and shapes; optimizer and schedule stay fresh."""
        from rgbt_tracker_ros.training.export import load_checkpoint_model

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
        stream = PairStream(self.config.data, self.config.model,
                            seed=self.config.run.seed * 1000 + self.epoch, rank=self.rank)
        workers = self.config.run.workers
        return DataLoader(stream, batch_size=self.config.optim.batch_size, collate_fn=collate,
                          num_workers=workers, persistent_workers=False,
                          prefetch_factor=4 if workers else None,
                          pin_memory=self.device.type == "cuda")

    def _autocast(self):
        return forward_autocast(self.device, self.config.run.precision)

    def objective(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Box losses of the model's prediction, plus the teacher paths' (teacher training) or the
        distillation terms (student distillation: the student may see a masked search crop)."""
        c = self.config
        targets = make_targets(batch["box"], batch["has_target"], c.model.search_size, c.model.feature_size)
        student_batch = batch if self.distill is None else mask_search(batch, c.distill, c.model, self.mask_generator)
        with self._autocast():
            outputs = as_float32(self.net(*(student_batch[k] for k in _INPUTS)))
        loss, parts = self.loss(outputs, targets)
        if self.path_loss is not None and "path_outputs" in outputs:
            extra, extra_parts = self.path_loss(outputs, targets)
            loss, parts = loss + extra, parts | extra_parts
        if self.distill is not None:
            with torch.no_grad(), self._autocast():
                teacher_out = as_float32(self.teacher(*(batch[k] for k in _INPUTS)))
            extra, extra_parts = self.distill(outputs, teacher_out, targets)
            loss, parts = loss + extra, parts | extra_parts
        return loss, parts

    def train_step(self, batch: dict) -> dict[str, float]:
        c = self.config
        loss, parts = self.objective(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.distill is not None and self.world > 1:
            for p in self.distill.parameters():
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
        """Loss on the fixed validation pairs, and how often the score peak lands within one cell
        of the true centre with IoU > 0.5 (a quick stand-in for tracking success)."""
        c = self.config
        self.model.eval()
        total, hits, positives = 0.0, 0, 0
        for batch in batches:
            batch = batch_to(batch, self.device)
            targets = make_targets(batch["box"], batch["has_target"], c.model.search_size, c.model.feature_size)
            out = self.model(batch["template_visible"], batch["template_thermal"],
                             batch["search_visible"], batch["search_thermal"])
            loss, _ = self.loss(out, targets)
            total += float(loss) * len(batch["box"])
            peak = out["score_logits"].flatten(1).argmax(1)
            pred = decode_at(out["size"], out["offset"], peak)
            from rgbt_tracker_ros.training.losses import giou_loss  # local: only used here

            iou_ok = (1 - giou_loss(pred, targets.box)) > 0.5
            pos = targets.has_target
            hits += int((iou_ok & pos).sum())
            positives += int(pos.sum())
        self.model.train()
        n = sum(len(b["box"]) for b in batches)
        return {"val_loss": total / n, "val_hit_rate": hits / max(1, positives)}

    def fit(self) -> Path | None:
        c = self.config
        if c.run.resume:
            self.resume(c.run.resume)
        elif c.run.init:
            self.initialize_weights(c.run.init)
        val_batches = fixed_validation_batches(c.data, c.model, c.optim.batch_size) if self.is_main else []
        if self.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "config.json").write_text(json.dumps(asdict(c), indent=2))
            log.info("model %s: %d parameters, device %s, world size %d",
                     c.model.kind, parameter_count(self.model), self.device, self.world)
            if self.distill is not None:
                log.info("distilling from %s (%s, %d parameters, frozen); terms: %s; adapters: %d parameters",
                         c.distill.teacher, self.teacher.config.kind, parameter_count(self.teacher),
                         ", ".join(self.distill.terms) or "none", parameter_count(self.distill))
        history = self.out_dir / "history.jsonl"
        self.model.train()
        while self.epoch < c.optim.epochs:
            loader = iter(self.data_loader())
            bar = tqdm(range(c.optim.steps_per_epoch), desc=f"epoch {self.epoch + 1}/{c.optim.epochs}",
                       disable=not self.is_main, dynamic_ncols=True)
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
                record = {"epoch": self.epoch, "step": self.step, **running, **metrics,
                          "seconds": time.perf_counter() - started}
                with history.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                log.info("epoch %d: %s", self.epoch, ", ".join(f"{k}={v:.4f}" for k, v in record.items()
                                                               if isinstance(v, float)))
                self.save("last.pt")
                if metrics["val_loss"] < self.best_val:
                    self.best_val = metrics["val_loss"]
                    self.save("best.pt")
            if self.world > 1:
                dist.barrier()
        if self.world > 1:
            dist.destroy_process_group()
        if self.is_main:
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
