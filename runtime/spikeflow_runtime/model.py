"""What the runtime knows of a build: the stream format, the head's decode parameters, the clock and the expected
cycles per frame. The flow writes it as deploy/model.json (spikeflow.driver.model); the runtime reads nothing else
of the build."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spikeflow_runtime.decode import HeadParams
from spikeflow_runtime.errors import ConfigError
from spikeflow_runtime.stream import StreamFormat

MODEL_FILE = "model.json"
MODEL_VERSION = 1
MIN_TIMEOUT_S = 2.0  # a device's timeout never goes below this, however few cycles the frames need


@dataclass(frozen=True)
class DeployedModel:
    """A build as the device's host sees it. `head` is the first (or only) head; `heads` all of them, in the
    network's output order (default: `head` alone). model.json holds `head` for one head, `heads` for several."""

    name: str
    stream: StreamFormat
    head: HeadParams
    clock_mhz: float
    estimated_cycles_per_frame: int
    limit_cycles_per_frame: int  # a frame slower than this means a stuck device (the flow's cycle limit)
    heads: tuple[HeadParams, ...] = ()

    def __post_init__(self) -> None:
        if not self.heads:
            object.__setattr__(self, "heads", (self.head,))
        elif self.heads[0] != self.head:
            raise ConfigError(f"model {self.name!r}: head is not the first of heads")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.head.names)

    @property
    def input_size(self) -> int:
        return self.stream.height

    def timeout_s(self, frames: int, clock_mhz: float | None = None) -> float:
        """Seconds a device may take for `frames` back-to-back frames before it is declared stuck."""
        clock = clock_mhz or self.clock_mhz
        return max(MIN_TIMEOUT_S, (frames + 2) * self.limit_cycles_per_frame / (clock * 1e6))

    def to_dict(self) -> dict[str, Any]:
        heads = {"head": self.head.to_dict()} if len(self.heads) == 1 else \
            {"heads": [h.to_dict() for h in self.heads]}
        return {"version": MODEL_VERSION, "name": self.name, "stream": self.stream.as_dict(), **heads,
                "clock_mhz": self.clock_mhz,
                "estimated_cycles_per_frame": self.estimated_cycles_per_frame,
                "limit_cycles_per_frame": self.limit_cycles_per_frame}

    @classmethod
    def from_dict(cls, doc: dict[str, Any], where: str = MODEL_FILE) -> DeployedModel:
        if doc.get("version") != MODEL_VERSION:
            raise ConfigError(f"{where}: model file version {doc.get('version')!r}, this runtime reads version "
                              f"{MODEL_VERSION}: deploy the build again with this spikeflow")
        missing = [k for k in ("name", "stream", "clock_mhz", "estimated_cycles_per_frame",
                               "limit_cycles_per_frame") if k not in doc]
        if ("head" in doc) == ("heads" in doc):
            missing.append("head (one head) or heads (a list, several)" if "head" not in doc else
                           "nothing: it has both head and heads, keep one")
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}")
        stream = StreamFormat.from_dict(doc["stream"], f"{where}: stream")
        heads = _heads(doc, where)
        head = heads[0]
        shapes = stream.head_shapes
        if len(heads) != len(shapes):
            raise ConfigError(f"{where}: {len(heads)} head(s) but the stream carries {len(shapes)}")
        for i, (h, shape) in enumerate(zip(heads, shapes)):
            if (h.channels, h.grid, h.grid) != tuple(shape) or h.input_size != stream.height:
                which = "the head" if len(heads) == 1 else f"head {i}"
                raise ConfigError(f"{where}: {which} ({h.channels} channels on a {h.grid}x{h.grid} grid, "
                                  f"{h.input_size} px input) does not match the stream's output {list(shape)} and "
                                  f"input {stream.height} px")
        try:
            return cls(str(doc["name"]), stream, head, float(doc["clock_mhz"]), int(doc["estimated_cycles_per_frame"]),
                       int(doc["limit_cycles_per_frame"]), heads=heads)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    def save(self, folder: Path) -> Path:
        path = Path(folder) / MODEL_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> DeployedModel:
        path = Path(folder) / MODEL_FILE
        if not path.is_file():
            raise ConfigError(f"{path} is missing: {folder} is not a spikeflow deploy folder (make one with "
                              f"'spikeflow build BUILD --from deploy --to deploy')")
        try:
            doc = json.loads(path.read_text())
        except ValueError as exc:
            raise ConfigError(f"{path}: not JSON ({exc})") from exc
        return cls.from_dict(doc, str(path))


def _heads(doc: dict[str, Any], where: str) -> tuple[HeadParams, ...]:
    """The HeadParams of `head`, or of each entry of the `heads` list (at least one)."""
    if "head" in doc:
        return (HeadParams.from_dict(doc["head"], where=f"{where}: head"),)
    entries = doc["heads"]
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: key 'heads' must be a non-empty list of heads, got {entries!r}")
    return tuple(HeadParams.from_dict(e, where=f"{where}: heads[{i}]") for i, e in enumerate(entries))
