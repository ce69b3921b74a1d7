"""The build config: what to build, for which board, and which steps to run (YAML, saved into the build folder).

    model:                      # exactly one source:
      checkpoint: model/tiny.pt #   a spikeflow checkpoint (torch)
      # qonnx: path/model.onnx  #   a QONNX model (no torch model code needed)
      # train: model/configs/tiny.yaml  # a model config: the train step trains it first
    data: synthetic             # validation frames: 'synthetic', a YOLO data YAML, a COCO JSON or a folder of
                                # images; default: the dataset the checkpoint was trained on
    names: [circle, square]     # class names, for a QONNX source (a checkpoint knows its own)
    board: zcu104               # pynq-z2 | zcu104 | u50 | u250 (spikeflow.hw.boards)
    clock_mhz: 200              # default: the board's
    target_fps: 1600            # the folding target (the fold step)
    folding: my_folding.json    # optional: a folding file instead of the fold step's choice
    frames: 32                  # verification frames, for every stage
    seed: 0                     # random idle and back-pressure of the cocotb run
    steps: [export, frames, convert, verify, fold, rtl, rtlsim, report]

Relative paths are relative to the YAML file. Unknown keys, boards and steps are ConfigErrors that name them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from spikeflow.errors import ConfigError
from spikeflow.hw.boards import DEFAULT_BOARD, Board

SourceKind = Literal["checkpoint", "qonnx", "train"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("checkpoint", "qonnx", "train")
DEFAULT_FRAMES = 32


@dataclass(frozen=True)
class ModelSource:
    """Where the build's model comes from."""

    kind: SourceKind
    path: Path

    def as_dict(self) -> dict[str, str]:
        return {self.kind: str(self.path)}


@dataclass(frozen=True)
class BuildConfig:
    model: ModelSource
    data: str | None = None
    names: tuple[str, ...] = ()
    board: Board = DEFAULT_BOARD
    clock_mhz: float | None = None
    target_fps: float | None = None
    folding: Path | None = None
    frames: int = DEFAULT_FRAMES
    seed: int = 0
    steps: tuple[str, ...] = ()
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        from spikeflow.flow.registry import default_steps, step_names

        check_numbers(vars(self), lambda key: f"{self.source}: {key}")
        if not self.steps:
            object.__setattr__(self, "steps", default_steps(self.model.kind))
        known = step_names()
        for step in self.steps:
            if step not in known:
                raise ConfigError(f"{self.source}: unknown step {step!r} (steps: {', '.join(known)})")

    @property
    def clock(self) -> float:
        """The clock in MHz: the config's, else the board's default."""
        return self.clock_mhz if self.clock_mhz is not None else self.board.spec.clock_mhz

    def with_overrides(self, **changes: Any) -> BuildConfig:
        """A copy with the given fields replaced (None values are ignored), checked again."""
        changes = {k: v for k, v in changes.items() if v is not None}
        check_numbers(changes, option_name)  # an override comes from the command line: name its option
        return replace(self, **changes) if changes else self

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"model": self.model.as_dict(), "data": self.data, "names": list(self.names),
                               "board": self.board.value, "clock_mhz": self.clock_mhz, "target_fps": self.target_fps,
                               "folding": str(self.folding) if self.folding else None, "frames": self.frames,
                               "seed": self.seed, "steps": list(self.steps)}
        return {k: v for k, v in doc.items() if v is not None and v != []}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# the build config as run (source: {self.source})\n"
                        + yaml.safe_dump(self.as_dict(), sort_keys=False))
        return path


def check_numbers(values: Mapping[str, Any], where: Callable[[str], str]) -> None:
    """Raise ConfigError when `values` holds frames < 1, clock_mhz <= 0 or target_fps <= 0; `where(key)` names the
    key as the user gave it (a config file's key, or a command-line option)."""
    frames = values.get("frames")
    if frames is not None and frames < 1:
        raise ConfigError(f"{where('frames')} must be >= 1, got {frames}")
    for key in ("clock_mhz", "target_fps"):
        value = values.get(key)
        if value is not None and value <= 0:
            raise ConfigError(f"{where(key)} must be > 0, got {value}")


def option_name(key: str) -> str:
    """The command-line option that overrides a build config key: clock_mhz -> --clock-mhz."""
    return "--" + key.replace("_", "-")


_KEYS = {f.name for f in fields(BuildConfig)} - {"source"}


def _resolve(base: Path, value: Any, where: str) -> Path:
    if not isinstance(value, str | Path) or not str(value):
        raise ConfigError(f"{where}: expected a path, got {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _model_source(doc: Any, base: Path, where: str) -> ModelSource:
    if isinstance(doc, str):  # a bare path: a checkpoint (.pt) or a QONNX model (.onnx)
        kind: SourceKind = "qonnx" if doc.endswith(".onnx") else "checkpoint"
        return ModelSource(kind, _resolve(base, doc, f"{where}: model"))
    if not isinstance(doc, dict) or len(doc) != 1 or next(iter(doc)) not in SOURCE_KINDS:
        raise ConfigError(f"{where}: model must be one of {{checkpoint: PATH}}, {{qonnx: PATH}}, {{train: "
                          f"MODEL_CONFIG.yaml}}, got {doc!r}")
    kind, value = next(iter(doc.items()))
    return ModelSource(kind, _resolve(base, value, f"{where}: model.{kind}"))


def build_config_from_dict(doc: Any, base: str | Path = ".", source: str = "<memory>") -> BuildConfig:
    """A BuildConfig from a parsed YAML mapping; relative paths are taken relative to `base`."""
    base = Path(base).resolve()
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    for key in doc:
        if key not in _KEYS:
            raise ConfigError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
    if "model" not in doc:
        raise ConfigError(f"{source}: missing key 'model' (a checkpoint, qonnx or train source)")
    values: dict[str, Any] = {"model": _model_source(doc["model"], base, source), "source": source}
    data = doc.get("data")
    if data is not None:
        data = str(data)
        values["data"] = data if data == "synthetic" else str(_resolve(base, data, f"{source}: data"))
    if "names" in doc:
        if not isinstance(doc["names"], list) or not all(isinstance(n, str) for n in doc["names"]):
            raise ConfigError(f"{source}: names must be a list of class names")
        values["names"] = tuple(doc["names"])
    if "board" in doc:
        values["board"] = Board.parse(doc["board"], f"{source}: board")
    for key, kind in (("clock_mhz", float), ("target_fps", float), ("frames", int), ("seed", int)):
        if doc.get(key) is not None:
            try:
                values[key] = kind(doc[key])
            except (TypeError, ValueError):
                raise ConfigError(f"{source}: {key} must be a number, got {doc[key]!r}") from None
    if doc.get("folding") is not None:
        values["folding"] = _resolve(base, doc["folding"], f"{source}: folding")
    if "steps" in doc:
        if not isinstance(doc["steps"], list) or not doc["steps"]:
            raise ConfigError(f"{source}: steps must be a non-empty list of step names")
        values["steps"] = tuple(str(s) for s in doc["steps"])
    return BuildConfig(**values)


def load_build_config(path: str | Path) -> BuildConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"build config not found: {path}")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    return build_config_from_dict(doc, path.parent, str(path))
