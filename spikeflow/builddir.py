"""The layout of a build directory build/<name>/: one place that names every file a stage reads or writes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spikeflow.errors import SpikeflowError

FLOW_JSON = "flow.json"


@dataclass(frozen=True)
class BuildDir:
    root: Path

    @classmethod
    def of(cls, path: str | Path) -> BuildDir:
        return cls(Path(path))

    @property
    def name(self) -> str:
        return self.root.resolve().name

    @property
    def onnx(self) -> Path:
        return self.root / "model.onnx"

    @property
    def ir(self) -> Path:
        return self.root / "ir"

    @property
    def rtl(self) -> Path:
        return self.root / "rtl"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def flow_json(self) -> Path:
        return self.root / FLOW_JSON

    def read_flow(self) -> dict[str, Any]:
        """What export recorded: checkpoint, data, class names, input size and the head's anchors."""
        if not self.flow_json.is_file():
            raise SpikeflowError(f"{self.flow_json} is missing: run 'spikeflow export CHECKPOINT --out "
                                 f"{self.onnx}' first")
        return json.loads(self.flow_json.read_text())

    def write_flow(self, values: dict[str, Any]) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        doc = json.loads(self.flow_json.read_text()) if self.flow_json.is_file() else {}
        doc.update(values)
        self.flow_json.write_text(json.dumps(doc, indent=2) + "\n")
        return self.flow_json
