"""`rgbt-tracker compress --config config/training/thermal_compression.yaml`: the thermal-only model
by cross-modal compression distillation (Li et al.), structured pruning and fine-tuning.

Stages (each writes its results under run.output_dir and is skipped when they are already there, so
an interrupted run continues where it stopped; --restart redoes everything):
1. `teacher/`   an RGB teacher: `teacher.checkpoint` if given, else the student architecture (or
                `teacher.model`) trained by the ordinary trainer on visible crops only (thermal input
                = grey visible, the runtime's substitution), i.e. an RGB tracker.
2. `distil/`    the thermal student (`SingleModalityStudent`, thermal only; initialised from the
                teacher when the architectures agree) trained on PAIRED crops: box losses on its
                thermal prediction + multi-level feature matching to the frozen teacher's features
                of the visible crop of the same window (+ an L1 on the prunable BN gammas).
3. `pruned.pt`  structured channel pruning to `pruning.keep` of the FLOPs (or parameters).
4. `finetune/`  the pruned model fine-tuned with the same losses.
5. export       ONNX (template.onnx + search.onnx) + model.json at export.output, checked against
                PyTorch; the thermal model keeps the full input contract and ignores the visible inputs.
Exit codes: 0 done; 1 parity check failed; 2 bad config or input.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rgbt_tracker_ros.common.command import standalone_main
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sampler import SamplerConfig
from rgbt_tracker_ros.distill.compression import CompressionConfig
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.training.config import DataConfig, LossConfig, OptimConfig, RunConfig
from rgbt_tracker_ros.training.pruning import PruningConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeacherSource:
    """The RGB teacher: a checkpoint (any model `rgbt-tracker export` can load: a student, an RGB-T
    teacher, ...; its visible branch is used), or trained here when `checkpoint` is empty."""

    checkpoint: str = ""
    model: ModelConfig | None = None   # architecture to train; None = the thermal student's
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(epochs=10))


@dataclass(frozen=True)
class ExportSpec:
    output: str = "runs/thermal_compression/thermal_pruned"  # model folder of the pruned model
    name: str = "thermal_pruned"
    unpruned_output: str = ""   # also export the distilled model before pruning here ('' = no)
    unpruned_name: str = "thermal_distilled"
    tolerance: float = 1e-3


@dataclass(frozen=True)
class ThermalCompressionConfig:
    name: str = "thermal_compression"
    model: ModelConfig = field(default_factory=ModelConfig)   # the thermal student, before pruning
    init_from_teacher: bool = True   # start from the teacher's weights (same architecture only)
    data: DataConfig = field(default_factory=DataConfig)
    teacher: TeacherSource = field(default_factory=TeacherSource)
    optim: OptimConfig = field(default_factory=OptimConfig)   # the distillation stage
    finetune: OptimConfig = field(default_factory=lambda: OptimConfig(lr=5e-4, epochs=5, warmup_steps=50))
    loss: LossConfig = field(default_factory=LossConfig)
    compression: CompressionConfig = field(default_factory=CompressionConfig)
    pruning: PruningConfig = field(default_factory=PruningConfig)
    export: ExportSpec = field(default_factory=ExportSpec)
    run: RunConfig = field(default_factory=lambda: RunConfig(output_dir="runs/thermal_compression"))


def visible_only(sampler: SamplerConfig) -> SamplerConfig:
    """The RGB teacher's pairs: every thermal crop replaced by the grey visible crop."""
    return dataclasses.replace(sampler, visible_dropout=0.0, thermal_dropout=1.0, grey_pair_prob=0.0)


def paired(sampler: SamplerConfig) -> SamplerConfig:
    """Compression pairs: the teacher must see the visible crop, so the visible crop is never replaced."""
    return dataclasses.replace(sampler, visible_dropout=0.0)


def lr_at(optim: OptimConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 2 % (the trainer's schedule)."""
    total = optim.epochs * optim.steps_per_epoch
    if step < optim.warmup_steps:
        return optim.lr * (step + 1) / max(1, optim.warmup_steps)
    progress = (step - optim.warmup_steps) / max(1, total - optim.warmup_steps)
    return optim.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


class CompressionPipeline:
    def __init__(self, config: ThermalCompressionConfig, restart: bool = False, progress: bool = True):
        import torch

        self.config = config
        self.restart = restart
        self.progress = progress
        self.out = Path(config.run.output_dir)
        name = config.run.device
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(name)
        if config.run.threads:
            torch.set_num_threads(config.run.threads)
        self.data = dataclasses.replace(config.data, sampler=paired(config.data.sampler))

    # -- stage 1: the RGB teacher --------------------------------------------------------------------
    def teacher(self):
        from rgbt_tracker_ros.distill.compression import freeze
        from rgbt_tracker_ros.training.export import load_checkpoint_model

        c = self.config
        path = Path(c.teacher.checkpoint) if c.teacher.checkpoint else self._train_teacher()
        try:
            model, _ = load_checkpoint_model(path)
        except InputError as exc:
            raise InputError(f"teacher.checkpoint: {exc}") from exc
        log.info("RGB teacher: %s (%s, %d parameters)", path, type(model).__name__,
                 sum(p.numel() for p in model.parameters()))
        return freeze(model.to(self.device)), path

    def _train_teacher(self) -> Path:
        import torch

        from rgbt_tracker_ros.training.config import TrainConfig
        from rgbt_tracker_ros.training.trainer import Trainer

        c = self.config
        out = self.out / "teacher"
        best, last = out / "best.pt", out / "last.pt"
        resume = ""
        if not self.restart and last.is_file():
            done = torch.load(last, map_location="cpu", weights_only=False).get("epoch", 0)
            if done >= c.teacher.optim.epochs and best.is_file():
                log.info("stage teacher: done already (%s)", best)
                return best
            resume = str(last)
        else:  # a fresh teacher: no history of an earlier one
            (out / "history.jsonl").unlink(missing_ok=True)
        data = dataclasses.replace(c.data, sampler=visible_only(c.data.sampler))
        train = TrainConfig(name=f"{c.name}_rgb_teacher", model=c.teacher.model or c.model, data=data,
                            optim=c.teacher.optim, loss=c.loss,
                            run=dataclasses.replace(c.run, output_dir=str(out), resume=resume))
        log.info("stage teacher: training an RGB tracker (visible crops only) into %s", out)
        return Trainer(train).fit()

    # -- stages 2 and 4: distillation on paired crops ----------------------------------------------------
    def distil(self, student, teacher, distiller, optim: OptimConfig, stage: str, bn_l1: float):
        """Train `student` (and the distiller's adapters) for optim.epochs; return the best weights'
        checkpoint path. Resumes from the stage's last.pt unless restarting."""
        import torch
        from torch.utils.data import DataLoader
        from tqdm import tqdm

        from rgbt_tracker_ros.distill.compression import compression_loss
        from rgbt_tracker_ros.training.datasets import PairStream, collate, fixed_validation_batches
        from rgbt_tracker_ros.training.losses import TrackingLoss, make_targets
        from rgbt_tracker_ros.training.precision import as_float32, forward_autocast
        from rgbt_tracker_ros.training.pruning import bn_l1_penalty
        from rgbt_tracker_ros.training.trainer import save_checkpoint

        c = self.config
        out = self.out / stage
        out.mkdir(parents=True, exist_ok=True)
        best_path, last_path, history = out / "best.pt", out / "last.pt", out / "history.jsonl"
        student.to(self.device).train()
        distiller.to(self.device).train()
        params = list(student.parameters()) + list(distiller.parameters())
        optimizer = torch.optim.AdamW(params, lr=optim.lr, weight_decay=optim.weight_decay)
        box_loss = TrackingLoss(c.loss)
        epoch, step, best_val = 0, 0, math.inf
        resumed = False
        if last_path.is_file() and not self.restart:
            state = torch.load(last_path, map_location=self.device, weights_only=False)
            same = (state["config"]["model"] == asdict(student.config)
                    and state["config"]["pipeline"]["compression"] == asdict(c.compression))
            if same:
                student.load_state_dict(state["model"])
                distiller.load_state_dict(state["distiller"])
                optimizer.load_state_dict(state["optimizer"])
                epoch, step, best_val = state["epoch"], state["step"], state["best_val"]
                resumed = True
                log.info("stage %s: resumed at epoch %d, step %d", stage, epoch, step)
            else:  # e.g. another pruning fraction since: that run's checkpoints are not this model's
                log.warning("stage %s: %s holds another network (config changed); starting the stage afresh",
                            stage, last_path)
        if not resumed:
            for stale in (history, best_path, last_path):
                stale.unlink(missing_ok=True)
        if epoch >= optim.epochs:
            log.info("stage %s: done already (%s)", stage, best_path)
            return best_path
        val_batches = fixed_validation_batches(self.data, student.config, optim.batch_size)
        model_config = student.config

        def save(path: Path) -> None:
            save_checkpoint({"model": student.state_dict(), "distiller": distiller.state_dict(),
                             "optimizer": optimizer.state_dict(), "epoch": epoch, "step": step, "best_val": best_val,
                             "config": self._checkpoint_config(model_config), "stage": stage}, path)

        while epoch < optim.epochs:
            stream = PairStream(self.data, model_config, seed=c.run.seed * 1000 + epoch + (500 if stage == "finetune" else 0))
            loader = iter(DataLoader(stream, batch_size=optim.batch_size, collate_fn=collate,
                                     num_workers=c.run.workers, prefetch_factor=4 if c.run.workers else None,
                                     pin_memory=self.device.type == "cuda"))
            bar = tqdm(range(optim.steps_per_epoch), desc=f"{stage} {epoch + 1}/{optim.epochs}",
                       disable=not self.progress, dynamic_ncols=True, file=sys.stderr)
            running: dict[str, float] = {}
            started = time.perf_counter()
            for _ in bar:
                batch = {k: v.to(self.device, non_blocking=True) for k, v in next(loader).items()}
                targets = make_targets(batch["box"], batch["has_target"], model_config.search_size,
                                       model_config.feature_size)
                with forward_autocast(self.device, c.run.precision):
                    outputs = as_float32(student(batch["template_visible"], batch["template_thermal"],
                                                 batch["search_visible"], batch["search_thermal"]))
                loss, parts = box_loss(outputs, targets)
                if distiller.config.active:
                    with forward_autocast(self.device, c.run.precision):
                        kd = compression_loss(distiller, outputs, teacher, batch["template_visible"],
                                              batch["search_visible"])
                    loss = loss + kd
                    parts["compress"] = float(kd)
                if bn_l1 > 0:
                    sparsity = bn_l1 * bn_l1_penalty(student)
                    loss = loss + sparsity
                    parts["bn_l1"] = float(sparsity)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, optim.grad_clip)
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(optim, step)
                optimizer.step()
                step += 1
                parts = {"loss": float(loss), **parts}
                running = {k: 0.9 * running.get(k, v) + 0.1 * v for k, v in parts.items()}
                bar.set_postfix({k: f"{v:.3f}" for k, v in running.items()})
            del loader
            epoch += 1
            metrics = self.validate(student, teacher, distiller, val_batches)
            record = {"stage": stage, "epoch": epoch, "step": step, **running, **metrics,
                      "seconds": time.perf_counter() - started}
            with history.open("a") as f:
                f.write(json.dumps(record) + "\n")
            log.info("%s epoch %d: %s", stage, epoch,
                     ", ".join(f"{k}={v:.4f}" for k, v in record.items() if isinstance(v, float)))
            if metrics["val_loss"] < best_val or not best_path.is_file():
                best_val = min(best_val, metrics["val_loss"])
                save(best_path)
            save(last_path)
        return best_path

    def validate(self, student, teacher, distiller, batches) -> dict[str, float]:
        """Box loss on the fixed validation pairs (thermal only), the compression term there, and how
        often the score peak lands on the target with IoU > 0.5."""
        import torch

        from rgbt_tracker_ros.distill.compression import compression_loss
        from rgbt_tracker_ros.training.losses import TrackingLoss, decode_at, giou_loss, make_targets

        cfg = student.config
        box_loss = TrackingLoss(self.config.loss)
        student.eval()
        distiller.eval()
        total = kd_total = 0.0
        hits = positives = n = 0
        with torch.no_grad():
            for batch in batches:
                batch = {k: v.to(self.device) for k, v in batch.items()}
                targets = make_targets(batch["box"], batch["has_target"], cfg.search_size, cfg.feature_size)
                out = student(batch["template_visible"], batch["template_thermal"],
                              batch["search_visible"], batch["search_thermal"])
                loss, _ = box_loss(out, targets)
                b = len(batch["box"])
                total += float(loss) * b
                if distiller.config.active:
                    kd_total += float(compression_loss(distiller, out, teacher, batch["template_visible"],
                                                       batch["search_visible"])) * b
                pred = decode_at(out["size"], out["offset"], out["score_logits"].flatten(1).argmax(1))
                ok = (1 - giou_loss(pred, targets.box)) > 0.5
                hits += int((ok & targets.has_target).sum())
                positives += int(targets.has_target.sum())
                n += b
        student.train()
        distiller.train()
        return {"val_loss": total / n, "val_compress": kd_total / n, "val_hit_rate": hits / max(1, positives)}

    def _checkpoint_config(self, model_config: ModelConfig) -> dict:
        """What `training.export.load_checkpoint_model` reads, plus the whole pipeline config."""
        return {"model": asdict(model_config), "name": self.config.name, "input_modality": "thermal",
                "pipeline": asdict(self.config)}

    # -- the whole chain -----------------------------------------------------------------------------
    def run(self) -> dict:
        import torch

        from rgbt_tracker_ros.distill.compression import FeatureMatchingLoss, SingleModalityStudent, feature_channels
        from rgbt_tracker_ros.training.pruning import prune

        c = self.config
        torch.manual_seed(c.run.seed)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "config.json").write_text(json.dumps(asdict(c), indent=2) + "\n")
        summary: dict = {"name": c.name}
        started = time.perf_counter()

        teacher, teacher_path = self.teacher()
        summary["teacher"] = str(teacher_path)

        # Stage 2: the thermal student learns the RGB teacher's features from paired thermal crops.
        student = SingleModalityStudent(c.model, "thermal")
        if c.init_from_teacher:
            if teacher.config == c.model and hasattr(teacher, "backbone"):
                student.load_state_dict(teacher.state_dict())
                log.info("thermal student initialised from the RGB teacher's weights")
            else:
                log.info("thermal student starts from scratch: the teacher's architecture differs")
        distiller = FeatureMatchingLoss(c.compression, feature_channels(student), feature_channels(teacher))
        distilled = self.distil(student, teacher, distiller, c.optim, "distil", c.pruning.bn_l1 if c.pruning.enabled else 0.0)
        state = torch.load(distilled, map_location="cpu", weights_only=False)
        student.load_state_dict(state["model"])
        distiller.load_state_dict(state["distiller"])
        summary["distilled"] = {"checkpoint": str(distilled), "best_val_loss": state["best_val"]}
        if c.export.unpruned_output:
            self._export(student.cpu(), Path(c.export.unpruned_output), c.export.unpruned_name,
                         {"stage": "distil", "checkpoint": str(distilled)})
            summary["distilled"]["export"] = c.export.unpruned_output

        # Stage 3: structured pruning (the adapters' inputs follow the kept channels).
        model = student.cpu()
        if c.pruning.enabled:
            result = prune(student.cpu(), c.pruning)
            model = result.model
            stages = len(c.model.backbone.stages)
            for level in distiller.levels:
                if level < stages and f"stage{level}" in result.keep:
                    distiller.prune_inputs(level, result.keep[f"stage{level}"])
            torch.save({"model": model.state_dict(), "config": self._checkpoint_config(model.config),
                        "keep": result.keep, "pruning": result.summary()}, self.out / "pruned.pt")
            summary["pruning"] = result.summary()
            # Stage 4: fine-tune the pruned model with the same losses (no sparsity term now).
            finetuned = self.distil(model, teacher, distiller, c.finetune, "finetune", 0.0)
            state = torch.load(finetuned, map_location="cpu", weights_only=False)
            model.load_state_dict(state["model"])
            summary["finetuned"] = {"checkpoint": str(finetuned), "best_val_loss": state["best_val"]}

        # Stage 5: export to the runtime contract and check it against PyTorch.
        model = model.cpu().eval()
        export_dir = Path(c.export.output)
        parity = self._export(model, export_dir, c.export.name, {"stage": "finetune" if c.pruning.enabled else "distil",
                                                                  "pruning": summary.get("pruning")})
        summary["export"] = {"output": str(export_dir), **parity}
        summary["seconds"] = time.perf_counter() - started
        (self.out / "compression.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        return summary

    def _export(self, model, out_dir: Path, name: str, info: dict) -> dict:
        from rgbt_tracker_ros.training.export import check_parity, export_student, random_inputs, real_inputs

        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        info = {"pipeline": "rgbt-tracker compress", "run": str(self.out), "teacher_stage": str(self.out / "teacher"),
                **info}
        path = export_student(model.cpu().eval(), out_dir, name=name, training_info=info)
        tol = self.config.export.tolerance
        diff_random = check_parity(model, path.parent, random_inputs(model.config, 3), tol)
        diff_real = check_parity(model, path.parent, real_inputs(model.config, 3), tol)
        log.info("exported %s: max |ONNX - PyTorch| %.2e (random), %.2e (real crops)", out_dir, diff_random, diff_real)
        return {"parity_random": diff_random, "parity_real": diff_real}


# -- the subcommand --------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="pipeline config YAML (config/training/thermal_compression.yaml)")
    parser.add_argument("--output-dir", default="", help="override run.output_dir")
    parser.add_argument("--device", default="", help="override run.device (auto, cpu, cuda)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override one config entry (dotted key, YAML value), e.g. --set pruning.keep=0.4")
    parser.add_argument("--restart", action="store_true", help="redo every stage (default: skip finished ones, resume)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from rgbt_tracker_ros.common.config_io import load_yaml_config

    try:
        config = load_yaml_config(ThermalCompressionConfig, args.config, args.overrides)
        config = dataclasses.replace(config, run=config.run.with_command_line(output_dir=args.output_dir,
                                                                             device=args.device))
        summary = CompressionPipeline(config, restart=args.restart, progress=not args.no_progress).run()
    except (InputError, ValueError) as exc:
        print(f"rgbt-tracker compress: {exc}", file=sys.stderr)
        return 2
    except AssertionError as exc:
        print(f"rgbt-tracker compress: parity check FAILED: {exc}", file=sys.stderr)
        return 1
    pruning = summary.get("pruning")
    if pruning:
        kept = pruning["kept_fraction"]
        print(f"pruned: {100 * kept['macs']:.1f}% of the MACs, {100 * kept['params']:.1f}% of the parameters "
              f"kept ({pruning['after']['params']:,} parameters)")
    export = summary["export"]
    print(f"exported {export['output']}: max |ONNX - PyTorch| = {export['parity_random']:.2e} (random inputs), "
          f"{export['parity_real']:.2e} (real crops)")
    return 0


def main(argv: list[str] | None = None) -> int:
    return standalone_main("compress", __doc__, add_arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())
