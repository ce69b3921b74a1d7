"""Model configs (YAML in model/configs/): architecture, bit widths, scaling and training settings."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from spikeflow.errors import ConfigError

Scaling = Literal["po2", "float"]
Topology = Literal["chain", "two_scale"]
LAYER_TYPES = ("conv", "maxpool", "residual")
TOPOLOGIES = ("chain", "two_scale")


@dataclass(frozen=True)
class LayerSpec:
    """One backbone layer: a conv (with folded BN and quantized ReLU), a max-pool, or a residual block (a
    `kernel` x `kernel` conv to `channels` channels, a 3x3 conv back to the block's input channels, the block's
    input added, a quantized ReLU; stride 1)."""

    type: Literal["conv", "maxpool", "residual"]
    channels: int = 0
    kernel: int = 3
    stride: int = 1
    weight_bits: int | None = None  # None: the model's default


@dataclass(frozen=True)
class TwoScaleSpec:
    """A YOLOv3-tiny-like second, finer head: the backbone's last output (the deep features) feeds the coarse
    head and a 1x1 conv to `lateral` channels, upsampled x2 (nearest) and concatenated with the output of layer
    `route` (the fine features, at twice the deep grid); a 3x3 conv to `fine` channels and the fine head follow.
    The 1x1 conv shares the route layer's activation quantizer, so the concat's inputs share one scale. The
    `fine_anchors` smallest anchors go to the fine head, the others to the coarse one."""

    route: int
    lateral: int = 64
    fine: int = 64
    fine_anchors: int = 2


@dataclass(frozen=True)
class TrainSpec:
    epochs_float: int = 10
    epochs_qat: int = 10
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 5e-4
    freeze_bn_epochs: int = 2  # last QAT epochs with BN statistics frozen (folded weights then fixed)
    train_images: int = 4000  # size of the built-in training set
    val_images: int = 256
    seed: int = 0
    workers: int | None = None  # loader processes reading batches ahead (None: 0 when cached in memory, else 1)
    checkpoint_minutes: float = 10.0  # last.pt is also saved mid-epoch this often, so --resume loses little
    eval_each_epoch: bool = False  # evaluate after every epoch (the mAP per epoch in train_report.json's epoch_log)

    def __post_init__(self) -> None:
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 0):
            raise ConfigError(f"workers must be a whole number >= 0 (or absent), got {self.workers!r}")
        if not isinstance(self.checkpoint_minutes, int | float) or self.checkpoint_minutes <= 0:
            raise ConfigError(f"checkpoint_minutes must be a number > 0, got {self.checkpoint_minutes!r}")
        if not isinstance(self.eval_each_epoch, bool):
            raise ConfigError(f"eval_each_epoch must be true or false, got {self.eval_each_epoch!r}")


def training_epochs(spec: TrainSpec, epochs_float: int | None = None, epochs_qat: int | None = None) -> tuple[int, int]:
    """(float, QAT) epochs: the overrides (--epochs-float, --epochs-qat) where given, else the config's.

    Raises ConfigError unless both are >= 0 and at least one epoch is asked for; needs no torch, so the command
    line checks it before importing the trainer.
    """
    n_float = spec.epochs_float if epochs_float is None else epochs_float
    n_qat = spec.epochs_qat if epochs_qat is None else epochs_qat
    for name, n in (("float", n_float), ("QAT", n_qat)):
        if n < 0:
            raise ConfigError(f"{name} epochs must be >= 0, got {n} (--epochs-{name.lower()} or the config's "
                              f"train.epochs_{name.lower()})")
    if n_float + n_qat < 1:
        raise ConfigError(f"training needs at least one epoch in total, got {n_float} float + {n_qat} QAT "
                          "(--epochs-float/--epochs-qat or the config's train.epochs_float/epochs_qat)")
    return n_float, n_qat


@dataclass(frozen=True)
class ModelConfig:
    name: str
    input_size: int
    layers: tuple[LayerSpec, ...]
    act_bits: int = 2
    weight_bits: int = 4
    head_weight_bits: int = 8
    anchors: int = 3
    scaling: Scaling = "po2"
    train: TrainSpec = field(default_factory=TrainSpec)
    source: str = "<memory>"
    topology: Topology = "chain"
    two_scale: TwoScaleSpec | None = None  # topology two_scale only

    @property
    def timesteps(self) -> int:
        return (1 << self.act_bits) - 1

    @property
    def grid(self) -> int:
        """The grid of the (coarse) head: the backbone's output size."""
        return self.size_after(len(self.layers) - 1)

    def size_after(self, index: int) -> int:
        """The feature map's side after backbone layer `index`."""
        size = self.input_size
        for layer in self.layers[:index + 1]:
            size //= layer.kernel if layer.type == "maxpool" else (layer.stride if layer.type == "conv" else 1)
        return size

    def channels_after(self, index: int) -> int:
        """The feature map's channels after backbone layer `index` (3 before any conv)."""
        channels = 3
        for layer in self.layers[:index + 1]:
            if layer.type == "conv":
                channels = layer.channels
        return channels

    def to_dict(self) -> dict[str, Any]:
        doc = {
            "name": self.name, "input_size": self.input_size, "act_bits": self.act_bits,
            "weight_bits": self.weight_bits, "head_weight_bits": self.head_weight_bits,
            "anchors": self.anchors, "scaling": self.scaling,
            "layers": [{k: v for k, v in vars(layer).items() if v is not None} for layer in self.layers],
            "train": dict(vars(self.train)),
        }
        if self.topology != "chain":
            doc["topology"] = self.topology
        if self.two_scale is not None:
            doc["two_scale"] = dict(vars(self.two_scale))
        return doc


def _section(cls: type[Any], entry: Any, where: str) -> Any:
    """`cls(**entry)` for a config section, raising ConfigError naming the section and an unknown key with the
    known ones, or what is wrong with the values."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping, got {entry!r}")
    known = sorted(f.name for f in fields(cls))
    for key in entry:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(known)})")
    try:
        return cls(**entry)
    except (TypeError, ConfigError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _build(doc: Any, source: str) -> ModelConfig:
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    known = {"name", "input_size", "act_bits", "weight_bits", "head_weight_bits", "anchors", "scaling",
             "layers", "train", "topology", "two_scale"}
    for key in doc:
        if key not in known:
            raise ConfigError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(known))})")
    for key in ("name", "input_size", "layers"):
        if key not in doc:
            raise ConfigError(f"{source}: missing key {key!r}")
    layers = []
    for i, entry in enumerate(doc["layers"]):
        if not isinstance(entry, dict) or entry.get("type") not in LAYER_TYPES:
            raise ConfigError(f"{source}: layers[{i}] must be a mapping with type 'conv', 'maxpool' or 'residual'")
        spec = _section(LayerSpec, entry, f"{source}: layers[{i}]")
        if spec.type in ("conv", "residual") and spec.channels <= 0:
            raise ConfigError(f"{source}: layers[{i}]: a {spec.type} needs 'channels' > 0")
        if spec.type == "residual" and (spec.stride != 1 or not layers or "channels" not in entry):
            raise ConfigError(f"{source}: layers[{i}]: a residual block needs 'channels' (its inner conv's), "
                              f"stride 1 and a layer before it")
        if spec.type == "maxpool" and "kernel" not in entry:
            spec = LayerSpec(type="maxpool", kernel=2)
        layers.append(spec)
    train = _section(TrainSpec, doc.get("train") or {}, f"{source}: train")
    two_scale = None
    if doc.get("two_scale") is not None:
        two_scale = _section(TwoScaleSpec, doc["two_scale"], f"{source}: two_scale")
    cfg = ModelConfig(**{k: v for k, v in doc.items() if k not in ("layers", "train", "two_scale")},
                      layers=tuple(layers), train=train, two_scale=two_scale, source=source)
    if cfg.topology not in TOPOLOGIES:
        raise ConfigError(f"{source}: topology must be one of {', '.join(TOPOLOGIES)}, got {cfg.topology!r}")
    if (cfg.topology == "two_scale") != (two_scale is not None):
        raise ConfigError(f"{source}: topology {cfg.topology!r} " + ("needs a 'two_scale' section (route, "
                          "lateral, fine, fine_anchors)" if two_scale is None else
                          "takes no 'two_scale' section (set topology: two_scale)"))
    if cfg.scaling not in ("po2", "float"):
        raise ConfigError(f"{source}: scaling must be 'po2' or 'float', got {cfg.scaling!r}")
    if not 2 <= cfg.act_bits <= 4:
        # Brevitas exports 1-bit quantizers as BipolarQuant (+-1), which is not a ReLU, so a >= 2.
        raise ConfigError(f"{source}: act_bits must be 2..4 (T = 2^a - 1 timesteps), got {cfg.act_bits}")
    if cfg.grid < 1 or cfg.input_size % (cfg.input_size // max(cfg.grid, 1)):
        raise ConfigError(f"{source}: input_size {cfg.input_size} is not divisible by the network stride")
    if two_scale is not None:
        _check_two_scale(cfg, two_scale, source)
    return cfg


def _check_two_scale(cfg: ModelConfig, spec: TwoScaleSpec, source: str) -> None:
    where = f"{source}: two_scale"
    n = len(cfg.layers)
    if isinstance(spec.route, bool) or not isinstance(spec.route, int) or not 0 <= spec.route < n - 1:
        raise ConfigError(f"{where}: route must be the index of a backbone layer before the last (0..{n - 2}), "
                          f"got {spec.route!r}")
    if cfg.layers[spec.route].type == "maxpool":
        raise ConfigError(f"{where}: route {spec.route} is a maxpool; route to a conv or residual layer (its "
                          f"quantized ReLU is shared with the lateral conv, so the concat is exact)")
    for key in ("lateral", "fine"):
        value = getattr(spec, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: {key} must be a number of channels >= 1, got {value!r}")
    fine_grid = cfg.size_after(spec.route)
    if fine_grid != 2 * cfg.grid:
        raise ConfigError(f"{where}: layer {spec.route}'s output is {fine_grid}x{fine_grid}; the fine features "
                          f"must be twice the deep grid {cfg.grid}x{cfg.grid} (nearest x2 upsampling)")
    if isinstance(spec.fine_anchors, bool) or not isinstance(spec.fine_anchors, int) \
            or not 1 <= spec.fine_anchors < cfg.anchors:
        raise ConfigError(f"{where}: fine_anchors must be 1..{cfg.anchors - 1} (of the {cfg.anchors} anchors, "
                          f"the rest go to the coarse head), got {spec.fine_anchors!r}")


def load_config(path: str | Path) -> ModelConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    return _build(doc, str(path))


def config_from_dict(doc: dict[str, Any], source: str = "<checkpoint>") -> ModelConfig:
    return _build(doc, source)
