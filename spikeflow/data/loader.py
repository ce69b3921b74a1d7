"""Pick a dataset from a CLI argument, batch samples into tensors, iterate over batches."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spikeflow.data.coco import CocoDataset
from spikeflow.data.sample import DetectionDataset, Sample
from spikeflow.data.synthetic import SyntheticDetection
from spikeflow.data.yolo import YoloDataset
from spikeflow.errors import DatasetError
from spikeflow.ir import PIXEL_SCALE

if TYPE_CHECKING:
    import torch

SYNTHETIC_COUNT = 2000


def build_dataset(
    data: str | Path | None,
    split: str,
    input_size: int,
    synthetic_count: int = SYNTHETIC_COUNT,
    seed: int = 0,
    strict: bool = False,
) -> DetectionDataset:
    """None or "synthetic" -> SyntheticDetection; .yaml/.yml -> YoloDataset; .json -> CocoDataset."""
    if data is None or str(data) == "synthetic":
        return SyntheticDetection(split, input_size, synthetic_count, seed)
    path = Path(data)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return YoloDataset(path, split, input_size, strict=strict)
    if suffix == ".json":
        return CocoDataset(path, input_size, strict=strict)
    raise DatasetError(f"{data}: unknown dataset kind (expected 'synthetic', a .yaml/.yml or a COCO .json)")


def collate(samples: list[Sample]) -> tuple[torch.Tensor, list[Sample]]:
    """Stack images as float32 pixel * PIXEL_SCALE (pixel / 256, exact) of shape [B, 3, H, W]; the samples carry
    the targets."""
    import torch  # here, so that reading datasets needs no torch

    if not samples:
        raise ValueError("collate needs at least one sample")
    images = torch.from_numpy(np.stack([s.image for s in samples]))
    return images.to(torch.float32) * PIXEL_SCALE, samples


class SampleLoader:
    """Batches of a dataset in order, or shuffled deterministically from (seed, epoch)."""

    def __init__(
        self,
        dataset: DetectionDataset,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset, self.batch_size, self.shuffle, self.seed, self.drop_last = (
            dataset,
            batch_size,
            shuffle,
            seed,
            drop_last,
        )
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the shuffle order of the next iteration."""
        self.epoch = epoch

    def order(self) -> np.ndarray:
        """Dataset indices in the order this epoch visits them."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, list[Sample]]]:
        order = self.order()
        for b in range(len(self)):
            batch = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield collate([self.dataset[int(i)] for i in batch])
