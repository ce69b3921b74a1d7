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
from spikeflow.data.voc import VocDataset
from spikeflow.data.yolo import YoloDataset, read_data_yaml
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
    val_data: str | Path | None = None,
) -> DetectionDataset:
    """The `split` of `data`: None or "synthetic" -> SyntheticDetection; .yaml/.yml -> YoloDataset, VocDataset
    when the YAML says `format: voc`, or CocoDataset when the YAML's split entry is a COCO .json; .json ->
    CocoDataset.

    `val_data`, when given, is the dataset of every split but "train". A lone COCO JSON has no splits: it
    serves train and val alike, and the val set's report carries a note saying so.
    """
    source = val_data if val_data is not None and split != "train" else data
    ds = open_dataset(source, split, input_size, synthetic_count, seed, strict)
    shared = coco_json(source, split) if split != "train" else None
    if shared is not None and shared == coco_json(data, "train"):
        ds.report.note(f"{shared}: one COCO JSON serves as both train and {split} set (the same {len(ds)} "
                       f"images), so its mAP is measured on training images; for a separate {split} set, name "
                       f"both JSONs in a data YAML ('train: train.json', '{split}: {split}.json') and give it as "
                       f"--data or as a build config's 'data:' (train and eval also take --val-data "
                       f"{split.upper()}.json)")
    return ds


def check_data_argument(data: str | Path | None, option: str) -> None:
    """Raise DatasetError naming `option` when a dataset argument is neither None, 'synthetic', nor an existing
    data YAML or COCO JSON; cheap, so the command line checks it before the heavy imports."""
    if data is None or str(data) == "synthetic":
        return
    path = Path(data)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise DatasetError(f"{option} {data}: unknown dataset kind (expected 'synthetic', a .yaml/.yml data YAML "
                           "or a COCO .json)")
    if not path.is_file():
        raise DatasetError(f"{option} {data}: file not found")


def coco_json(data: str | Path | None, split: str) -> Path | None:
    """The resolved COCO JSON that `split` of `data` reads, or None when it is not a COCO dataset."""
    if data is None:
        return None
    path = Path(data)
    if path.suffix.lower() == ".json":
        return path.resolve()
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            coco = coco_split(path, split)
        except DatasetError:  # reported when the split is opened
            return None
        return coco[0].resolve() if coco is not None else None
    return None


def open_dataset(
    data: str | Path | None, split: str, input_size: int, synthetic_count: int, seed: int, strict: bool
) -> DetectionDataset:
    """The `split` of one dataset argument, as build_dataset describes it (no val_data, no notes)."""
    if data is None or str(data) == "synthetic":
        return SyntheticDetection(split, input_size, synthetic_count, seed)
    path = Path(data)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        if str(read_data_yaml(path).get("format", "")).lower() == "voc":
            return VocDataset(path, split, input_size, strict=strict)
        coco = coco_split(path, split)
        if coco is not None:
            json_path, image_dir = coco
            return CocoDataset(json_path, input_size, image_dir=image_dir, strict=strict, split=split)
        return YoloDataset(path, split, input_size, strict=strict)
    if suffix == ".json":
        return CocoDataset(path, input_size, strict=strict, split=split)
    raise DatasetError(f"{data}: unknown dataset kind (expected 'synthetic', a .yaml/.yml or a COCO .json)")


def coco_split(yaml_path: Path, split: str) -> tuple[Path, Path | None] | None:
    """(COCO JSON, image folder or None) of `split` in a data YAML naming COCO JSONs; None for a YOLO YAML.

    The YAML is COCO when it says `format: coco` or its split entry ends in .json; paths are relative to
    its `path` key (default: the YAML's folder); `<split>_images` optionally names the image folder.
    """
    data = read_data_yaml(yaml_path)
    entry = data.get(split)
    is_json = isinstance(entry, str) and entry.lower().endswith(".json")
    fmt = str(data.get("format", "")).lower()
    if fmt not in ("", "yolo", "coco", "voc"):
        raise DatasetError(f"{yaml_path}: key 'format' must be 'yolo', 'coco' or 'voc', got {data['format']!r}")
    if fmt == "voc" or (fmt != "coco" and not is_json):
        return None
    if entry is None:
        raise DatasetError(f"{yaml_path}: missing key '{split}'")
    if not is_json:
        raise DatasetError(f"{yaml_path}: key '{split}' must name a COCO .json file (format: coco), got {entry!r}")
    root = yaml_path.parent / str(data.get("path") or ".")
    images = data.get(f"{split}_images")
    return root / entry, (root / str(images) if images is not None else None)


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
