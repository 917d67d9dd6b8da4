"""Structured channel pruning of the student's backbone: whole channels removed, smaller layers rebuilt.

Channels are pruned in *groups*: sets of convolution outputs that must keep the same channel index
because something adds or feeds them together.
- `stem`: the stem's output, read by the first stage's transition.
- `stage{k}` (the residual stream of stage k): the transition's output and every residual block's
  second convolution's output are summed channel by channel (x + body(x)), so they are pruned together;
  their readers are the blocks' first convolutions and the next transition (or the neck).
- `stage{k}.block{j}`: the inner width of a residual block (first convolution's output, second
  convolution's input); local to the block, the safest cut.
The neck's output (the features the fusion, correlation and head read) keeps its width, so the fusion,
the head and the runtime contract are untouched.

Ranking: the importance of a channel is the sum over the group's producing layers of |BN gamma|
(network slimming; `criterion: bn`) or of the L1 norm of its filter (`criterion: l1`), each layer's
scores divided by their mean so that no layer dominates. Every group keeps the same fraction of its
channels (rounded to `round_to`, at least `min_channels`); that fraction is searched (bisection) so
that the pruned model keeps `keep` of the tracking step's FLOPs or of the parameters (`target`).

The pruned widths live in the model's config (`BackboneConfig.stages`, `stem_channels` and
`inner_channels`), so `models.checkpoint.rebuild` (the builder, or `SingleModalityStudent`) rebuilds the pruned
network from its stored config alone and loads its state dict; export is the student's.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import torch
from torch import nn

from rgbt_tracker_ros.models.checkpoint import rebuild as rebuild_network
from rgbt_tracker_ros.models.config import ModelConfig

log = logging.getLogger(__name__)

GROUP_KINDS = ("stem", "stream", "inner")
CRITERIA = ("bn", "l1")
TARGETS = ("flops", "params")


@dataclass(frozen=True)
class PruningConfig:
    enabled: bool = True
    keep: float = 0.5              # fraction of FLOPs (per tracking step) or parameters to keep
    target: str = "flops"          # flops | params
    criterion: str = "bn"          # bn (|gamma|) | l1 (filter L1 norm)
    groups: tuple[str, ...] = GROUP_KINDS  # which kinds of channel group may be cut
    min_channels: int = 8
    round_to: int = 4              # widths a multiple of this (kept as wide as needed otherwise)
    bn_l1: float = 1e-5            # L1 on the prunable BN gammas while training before pruning

    def __post_init__(self) -> None:
        if not 0.0 < self.keep <= 1.0:
            raise ValueError(f"pruning.keep must be in (0, 1], got {self.keep}")
        if self.target not in TARGETS:
            raise ValueError(f"pruning.target must be one of {TARGETS}, got {self.target!r}")
        if self.criterion not in CRITERIA:
            raise ValueError(f"pruning.criterion must be one of {CRITERIA}, got {self.criterion!r}")
        unknown = set(self.groups) - set(GROUP_KINDS)
        if unknown:
            raise ValueError(f"pruning.groups: unknown kind(s) {sorted(unknown)}; known: {GROUP_KINDS}")
        if self.min_channels < 1 or self.round_to < 1:
            raise ValueError("pruning.min_channels and pruning.round_to must be at least 1")
        if self.bn_l1 < 0:
            raise ValueError(f"pruning.bn_l1 must be >= 0, got {self.bn_l1}")


@dataclass
class ChannelGroup:
    name: str
    kind: str                                   # stem | stream | inner
    width: int
    producers: list[tuple[nn.Conv2d, nn.BatchNorm2d]]  # output channels of these are the group
    consumers: list[nn.Conv2d]                  # input channels of these are the group


@dataclass
class PruneResult:
    model: nn.Module
    config: ModelConfig
    keep: dict[str, torch.Tensor]               # group name -> kept channel indices (ascending)
    before: dict[str, int]                      # params, macs of one tracking step
    after: dict[str, int]
    ratio: float                                # fraction of each group's channels kept
    widths: dict[str, tuple[int, int]] = field(default_factory=dict)  # group -> (before, after)

    @property
    def kept_fraction(self) -> dict[str, float]:
        return {k: self.after[k] / self.before[k] for k in self.before}

    def summary(self) -> dict:
        return {"ratio": self.ratio, "before": self.before, "after": self.after,
                "kept_fraction": self.kept_fraction, "widths": {k: list(v) for k, v in self.widths.items()}}


def _conv_bn(seq: nn.Sequential) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return seq[0], seq[1]


def channel_groups(model: nn.Module) -> list[ChannelGroup]:
    """The prunable channel groups of a student's `CompactBackbone` (see the module docstring)."""
    backbone = model.backbone
    groups: list[ChannelGroup] = []
    stem = _conv_bn(backbone.stem)
    previous = ChannelGroup("stem", "stem", stem[0].out_channels, [stem], [])
    groups.append(previous)
    for k, stage in enumerate(backbone.stages):
        transition = _conv_bn(stage[0])
        previous.consumers.append(transition[0])
        stream = ChannelGroup(f"stage{k}", "stream", transition[0].out_channels, [transition], [])
        for j, block in enumerate(list(stage)[1:]):
            first, second = _conv_bn(block.body[0]), _conv_bn(block.body[1])
            stream.consumers.append(first[0])
            stream.producers.append(second)
            groups.append(ChannelGroup(f"stage{k}.block{j}", "inner", first[0].out_channels, [first], [second[0]]))
        groups.append(stream)
        previous = stream
    previous.consumers.append(backbone.neck[0])
    return groups


def importance(group: ChannelGroup, criterion: str = "bn") -> torch.Tensor:
    """Per-channel importance of a group: sum over its producers of mean-normalised scores."""
    total = torch.zeros(group.width)
    for conv, bn in group.producers:
        if criterion == "bn":
            s = bn.weight.detach().abs().float().cpu()
        else:
            s = conv.weight.detach().abs().flatten(1).sum(1).float().cpu()
        total += s / s.mean().clamp(min=1e-12)
    return total


def bn_l1_penalty(model: nn.Module, kinds: tuple[str, ...] = GROUP_KINDS) -> torch.Tensor:
    """Sum of |gamma| of the BNs producing prunable channels (the network-slimming regulariser)."""
    terms = [bn.weight.abs().sum() for g in channel_groups(model) if g.kind in kinds for _, bn in g.producers]
    return torch.stack(terms).sum()


def _round_width(width: int, ratio: float, config: PruningConfig) -> int:
    target = ratio * width
    rounded = int(round(target / config.round_to)) * config.round_to
    return int(min(width, max(config.min_channels, rounded, 1)))


def _widths_for(groups: list[ChannelGroup], ratio: float, config: PruningConfig) -> dict[str, int]:
    return {g.name: (_round_width(g.width, ratio, config) if g.kind in config.groups else g.width) for g in groups}


def pruned_model_config(config: ModelConfig, widths: dict[str, int]) -> ModelConfig:
    """The ModelConfig describing a backbone with the given group widths (see `channel_groups`)."""
    bb = config.backbone
    stages = tuple((widths.get(f"stage{k}", c), b, s) for k, (c, b, s) in enumerate(bb.stages))
    inner = tuple(tuple(widths.get(f"stage{k}.block{j}", bb.inner_width(k, j)) for j in range(b))
                  for k, (_, b, _) in enumerate(bb.stages))
    if all(w == stages[k][0] for k, ws in enumerate(inner) for w in ws):
        inner = ()  # nothing overridden: keep the default-off form
    backbone = dataclasses.replace(bb, stem_channels=widths.get("stem", bb.stem_channels), stages=stages,
                                   inner_channels=inner)
    return dataclasses.replace(config, backbone=backbone)


def rebuild(model: nn.Module, config: ModelConfig) -> nn.Module:
    """A fresh network of the same class as `model` from `config` (single-modality students keep their modality)."""
    return rebuild_network(config, getattr(model, "modality", None))


@torch.no_grad()
def step_cost(model: nn.Module) -> dict[str, int]:
    """Parameters, and multiply-accumulates of one tracking step (the search graph: backbone on the
    search crop(s), fusion, correlation, head) at batch 1, counted with forward hooks."""
    config = model.config
    z, s = config.template_size, config.search_size
    was_training = model.training
    model.eval()
    kernel = model.template_features(torch.zeros(1, 3, z, z), torch.zeros(1, 1, z, z))
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        macs += output.numel() * module.weight[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        out = model.track_step(kernel, torch.zeros(1, 3, s, s), torch.zeros(1, 1, s, s))
    finally:
        for h in handles:
            h.remove()
    fused = out["search"]["fused"]
    macs += kernel.shape[1] * fused.numel()  # the correlation MatMul
    model.train(was_training)
    return {"params": sum(p.numel() for p in model.parameters()), "macs": int(macs)}


def _cost_at(model: nn.Module, groups: list[ChannelGroup], ratio: float, config: PruningConfig,
             cache: dict) -> tuple[int, dict[str, int]]:
    widths = _widths_for(groups, ratio, config)
    key = tuple(sorted(widths.items()))
    if key not in cache:
        probe = rebuild(model, pruned_model_config(model.config, widths))
        cache[key] = step_cost(probe)
    return cache[key]["macs" if config.target == "flops" else "params"], widths


def search_ratio(model: nn.Module, config: PruningConfig) -> tuple[float, dict[str, int]]:
    """The largest per-group keep ratio whose pruned model stays within `keep` of the target cost."""
    groups = channel_groups(model)
    cache: dict = {}
    full, _ = _cost_at(model, groups, 1.0, config, cache)
    budget = config.keep * full
    lowest, widths = _cost_at(model, groups, 0.0, config, cache)
    if lowest > budget:
        log.warning("pruning: keeping %.0f%% of the %s is out of reach (the head, the neck and %d-channel "
                    "minimum widths alone keep %.0f%%); pruning to that minimum",
                    100 * config.keep, config.target, config.min_channels, 100 * lowest / full)
        return 0.0, widths
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        cost, _ = _cost_at(model, groups, mid, config, cache)
        if cost <= budget:
            lo = mid
        else:
            hi = mid
    _, widths = _cost_at(model, groups, lo, config, cache)
    return lo, widths


@torch.no_grad()
def prune_channels(model: nn.Module, widths: dict[str, int], criterion: str = "bn") -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """Keep the `widths[group]` most important channels of each group; return the smaller model
    (same class, config with the new widths, weights copied) and the kept indices per group."""
    groups = channel_groups(model)
    keep: dict[str, torch.Tensor] = {}
    for g in groups:
        n = widths.get(g.name, g.width)
        if n >= g.width:
            continue
        top = torch.topk(importance(g, criterion), n).indices
        keep[g.name] = torch.sort(top).values
    # Which group indexes each conv's outputs / inputs and each BN's channels.
    out_group: dict[int, str] = {}
    in_group: dict[int, str] = {}
    for g in groups:
        for conv, bn in g.producers:
            out_group[id(conv)] = g.name
            out_group[id(bn)] = g.name
        for conv in g.consumers:
            in_group[id(conv)] = g.name
    names = {id(m): name for name, m in model.named_modules()}
    slicing: dict[str, tuple[str | None, str | None]] = {}
    for module_id, group in out_group.items():
        slicing[names[module_id]] = (group, slicing.get(names[module_id], (None, None))[1])
    for module_id, group in in_group.items():
        slicing[names[module_id]] = (slicing.get(names[module_id], (None, None))[0], group)

    new = rebuild(model, pruned_model_config(model.config, {g.name: widths.get(g.name, g.width) for g in groups}))
    old_state = model.state_dict()
    new_state = {}
    for key, target in new.state_dict().items():
        value = old_state[key]
        module_name, _, param = key.rpartition(".")
        out_g, in_g = slicing.get(module_name, (None, None))
        if out_g in keep and value.ndim >= 1 and param != "num_batches_tracked":
            value = value.index_select(0, keep[out_g])
        if in_g in keep and value.ndim == 4:
            value = value.index_select(1, keep[in_g])
        if value.shape != target.shape:
            raise RuntimeError(f"pruning: {key} became {tuple(value.shape)}, the rebuilt model wants {tuple(target.shape)}")
        new_state[key] = value.clone()
    new.load_state_dict(new_state)
    new.train(model.training)
    return new, keep


def prune(model: nn.Module, config: PruningConfig) -> PruneResult:
    """Prune `model` (a student; single-modality or not) to `config.keep` of its FLOPs or parameters."""
    model = model.cpu()
    before = step_cost(model)
    ratio, widths = search_ratio(model, config)
    pruned, keep = prune_channels(model, widths, config.criterion)
    after = step_cost(pruned)
    original = {g.name: g.width for g in channel_groups(model)}
    result = PruneResult(pruned, pruned.config, keep, before, after, ratio,
                         {name: (w, widths.get(name, w)) for name, w in original.items()})
    log.info("pruned to %.1f%% of the MACs (%d -> %d) and %.1f%% of the parameters (%d -> %d), "
             "channel ratio %.3f", 100 * after["macs"] / before["macs"], before["macs"], after["macs"],
             100 * after["params"] / before["params"], before["params"], after["params"], ratio)
    return result
