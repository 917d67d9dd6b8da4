"""The thermal-only model by cross-modal compression distillation (Li et al.), structured pruning and
fine-tuning: the pipeline behind `rgbt-tracker compress` (commands/compress.py).

Stages (each writes its results under run.output_dir and is skipped when they are already there, so
an interrupted run continues where it stopped; restart redoes everything):
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
Stages 2 and 4 are runs of the one Trainer (training/trainer.py) with the `CompressionObjective`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from rgbt_tracker_ros.common.config_io import load_yaml_config
from rgbt_tracker_ros.common.errors import InputError
from rgbt_tracker_ros.data.sampler import SamplerConfig
from rgbt_tracker_ros.distill.common import feature_channels, freeze
from rgbt_tracker_ros.distill.compression import CompressionConfig, FeatureMatchingLoss
from rgbt_tracker_ros.models.checkpoint import load_checkpoint_model
from rgbt_tracker_ros.models.config import ModelConfig
from rgbt_tracker_ros.models.losses import LossConfig
from rgbt_tracker_ros.models.single_modality import SingleModalityStudent
from rgbt_tracker_ros.training.config import DataConfig, OptimConfig, RunConfig, TrainConfig
from rgbt_tracker_ros.training.export import export_checked
from rgbt_tracker_ros.training.objectives import CompressionObjective
from rgbt_tracker_ros.training.pruning import PruningConfig, prune
from rgbt_tracker_ros.training.trainer import Stage, Trainer, training_device

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
    compression: CompressionConfig | None = None  # the term; off unless the section is there
    pruning: PruningConfig = field(default_factory=PruningConfig)
    export: ExportSpec = field(default_factory=ExportSpec)
    run: RunConfig = field(default_factory=lambda: RunConfig(output_dir="runs/thermal_compression"))


def visible_only(sampler: SamplerConfig) -> SamplerConfig:
    """The RGB teacher's pairs: every thermal crop replaced by the grey visible crop."""
    return dataclasses.replace(sampler, visible_dropout=0.0, thermal_dropout=1.0, grey_pair_prob=0.0)


def paired(sampler: SamplerConfig) -> SamplerConfig:
    """Compression pairs: the teacher must see the visible crop, so the visible crop is never replaced."""
    return dataclasses.replace(sampler, visible_dropout=0.0)


def load_compression_config(path: str | Path, overrides: list[str] = (), *, output_dir: str = "",
                            device: str = "") -> ThermalCompressionConfig:
    """The pipeline config of a YAML with `--set` overrides and the command line's flags that were given."""
    config = load_yaml_config(ThermalCompressionConfig, path, overrides)
    return dataclasses.replace(config, run=config.run.with_command_line(output_dir=output_dir, device=device))


class CompressionPipeline:
    def __init__(self, config: ThermalCompressionConfig, restart: bool = False, progress: bool = True):
        self.config = config
        self.restart = restart
        self.progress = progress
        self.out = Path(config.run.output_dir)
        self.device = training_device(config.run.device)
        if config.run.threads:
            torch.set_num_threads(config.run.threads)
        self.data = dataclasses.replace(config.data, sampler=paired(config.data.sampler))

    # -- stage 1: the RGB teacher --------------------------------------------------------------------
    def teacher(self):
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
        return Trainer(train, progress=self.progress).fit()

    # -- stages 2 and 4: distillation on paired crops ----------------------------------------------------
    def distil(self, student, teacher, distiller, optim: OptimConfig, stage: str, bn_l1: float) -> Path:
        """Train `student` (and the distiller's adapters) for optim.epochs; return the best weights'
        checkpoint path. Resumes from the stage's last.pt unless restarting, or when that checkpoint
        holds another network (another pruning fraction, another compression term)."""
        c = self.config
        out = self.out / stage
        out.mkdir(parents=True, exist_ok=True)
        best_path, last_path, history = out / "best.pt", out / "last.pt", out / "history.jsonl"
        resume = ""
        if last_path.is_file() and not self.restart:
            state = torch.load(last_path, map_location="cpu", weights_only=False)
            same = (state["config"]["model"] == asdict(student.config)
                    and state["config"]["pipeline"]["compression"] == _as_dict(c.compression))
            if same:
                if state["epoch"] >= optim.epochs:
                    log.info("stage %s: done already (%s)", stage, best_path)
                    return best_path
                resume = str(last_path)
            else:  # e.g. another pruning fraction since: that run's checkpoints are not this model's
                log.warning("stage %s: %s holds another network (config changed); starting the stage afresh",
                            stage, last_path)
        if not resume:
            for stale in (history, best_path, last_path):
                stale.unlink(missing_ok=True)
        run = dataclasses.replace(c.run, output_dir=str(out), resume=resume, init="")
        config = TrainConfig(name=c.name, model=student.config, data=self.data, optim=optim, loss=c.loss, run=run)
        objective = CompressionObjective(student, teacher, distiller, c.loss, c.run.precision, bn_l1)
        checkpoint = Stage(stage, self._checkpoint_config(student.config),
                           stream_seed_offset=500 if stage == "finetune" else 0)
        return Trainer(config, model=student, objective=objective, stage=checkpoint, progress=self.progress).fit()

    def _checkpoint_config(self, model_config: ModelConfig) -> dict:
        """What `models.checkpoint.load_checkpoint_model` reads, plus the whole pipeline config."""
        return {"model": asdict(model_config), "name": self.config.name, "input_modality": "thermal",
                "pipeline": asdict(self.config)}

    # -- the whole chain -----------------------------------------------------------------------------
    def run(self) -> dict:
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
        distiller = (FeatureMatchingLoss(c.compression, feature_channels(student), feature_channels(teacher))
                     if c.compression is not None else None)
        distilled = self.distil(student, teacher, distiller, c.optim, "distil", c.pruning.bn_l1 if c.pruning.enabled else 0.0)
        state = torch.load(distilled, map_location="cpu", weights_only=False)
        student.load_state_dict(state["model"])
        if distiller is not None:
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
            for level in (distiller.levels if distiller is not None else ()):
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
        info = {"pipeline": "rgbt-tracker compress", "run": str(self.out), "teacher_stage": str(self.out / "teacher"),
                **info}
        report = export_checked(model, out_dir, name, info, self.config.export.tolerance)
        log.info("exported %s: max |ONNX - PyTorch| %.2e (random), %.2e (real crops)", out_dir,
                 report.parity_random, report.parity_real)
        return {"parity_random": report.parity_random, "parity_real": report.parity_real}


def _as_dict(config) -> dict | None:
    return asdict(config) if config is not None else None
