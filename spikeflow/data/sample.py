"""One detection sample, the dataset protocol and the report of skipped items."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from spikeflow.data.letterbox import Letterbox, letterbox_image, open_rgb
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
    """What a dataset skipped while scanning: one "file:line: reason" entry and one short reason key per item.

    `notes` holds remarks about the dataset as a whole (e.g. one COCO JSON serving as train and val). `boxes`
    counts the boxes of the kept images (None: not counted, as for the built-in set, which draws them on demand)
    and `without_boxes` the kept images that have none; `labels_hint` says where the labels were looked for.
    """

    skipped: list[str] = field(default_factory=list)
    kept: int = 0
    source: str = ""
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    boxes: int | None = None
    without_boxes: int = 0
    labels_hint: str = ""

    def count_boxes(self, per_image: Iterable[int]) -> None:
        """Record the box count of each kept image."""
        counts = list(per_image)
        self.boxes, self.without_boxes = sum(counts), sum(1 for n in counts if n == 0)

    def require_boxes(self, what: str) -> None:
        """Raise DatasetError when the boxes were counted and there are none (`what`: "the training set", ...)."""
        if self.boxes == 0:
            hint = f": {self.labels_hint}" if self.labels_hint else ""
            raise DatasetError(f"{what} {self.source} has {self.kept} images and no boxes{hint}")

    def skip(self, message: str, strict: bool, reason: str = "other") -> None:
        """Record a bad item under a short `reason` key, or raise DatasetError with the message when strict."""
        if strict:
            raise DatasetError(message)
        log.debug("skipped %s", message)  # shown in summary(), once: not also as a warning
        self.skipped.append(message)
        self.reasons.append(reason)

    def note(self, message: str) -> None:
        """Record a remark about the whole dataset (summary() shows it)."""
        log.debug("%s", message)
        self.notes.append(message)

    def by_reason(self) -> dict[str, int]:
        """Skipped items counted by reason key, most frequent first."""
        return dict(Counter(self.reasons).most_common())

    def as_dict(self, limit: int = 5) -> dict[str, Any]:
        """Counts for a JSON report: kept, skipped, by_reason, the first `limit` entries, source and notes."""
        return {"kept": self.kept, "skipped": len(self.skipped), "by_reason": self.by_reason(),
                "first": self.skipped[:limit], "source": self.source, "notes": list(self.notes),
                "boxes": self.boxes, "images_without_boxes": self.without_boxes if self.boxes is not None else None}

    def summary(self, limit: int = 5, notes: bool = True) -> str:
        """One line of counts (by reason), then up to `limit` skip entries and (when `notes`) the notes."""
        where = f"{self.source}: " if self.source else ""
        reasons = ", ".join(f"{k} {v}" for k, v in self.by_reason().items())
        head = f"{where}{self.kept} images kept, {len(self.skipped)} skipped" + (f" ({reasons})" if reasons else "")
        if self.boxes is not None:
            head += f"; {self.boxes} boxes" + (f", {self.without_boxes} images without any" if self.without_boxes
                                                else "")
        lines = [head, *(f"  {s}" for s in self.skipped[:limit])]
        if len(self.skipped) > limit:
            lines.append(f"  ... and {len(self.skipped) - limit} more")
        lines += [f"  note: {n}" for n in self.notes] if notes else []
        return "\n".join(lines)


_PRINTED: set[str] = set()  # what print_once has printed in this process


def print_once(text: str, key: str | None = None, file: TextIO | None = None) -> None:
    """Print `text` unless this process already printed one with the same `key` (default: the text itself)."""
    key = text if key is None else key
    if key not in _PRINTED:
        _PRINTED.add(key)
        print(text, file=file or sys.stdout)


def print_report(report: LoadReport, label: str, file: TextIO | None = None) -> None:
    """`label: summary`, once per process: a build's steps open the same validation set several times (train,
    export, frames), and its skips are shown the first time only; notes do not make a summary new."""
    print_once(f"{label}: {report.summary()}", key=report.summary(notes=False), file=file)


class DetectionDataset(Protocol):
    """What training, evaluation and calibration code needs from a dataset."""

    names: list[str]
    input_size: int
    report: LoadReport

    def __len__(self) -> int: ...

    def __getitem__(self, i: int) -> Sample: ...


def image_error_reason(exc: BaseException) -> str:
    """The reason key of an image that failed to open or decode: "truncated-image" or "unreadable-image"."""
    return "truncated-image" if str(exc).startswith("image file is truncated") else "unreadable-image"


def empty_targets() -> tuple[np.ndarray, np.ndarray]:
    """Boxes [0, 4] float32 and labels [0] int64."""
    return np.zeros((0, 4), np.float32), np.zeros((0,), np.int64)


def check_index(i: int, n: int) -> int:
    """Normalise a possibly negative index, raising IndexError when out of range."""
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise IndexError(f"index {i} out of range for dataset of {n}")
    return j



class PixelBoxItem(Protocol):
    image: Path
    labels: np.ndarray  # int64 [N]
    boxes: np.ndarray  # float32 [N, 4] xyxy in the image's stored pixels


class PixelBoxDataset:
    """The COCO and VOC readers' indexing: items scanned up front, each image decoded (no EXIF turn: the boxes are
    in its stored pixels) and letterboxed when asked for."""

    input_size: int
    items: list[PixelBoxItem]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Sample:
        item = self.items[check_index(i, len(self.items))]
        try:
            img = open_rgb(item.image, exif=False)
        except Exception as e:
            raise DatasetError(f"{item.image}: unreadable image: {e}") from None
        frame, lb = letterbox_image(img, self.input_size)
        return Sample(frame, lb.to_input(item.boxes).astype(np.float32), item.labels.copy(), lb, str(item.image))
