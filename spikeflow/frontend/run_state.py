"""Where a training run stands, saved in last.pt so that `--resume` continues exactly: the epoch and the next batch
in it, the optimizer's state (and which phase's optimizer it is), the running loss, the seconds spent, the metrics
and the per-epoch log. The data order and the flips are functions of (seed, epoch, batch) and the learning rate of
the step, so these are all a resumed run needs to end where an uninterrupted one does."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from spikeflow.errors import CheckpointError
from spikeflow.frontend.distributed import World

STATE_VERSION = 1


@dataclass
class RunState:
    epoch: int = 0  # the epoch to run (or continue)
    batch: int = 0  # the next global batch of that epoch
    phase: str = "float"  # the phase of the optimizer state below
    optimizer: dict[str, Any] | None = None  # its state_dict, consumed by restore_optimizer
    running: float = 0.0  # the running loss at `batch`
    seconds: float = 0.0  # training seconds spent before this call
    metrics: dict[str, float] = field(default_factory=dict)
    epochs: list[dict[str, Any]] = field(default_factory=list)  # one entry per finished epoch
    processes: int = 1  # training processes of the last call (torchrun's WORLD_SIZE)

    def where(self) -> str:
        return f"epoch {self.epoch + 1}, batch {self.batch}"

    def update(self, epoch: int, next_batch: int, optimizer: torch.optim.Optimizer | None, running: float,
               seconds: float, phase: str) -> None:
        self.epoch, self.batch, self.running, self.seconds, self.phase = epoch, next_batch, running, seconds, phase
        self.optimizer = optimizer.state_dict() if optimizer is not None else None

    def next_epoch(self) -> None:
        self.epoch, self.batch, self.running, self.optimizer = self.epoch + 1, 0, 0.0, None

    def log_epoch(self, epoch: int, phase: str, loss: float, timing: dict[str, float]) -> None:
        self.epochs.append({"epoch": epoch + 1, "phase": phase, "loss": round(loss, 5), **timing})

    def restore_optimizer(self, optimizer: torch.optim.Optimizer, phase: str) -> None:
        """Load the saved optimizer state into `optimizer` when it belongs to this phase (once)."""
        if self.optimizer is not None and self.phase == phase:
            optimizer.load_state_dict(self.optimizer)
        self.optimizer = None

    def to_dict(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "epoch": self.epoch, "batch": self.batch, "phase": self.phase,
                "optimizer": self.optimizer, "running": self.running, "seconds": self.seconds,
                "epochs": self.epochs, "processes": self.processes, "torch_rng": torch.get_rng_state()}

    @classmethod
    def from_checkpoint(cls, doc: dict[str, Any], path: Path, batch_size: int, world: World) -> RunState:
        """The state of a last.pt; one written before run states were saved resumes at the next epoch with a fresh
        optimizer, and says so."""
        metrics = dict(doc.get("metrics", {}))
        saved = doc.get("train_state")
        if saved is None:
            print(f"note: {path} holds no optimizer state or batch position (an older checkpoint): resuming at "
                  f"epoch {doc['epoch'] + 2} with a fresh optimizer, so the run will not match an uninterrupted one",
                  file=sys.stderr)
            return cls(epoch=doc["epoch"] + 1, metrics=metrics)
        if saved.get("version") != STATE_VERSION:
            raise CheckpointError(f"{path}: training state version {saved.get('version')!r}; this spikeflow "
                                  f"reads version {STATE_VERSION}")
        stored_batch = doc.get("batch_size")
        if stored_batch is not None and stored_batch != batch_size:
            raise CheckpointError(f"{path}: trained with a global batch of {stored_batch}, now {batch_size}: "
                                  "resume with the same config and data")
        if world.size > 1 and batch_size % world.size:
            raise CheckpointError(f"{path}: the global batch {batch_size} does not split over {world.size} "
                                  "processes")
        torch.set_rng_state(saved["torch_rng"])
        return cls(epoch=saved["epoch"], batch=saved["batch"], phase=saved["phase"], optimizer=saved["optimizer"],
                   running=saved["running"], seconds=saved["seconds"], metrics=metrics,
                   epochs=list(saved["epochs"]))
