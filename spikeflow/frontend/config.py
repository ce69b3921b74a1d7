"""Model configs (YAML in model/configs/): architecture, bit widths, scaling and training settings."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from spikeflow.errors import ConfigError

Scaling = Literal["po2", "float"]


@dataclass(frozen=True)
class LayerSpec:
    """One backbone layer: a conv (with folded BN and quantized ReLU) or a max-pool."""

    type: Literal["conv", "maxpool"]
    channels: int = 0
    kernel: int = 3
    stride: int = 1
    weight_bits: int | None = None  # None: the model's default


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

    @property
    def timesteps(self) -> int:
        return (1 << self.act_bits) - 1

    @property
    def grid(self) -> int:
        size = self.input_size
        for layer in self.layers:
            size //= layer.kernel if layer.type == "maxpool" else layer.stride
        return size

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "input_size": self.input_size, "act_bits": self.act_bits,
            "weight_bits": self.weight_bits, "head_weight_bits": self.head_weight_bits,
            "anchors": self.anchors, "scaling": self.scaling,
            "layers": [{k: v for k, v in vars(layer).items() if v is not None} for layer in self.layers],
            "train": dict(vars(self.train)),
        }


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
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _build(doc: Any, source: str) -> ModelConfig:
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    known = {"name", "input_size", "act_bits", "weight_bits", "head_weight_bits", "anchors", "scaling",
             "layers", "train"}
    for key in doc:
        if key not in known:
            raise ConfigError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(known))})")
    for key in ("name", "input_size", "layers"):
        if key not in doc:
            raise ConfigError(f"{source}: missing key {key!r}")
    layers = []
    for i, entry in enumerate(doc["layers"]):
        if not isinstance(entry, dict) or entry.get("type") not in ("conv", "maxpool"):
            raise ConfigError(f"{source}: layers[{i}] must be a mapping with type 'conv' or 'maxpool'")
        spec = _section(LayerSpec, entry, f"{source}: layers[{i}]")
        if spec.type == "conv" and spec.channels <= 0:
            raise ConfigError(f"{source}: layers[{i}]: a conv needs 'channels' > 0")
        if spec.type == "maxpool" and "kernel" not in entry:
            spec = LayerSpec(type="maxpool", kernel=2)
        layers.append(spec)
    train = _section(TrainSpec, doc.get("train") or {}, f"{source}: train")
    cfg = ModelConfig(**{k: v for k, v in doc.items() if k not in ("layers", "train")},
                      layers=tuple(layers), train=train, source=source)
    if cfg.scaling not in ("po2", "float"):
        raise ConfigError(f"{source}: scaling must be 'po2' or 'float', got {cfg.scaling!r}")
    if not 2 <= cfg.act_bits <= 4:
        # Brevitas exports 1-bit quantizers as BipolarQuant (+-1), which is not a ReLU, so a >= 2.
        raise ConfigError(f"{source}: act_bits must be 2..4 (T = 2^a - 1 timesteps), got {cfg.act_bits}")
    if cfg.grid < 1 or cfg.input_size % (cfg.input_size // max(cfg.grid, 1)):
        raise ConfigError(f"{source}: input_size {cfg.input_size} is not divisible by the network stride")
    return cfg


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
