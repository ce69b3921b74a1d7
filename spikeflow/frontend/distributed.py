"""Training on several processes with torch.distributed (DDP): gloo on CPUs, NCCL on GPUs, started by torchrun.

    torchrun --nproc_per_node 2 -m spikeflow.cli train --config model/configs/default.yaml --out runs/ddp

Every rank walks the same global batches (the loader's seeded order) and takes its own contiguous slice of each;
DDP averages the gradients. So that N processes with a global batch B compute what one process computes with
batch B (up to the order of float sums), the batch-norm moments of the folded convolutions and the loss's
normalisers (matched predictions) are summed over all ranks, and each rank's loss is scaled by the world size
before DDP's average. Rank 0 alone writes checkpoints, reports and logs.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from spikeflow.errors import ConfigError


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (rank 0 of 1 when not distributed)."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """Rank 0: the process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def shard(self, batch_size: int) -> slice:
        """This rank's contiguous slice of a global batch of `batch_size` samples."""
        if batch_size % self.size:
            raise ConfigError(f"the batch size {batch_size} must be a multiple of the {self.size} training processes")
        per = batch_size // self.size
        return slice(self.rank * per, (self.rank + 1) * per)


def world() -> World:
    """The current World: from the initialised process group, else a single process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def start(device: torch.device) -> World:
    """Join the process group torchrun describes (WORLD_SIZE > 1 in the environment), else stay one process.

    The backend is NCCL for CUDA devices and gloo otherwise; each rank of a CUDA run takes the GPU LOCAL_RANK."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    if not dist.is_available():
        raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
    return world()


def stop() -> None:
    """Leave the process group, when one was joined. Unreachable DDP wrappers are collected first: a wrapper's
    destructor waits on its process group, and blocks forever once the group is gone."""
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def rank_device(device: torch.device) -> torch.device:
    """The device of this rank: its own GPU (LOCAL_RANK) in a distributed CUDA run."""
    if device.type == "cuda" and world().distributed:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def sum_over_ranks(x: torch.Tensor) -> torch.Tensor:
    """`x` summed over all ranks, differentiably (each rank's gradient flows back to its own share)."""
    if not world().distributed:
        return x
    from torch.distributed.nn.functional import all_reduce

    return all_reduce(x, op=dist.ReduceOp.SUM)


def channel_moments(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and biased variance of an NCHW tensor over the global batch (every rank's samples).

    A single process computes them as torch's mean and var do; distributed, as the global sums of y and of
    (y - mean)^2 divided by the global count (two all-reduces), which equal them up to float summation order."""
    if not world().distributed:
        return y.mean(dim=(0, 2, 3)), y.var(dim=(0, 2, 3), unbiased=False)
    count = sum_over_ranks(torch.tensor(float(y.numel() // y.shape[1]), device=y.device))
    mean = sum_over_ranks(y.sum(dim=(0, 2, 3))) / count
    var = sum_over_ranks(((y - mean.view(1, -1, 1, 1)) ** 2).sum(dim=(0, 2, 3))) / count
    return mean, var


def global_mean(values: torch.Tensor) -> torch.Tensor:
    """The mean of `values` over every rank's elements, scaled so that DDP's gradient average over ranks gives the
    gradient of the global mean (a rank's share: its sum x world size / global count). A plain mean when single."""
    w = world()
    if not w.distributed:
        return values.mean()
    with torch.no_grad():
        count = sum_over_ranks(torch.tensor(float(values.numel()), device=values.device))
    return values.sum() * w.size / count.clamp(min=1.0)


def wrap(model: torch.nn.Module, w: World, device: torch.device) -> torch.nn.Module:
    """The module a training step calls: DDP around `model` in a distributed run (wrapped again whenever a phase
    changes the parameters), else the model itself."""
    if not w.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    # the float phase leaves the quantizers' parameters unused
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)


def barrier() -> None:
    """Wait for every rank (a no-op in a single process)."""
    if world().distributed:
        dist.barrier()
