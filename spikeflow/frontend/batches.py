"""The training batches of one epoch: the loader's seeded order, this rank's slice of every global batch, read ahead
by worker processes, from any batch on (so that a resumed run continues with the batch it stopped before).

The order of an epoch and the horizontal flips of its samples depend only on (seed, epoch, batch), never on how
many batches were read before, how many worker processes read them or how many training processes share them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from spikeflow.data.loader import SampleLoader, collate
from spikeflow.data.sample import DetectionDataset, Sample
from spikeflow.frontend.distributed import World


def flips(seed: int, epoch: int, batch: int, size: int) -> np.ndarray:
    """Which samples of global batch `batch` (of `size`) are flipped horizontally: half of them on average."""
    return np.random.default_rng([seed, epoch, batch, 1]).random(size) < 0.5


def flip_batch(images: torch.Tensor, samples: list[Sample], flipped: np.ndarray) -> list:
    """Flip images[i] (in place) and its boxes where flipped[i]; returns the (boxes, labels) targets."""
    width = images.shape[-1]
    targets = []
    for i, s in enumerate(samples):
        boxes = s.boxes
        if flipped[i]:
            images[i] = images[i].flip(-1)
            boxes = boxes.copy()
            boxes[:, [0, 2]] = width - s.boxes[:, [2, 0]]
        targets.append((boxes, s.labels))
    return targets


class _EpochBatches(Dataset):
    """Item b: this rank's share of global batch b, collated (read in a worker process when there are workers)."""

    def __init__(self, dataset: DetectionDataset, order: np.ndarray, batch_size: int, part: slice) -> None:
        self.dataset, self.order, self.batch_size, self.part = dataset, order, batch_size, part

    def __len__(self) -> int:
        return len(self.order) // self.batch_size

    def __getitem__(self, b: int) -> tuple[torch.Tensor, list[Sample]]:
        batch = self.order[b * self.batch_size:(b + 1) * self.batch_size][self.part]
        return collate([self.dataset[int(i)] for i in batch])


@dataclass
class LoadTimer:
    """Seconds the training loop waited for batches, against the seconds of the whole epoch."""

    started: float = field(default_factory=time.perf_counter)
    waited: float = 0.0
    images: int = 0

    def summary(self) -> dict[str, float]:
        seconds = max(time.perf_counter() - self.started, 1e-9)
        return {"seconds": round(seconds, 3), "images": self.images, "images_per_s": round(self.images / seconds, 2),
                "load_wait_fraction": round(self.waited / seconds, 4)}


@dataclass(frozen=True)
class TrainBatches:
    """The global batches of every epoch over `dataset` (the last partial batch dropped)."""

    dataset: DetectionDataset
    batch_size: int  # the global batch: every rank's samples together
    seed: int
    world: World = World()
    workers: int = 0

    def __len__(self) -> int:
        return len(self.dataset) // self.batch_size

    def epoch(self, epoch: int, start: int = 0,
              timer: LoadTimer | None = None) -> Iterator[tuple[int, torch.Tensor, list]]:
        """(batch index, images, targets) of epoch `epoch` from batch `start` on, flipped, this rank's slice."""
        part = self.world.shard(self.batch_size)
        order = SampleLoader(self.dataset, self.batch_size, shuffle=True, seed=self.seed)
        order.set_epoch(epoch)
        batches = _EpochBatches(self.dataset, order.order(), self.batch_size, part)
        indices = list(range(start, len(batches)))
        if self.workers > 0 and indices:
            reader = iter(DataLoader(torch.utils.data.Subset(batches, indices), batch_size=None, shuffle=False,
                                     num_workers=self.workers, prefetch_factor=2, persistent_workers=False))
        else:
            reader = (batches[b] for b in indices)
        for b in indices:
            t0 = time.perf_counter()
            images, samples = next(reader)
            if timer is not None:
                timer.waited += time.perf_counter() - t0
                timer.images += len(samples) * self.world.size
            yield b, images, flip_batch(images, samples, flips(self.seed, epoch, b, self.batch_size)[part])
