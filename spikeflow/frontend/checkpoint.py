"""Checkpoints: the config, class names, weights and training state in one torch file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from spikeflow.errors import CheckpointError
from spikeflow.frontend.config import ModelConfig, config_from_dict
from spikeflow.frontend.model import QuantDetector


def save_checkpoint(path: str | Path, model: QuantDetector, **state: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": "spikeflow-checkpoint-1", "config": model.cfg.to_dict(), "names": model.names,
           "state_dict": model.state_dict(), **state}
    tmp = path.with_suffix(".tmp")
    torch.save(doc, tmp)
    tmp.replace(path)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        doc = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the file is not ours
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != "spikeflow-checkpoint-1":
        raise CheckpointError(f"{path}: not a spikeflow checkpoint")
    return doc


def load_detector(path: str | Path) -> tuple[QuantDetector, dict[str, Any]]:
    """Rebuild the detector of a checkpoint; returns it (eval mode) and the whole checkpoint dict."""
    doc = read_checkpoint(path)
    cfg = config_from_dict(doc["config"], source=f"{path} (config)")
    model = QuantDetector(cfg, doc["names"])
    try:
        model.load_state_dict(doc["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not match its config: {exc}") from exc
    return model.eval(), doc


def data_reference(data: str | Path | None) -> str:
    """How a checkpoint records a dataset argument: "synthetic", or the file's absolute path."""
    if data is None or str(data) == "synthetic":
        return "synthetic"
    return str(Path(data).resolve())


def resolve_stored_data(stored: str | None, checkpoint: str | Path) -> str | None:
    """A dataset path read from a checkpoint, usable from any folder.

    New checkpoints store absolute paths. Older ones stored the path as given on the command line: it is
    used as is when it exists from the current folder, else resolved against the checkpoint's folder.
    """
    if stored is None or stored == "synthetic":
        return stored
    path = Path(stored)
    if path.is_absolute() or path.exists():
        return stored
    beside = Path(checkpoint).resolve().parent / path
    return str(beside) if beside.exists() else stored


QUANTIZATION_KEYS = ("act_bits", "weight_bits", "head_weight_bits", "scaling")  # what QAT may change


def load_float_start(path: str | Path, cfg: ModelConfig) -> tuple[QuantDetector, dict[str, Any]]:
    """`cfg`'s detector with the float weights of a float-phase checkpoint (a run's float.pt), for `train
    --from-float`, and the checkpoint dict. The architecture must be the checkpoint's; the quantization (bits,
    scaling) may differ, since the float phase does not use it."""
    doc = read_checkpoint(path)
    if doc["state_dict"].get("quantized", torch.tensor(False)).item():
        raise CheckpointError(f"{path}: a QAT checkpoint; --from-float takes the float phase's checkpoint (a run's "
                              "float.pt)")
    mine, theirs = _architecture(cfg.to_dict()), _architecture(doc["config"])
    differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
    if differ:
        raise CheckpointError(f"{path}: its architecture differs from the config {cfg.source} in "
                              f"{', '.join(differ)}")
    model = QuantDetector(cfg, doc["names"])
    try:
        model.load_state_dict(doc["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the config {cfg.source}: {exc}") from exc
    return model, doc


def _architecture(config: dict[str, Any]) -> dict[str, Any]:
    """A config dict without its name, training section and quantization settings."""
    doc = {k: v for k, v in config.items() if k not in ("name", "train", *QUANTIZATION_KEYS)}
    doc["layers"] = [{k: v for k, v in layer.items() if k != "weight_bits"} for layer in config.get("layers", [])]
    return doc
