"""One detection sample, the dataset protocol and the report of skipped items."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from spikeflow.data.letterbox import Letterbox
from spikeflow.errors import DatasetError

log = logging.getLogger(__name__)


@dataclass
class Sample:
    """A letterboxed CHW uint8 RGB image with its xyxy boxes (model-input pixels) and class ids."""

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    letterbox: Letterbox
    source: str


@dataclass
class LoadReport:
    """What a dataset skipped while scanning: one "file:line: reason" entry per skipped item."""

    skipped: list[str] = field(default_factory=list)
    kept: int = 0
    source: str = ""

    def skip(self, message: str, strict: bool) -> None:
        """Record a bad item, or raise DatasetError with the same message when strict."""
        if strict:
            raise DatasetError(message)
        log.warning("skipped %s", message)
        self.skipped.append(message)

    def summary(self, limit: int = 5) -> str:
        """One line of counts, then up to `limit` skip reasons."""
        where = f"{self.source}: " if self.source else ""
        head = f"{where}{self.kept} images kept, {len(self.skipped)} skipped"
        lines = [head, *(f"  {s}" for s in self.skipped[:limit])]
        if len(self.skipped) > limit:
            lines.append(f"  ... and {len(self.skipped) - limit} more")
        return "\n".join(lines)


class DetectionDataset(Protocol):
    """What training, evaluation and calibration code needs from a dataset."""

    names: list[str]
    input_size: int
    report: LoadReport

    def __len__(self) -> int: ...

    def __getitem__(self, i: int) -> Sample: ...


def empty_targets() -> tuple[np.ndarray, np.ndarray]:
    """Boxes [0, 4] float32 and labels [0] int64."""
    return np.zeros((0, 4), np.float32), np.zeros((0,), np.int64)


def check_index(i: int, n: int) -> int:
    """Normalise a possibly negative index, raising IndexError when out of range."""
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise IndexError(f"index {i} out of range for dataset of {n}")
    return j
