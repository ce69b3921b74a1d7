"""Ultralytics-style YOLO datasets: a data YAML, image folders or lists, one label .txt per image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from spikeflow.data.letterbox import image_size, letterbox_image, open_rgb
from spikeflow.data.sample import LoadReport, Sample, check_index, empty_targets, image_error_reason
from spikeflow.errors import DatasetError

IMAGE_SUFFIXES = frozenset({".bmp", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"})
BOX_TOLERANCE = 1e-3  # normalised coordinates may stray this far outside [0, 1]


@dataclass
class _Item:
    image: Path
    labels: np.ndarray  # int64 [N]
    boxes: np.ndarray  # float32 [N, 4] xyxy, normalised to [0, 1]


def label_path(image: Path) -> Path:
    """.../images/x.jpg -> .../labels/x.txt (last `images` component); beside the image if there is none."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return image.with_suffix(".txt")


def read_data_yaml(yaml_path: Path) -> dict:
    """Load a data YAML as a dict, raising DatasetError naming the file when it cannot."""
    try:
        data = yaml.safe_load(yaml_path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{yaml_path}: data YAML not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise DatasetError(f"{yaml_path}: cannot read data YAML: {e}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{yaml_path}: data YAML must be a mapping, got {type(data).__name__}")
    return data


def parse_names(yaml_path: Path, names: object) -> list[str]:
    """`names` as a list, or an {id: name} dict with ids 0..nc-1."""
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    if isinstance(names, dict) and names:
        try:
            ids = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            ids = []
        if ids == list(range(len(names))):
            return [str(names.get(i, names.get(str(i)))) for i in ids]
    raise DatasetError(f"{yaml_path}: key 'names' must be a non-empty list or a {{0: name, ...}} dict")


def parse_label_line(line: str, nc: int) -> tuple[int, np.ndarray] | str:
    """`cls cx cy w h` -> (class id, normalised xyxy box), or the reason the line is bad."""
    fields = line.split()
    if len(fields) != 5:
        return f"expected 5 fields 'cls cx cy w h', got {len(fields)}"
    try:
        values = [float(f) for f in fields]
    except ValueError:
        return f"non-numeric value in {line.strip()!r}"
    if not all(np.isfinite(values)):
        return f"non-finite value in {line.strip()!r}"
    c, cx, cy, w, h = values
    if c != int(c):
        return f"class id {fields[0]} is not an integer"
    if not 0 <= c < nc:
        return f"class id {int(c)} out of range 0..{nc - 1}"
    if w <= 0 or h <= 0:
        return f"box width/height must be > 0, got w={w:g} h={h:g}"
    box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    if box.min() < -BOX_TOLERANCE or box.max() > 1 + BOX_TOLERANCE:
        return f"box outside the image: cx={cx:g} cy={cy:g} w={w:g} h={h:g}"
    return int(c), box.clip(0, 1)


class YoloDataset:
    """Images of one split of a YOLO data YAML; labels scanned now, images decoded and letterboxed lazily."""

    names: list[str]

    def __init__(self, yaml_path: str | Path, split: str, input_size: int, strict: bool = False) -> None:
        self.yaml_path, self.split, self.input_size, self.strict = Path(yaml_path), split, input_size, strict
        data = read_data_yaml(self.yaml_path)
        if "names" not in data:
            raise DatasetError(f"{self.yaml_path}: missing key 'names'")
        self.names = parse_names(self.yaml_path, data["names"])
        if data.get(split) is None:
            raise DatasetError(f"{self.yaml_path}: missing key '{split}'")
        root = self.yaml_path.parent / str(data.get("path") or ".")
        self.report = LoadReport(source=f"{self.yaml_path} [{split}]")
        self.items: list[_Item] = []
        self.without_label_file: list[Path] = []  # kept images whose label file does not exist
        for image in self._list_images(root, data[split]):
            item = self._scan(image)
            if item is not None:
                self.items.append(item)
        self.report.kept = len(self.items)
        self.report.count_boxes(len(item.labels) for item in self.items)
        if self.without_label_file:
            first = self.without_label_file[0]
            self.report.labels_hint = (f"{len(self.without_label_file)} of its {len(self.items)} images have no label "
                                       f"file (the labels of {first} are read from {label_path(first)}: a labels/ "
                                       f"folder beside images/, one .txt per image)")
        elif self.items:
            self.report.labels_hint = "all its label files are empty"
        if not self.items:
            first = f"; first skipped: {self.report.skipped[0]}" if self.report.skipped else ""
            raise DatasetError(
                f"{self.yaml_path}: split '{split}' has no usable images "
                f"({len(self.report.skipped)} skipped{first})"
            )

    def _list_images(self, root: Path, entries: object) -> list[Path]:
        """Image paths from a folder, a .txt list or an image file (or a list of those)."""
        images: list[Path] = []
        for entry in entries if isinstance(entries, list) else [entries]:
            p = root / str(entry)
            if p.is_dir():
                images += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            elif p.suffix == ".txt" and p.is_file():
                images += self._read_list(p, root)
            elif p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
                images.append(p)
            else:
                reason = f"{p} is not a folder, .txt list or image"
                raise DatasetError(f"{self.yaml_path}: key '{self.split}': {reason}")
        return images

    def _read_list(self, list_path: Path, root: Path) -> list[Path]:
        """Paths in a .txt list, relative to the list's folder (or the root); missing files are skipped."""
        images = []
        for n, line in enumerate(list_path.read_text().splitlines(), 1):
            name = line.strip()
            if not name:
                continue
            p = list_path.parent / name
            if not p.is_file() and (root / name).is_file():
                p = root / name
            if p.is_file():
                images.append(p)
            else:
                self.report.skip(f"{list_path}:{n}: image file missing: {p}", self.strict, "missing-image")
        return images

    def _scan(self, image: Path) -> _Item | None:
        """Parse the label file of one image; None (and a report entry) when anything is bad."""
        try:
            image_size(image)
        except Exception as e:  # PIL raises many types for corrupt files
            self.report.skip(f"{image}: unreadable image: {e}", self.strict, image_error_reason(e))
            return None
        labels_file = label_path(image)
        labels, boxes = [], []
        if not labels_file.exists():
            self.without_label_file.append(image)
        try:
            lines = labels_file.read_text().splitlines() if labels_file.is_file() else []
        except (OSError, UnicodeDecodeError) as e:
            self.report.skip(f"{labels_file}: unreadable label file: {e}", self.strict, "unreadable-labels")
            return None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            parsed = parse_label_line(line, len(self.names))
            if isinstance(parsed, str):
                self.report.skip(f"{labels_file}:{n}: {parsed}", self.strict, "bad-label")
                return None
            labels.append(parsed[0])
            boxes.append(parsed[1])
        if not labels:
            no_boxes, no_labels = empty_targets()
            return _Item(image, no_labels, no_boxes)
        return _Item(image, np.array(labels, np.int64), np.array(boxes, np.float32))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Sample:
        item = self.items[check_index(i, len(self.items))]
        try:
            img = open_rgb(item.image)
        except Exception as e:
            raise DatasetError(f"{item.image}: unreadable image: {e}") from None
        image, lb = letterbox_image(img, self.input_size)
        wh = np.array([lb.orig_w, lb.orig_h, lb.orig_w, lb.orig_h], np.float32)
        boxes = lb.to_input(item.boxes * wh).astype(np.float32)
        return Sample(image, boxes, item.labels.copy(), lb, str(item.image))
