"""model_info.json: what the export step knew of the model, for the steps after it (no torch needed to read)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from spikeflow.errors import StepError

SYNTHETIC = "synthetic"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    input_shape: tuple[int, int, int]  # C, H, W
    names: tuple[str, ...]  # class names (empty when unknown)
    anchors: tuple[tuple[float, float], ...]  # head anchors (w, h) in input pixels (empty when unknown)
    data: str  # the dataset the model was trained or is validated on: "synthetic" or an absolute path
    source: str  # the checkpoint or QONNX file the build's model came from
    synthetic_val_images: int = 256  # size of the built-in validation set, when data is synthetic
    seed: int = 0  # seed of the built-in dataset

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ModelInfo:
        path = Path(path)
        if not path.is_file():
            raise StepError(f"{path} is missing: the export step writes it")
        doc: dict[str, Any] = json.loads(path.read_text())
        known = {f.name for f in fields(cls)}
        if set(doc) - known or not {"name", "input_shape", "names", "anchors", "data", "source"} <= set(doc):
            raise StepError(f"{path}: not a model_info.json of this spikeflow; run the export step again")
        doc["input_shape"] = tuple(doc["input_shape"])
        doc["names"] = tuple(doc["names"])
        doc["anchors"] = tuple(tuple(a) for a in doc["anchors"])
        return cls(**doc)
