"""COCO instances JSON datasets, read with plain `json`."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow.data.letterbox import image_size
from spikeflow.data.sample import LoadReport, PixelBoxDataset, image_error_reason
from spikeflow.errors import DatasetError

BOX_TOLERANCE = 1.0  # pixels a box may stray outside the image


@dataclass
class _Item:
    image: Path
    image_id: int
    labels: np.ndarray  # int64 [N]
    boxes: np.ndarray  # float32 [N, 4] xyxy in original pixels


def read_coco_json(json_path: Path) -> dict:
    """Load the annotation file and check its top-level keys, raising DatasetError naming the file."""
    try:
        data = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{json_path}: annotation file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"{json_path}: cannot read COCO JSON: {e}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{json_path}: COCO JSON must be an object, got {type(data).__name__}")
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise DatasetError(f"{json_path}: missing or non-list key '{key}'")
    if not isinstance(data.get("annotations", []), list):
        raise DatasetError(f"{json_path}: key 'annotations' must be a list")
    return data


def parse_categories(json_path: Path, categories: list) -> tuple[list[int], list[str]]:
    """COCO category ids in sorted order (index = contiguous class id) and their names."""
    try:
        by_id = {int(c["id"]): str(c["name"]) for c in categories}
    except (KeyError, TypeError, ValueError) as e:
        raise DatasetError(f"{json_path}: malformed category entry: {e}") from None
    if not by_id:
        raise DatasetError(f"{json_path}: key 'categories' is empty")
    ids = sorted(by_id)
    return ids, [by_id[i] for i in ids]


def parse_bbox(bbox: object, width: float, height: float) -> np.ndarray | str:
    """COCO [x, y, w, h] -> xyxy clipped to the image, or the reason it is bad."""
    if not isinstance(bbox, list | tuple) or len(bbox) != 4:
        return f"bbox must be 4 numbers [x, y, w, h], got {bbox!r}"
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        return f"bbox must be 4 numbers [x, y, w, h], got {bbox!r}"
    if not all(np.isfinite([x, y, w, h])):
        return f"bbox has non-finite values {bbox!r}"
    if w <= 0 or h <= 0:
        return f"bbox width/height must be > 0, got {bbox!r}"
    t = BOX_TOLERANCE
    if x < -t or y < -t or x + w > width + t or y + h > height + t:
        return f"bbox {bbox!r} outside the {width:g}x{height:g} image"
    return np.array([x, y, x + w, y + h]).clip(0, [width, height, width, height])


class CocoDataset(PixelBoxDataset):
    """Images of a COCO instances file; annotations checked now, images decoded and letterboxed lazily."""

    names: list[str]

    def __init__(
        self,
        json_path: str | Path,
        input_size: int,
        image_dir: str | Path | None = None,
        strict: bool = False,
        split: str | None = None,
    ) -> None:
        self.json_path, self.input_size, self.strict = Path(json_path), input_size, strict
        self.image_dir = Path(image_dir) if image_dir is not None else None
        data = read_coco_json(self.json_path)
        self.category_ids, self.names = parse_categories(self.json_path, data["categories"])
        self._class_of = {c: i for i, c in enumerate(self.category_ids)}
        self.report = LoadReport(source=f"{self.json_path} [{split}]" if split else str(self.json_path))
        self.items: list[_Item] = []
        images = self._index_images(data["images"])
        anns = self._group_annotations(data.get("annotations", []), images)
        for image_id, entry in images.items():
            item = self._scan(image_id, entry, anns.get(image_id, []))
            if item is not None:
                self.items.append(item)
        self.report.kept = len(self.items)
        self.report.count_boxes(len(item.labels) for item in self.items)
        self.report.labels_hint = f"{self.json_path} has no usable non-crowd annotation of its kept images"
        if not self.items:
            first = f"; first skipped: {self.report.skipped[0]}" if self.report.skipped else ""
            raise DatasetError(
                f"{self.json_path}: no usable images ({len(self.report.skipped)} skipped{first})"
            )

    @property
    def image_ids(self) -> list[int]:
        """COCO image id of each dataset index."""
        return [it.image_id for it in self.items]

    def _where(self, what: str) -> str:
        return f"{self.json_path}:{what}"

    def _index_images(self, entries: list) -> dict[int, dict]:
        """Image entries by id, in file order; malformed entries are skipped."""
        images: dict[int, dict] = {}
        for n, e in enumerate(entries):
            if (
                not isinstance(e, dict)
                or not isinstance(e.get("id"), int)
                or not isinstance(e.get("file_name"), str)
            ):
                self.report.skip(self._where(f"images[{n}]: needs integer 'id' and 'file_name'"), self.strict,
                                 "bad-image-entry")
            elif e["id"] in images:
                where = self._where(f"image id {e['id']}: duplicate image id")
                self.report.skip(where, self.strict, "duplicate-image-id")
            else:
                images[e["id"]] = e
        return images

    def _group_annotations(self, entries: list, images: dict[int, dict]) -> dict[int, list[dict]]:
        """Non-crowd annotations by image id; ones naming an unknown image are skipped."""
        by_image: dict[int, list[dict]] = defaultdict(list)
        for n, a in enumerate(entries):
            if not isinstance(a, dict):
                self.report.skip(self._where(f"annotations[{n}]: not an object"), self.strict, "bad-annotation")
                continue
            if a.get("iscrowd", 0):
                continue
            if a.get("image_id") not in images:
                self.report.skip(
                    self._where(f"annotation id {a.get('id', n)}: unknown image_id {a.get('image_id')!r}"),
                    self.strict,
                    "unknown-image-id",
                )
                continue
            by_image[a["image_id"]].append(a)
        return by_image

    def _resolve(self, file_name: str) -> Path:
        """The image file: in image_dir if given, else beside the JSON or in an `images` folder there."""
        if self.image_dir is not None:
            return self.image_dir / file_name
        here = self.json_path.parent / file_name
        beside = self.json_path.parent / "images" / file_name
        return beside if not here.is_file() and beside.is_file() else here

    def _scan(self, image_id: int, entry: dict, anns: list[dict]) -> _Item | None:
        """Check one image and its annotations; None (and a report entry) when anything is bad."""
        path = self._resolve(entry["file_name"])
        if not path.is_file():
            self.report.skip(self._where(f"image id {image_id}: file missing: {path}"), self.strict, "missing-image")
            return None
        try:
            w, h = image_size(path, exif=False)
        except Exception as e:  # PIL raises many types for corrupt files
            self.report.skip(self._where(f"image id {image_id}: unreadable image {path}: {e}"), self.strict,
                             image_error_reason(e))
            return None
        declared = entry.get("width", w), entry.get("height", h)
        if declared != (w, h):
            reason = f"image size {w}x{h} of {path} differs from width/height {declared[0]}x{declared[1]}"
            self.report.skip(self._where(f"image id {image_id}: {reason}"), self.strict, "size-mismatch")
            return None
        labels, boxes = [], []
        for a in anns:
            key = "bad-bbox"
            if a.get("category_id") not in self._class_of:
                reason, key = f"unknown category_id {a.get('category_id')!r}", "unknown-category"
            else:
                box = parse_bbox(a.get("bbox"), w, h)
                if not isinstance(box, str):
                    labels.append(self._class_of[a["category_id"]])
                    boxes.append(box)
                    continue
                reason = box
            self.report.skip(self._where(f"annotation id {a.get('id', '?')}: {reason}"), self.strict, key)
            return None
        return _Item(path, image_id, np.array(labels, np.int64), np.array(boxes, np.float32).reshape(-1, 4))
