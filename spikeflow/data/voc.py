"""Pascal VOC datasets: Annotations/*.xml, JPEGImages/, ImageSets/Main/<split>.txt, read with xml.etree."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow.data.letterbox import image_size
from spikeflow.data.sample import LoadReport, PixelBoxDataset, image_error_reason
from spikeflow.data.yolo import parse_names, read_data_yaml
from spikeflow.errors import DatasetError

BOX_TOLERANCE = 1.0  # pixels a box may stray outside the image (as for COCO)
SPLIT_KEYS = ("train", "val", "test")  # data YAML keys that name splits; names are read from all of them
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")  # tried after <id>.jpg and the XML's <filename>
COORDS = ("xmin", "ymin", "xmax", "ymax")


class BadAnnotation(Exception):
    """An annotation file that cannot be used: `reason` is the report's key, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class VocObject:
    name: str
    box: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax as written
    difficult: bool


@dataclass(frozen=True)
class VocAnnotation:
    filename: str | None
    width: int
    height: int
    objects: tuple[VocObject, ...]


@dataclass
class _Item:
    image: Path
    image_id: str
    labels: np.ndarray  # int64 [N]
    boxes: np.ndarray  # float32 [N, 4] xyxy in original pixels, 0-based continuous (a pixel i spans [i, i+1])


def _int_text(el: ET.Element, tag: str) -> int | None:
    text = (el.findtext(tag) or "").strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if np.isfinite(value) and value == int(value) and value > 0 else None


def _parse_object(n: int, obj: ET.Element) -> VocObject:
    name = (obj.findtext("name") or "").strip()
    if not name:
        raise BadAnnotation("bad-object", f"object {n} has no <name>")
    bndbox = obj.find("bndbox")
    if bndbox is None:
        raise BadAnnotation("bad-object", f"object {n} ({name}) has no <bndbox>")
    try:
        x0, y0, x1, y1 = (float((bndbox.findtext(k) or "").strip()) for k in COORDS)
    except ValueError:
        values = {k: bndbox.findtext(k) for k in COORDS}
        raise BadAnnotation("bad-bbox", f"object {n} ({name}): <bndbox> needs numbers {values}") from None
    box = (x0, y0, x1, y1)
    if not all(np.isfinite(box)):
        raise BadAnnotation("bad-bbox", f"object {n} ({name}): <bndbox> has non-finite values {box}")
    flag = (obj.findtext("difficult") or "0").strip().lower()
    if flag not in ("0", "1", "false", "true"):
        raise BadAnnotation("bad-object", f"object {n} ({name}): <difficult> must be 0 or 1, got {flag!r}")
    return VocObject(name, box, flag in ("1", "true"))


def parse_voc_xml(path: Path) -> VocAnnotation:
    """One VOC annotation file; raises BadAnnotation (or OSError when unreadable)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise BadAnnotation("malformed-xml", f"malformed XML: {e}") from None
    if root.tag != "annotation":
        raise BadAnnotation("malformed-xml", f"root element is <{root.tag}>, expected <annotation>")
    size = root.find("size")
    if size is None:
        raise BadAnnotation("no-size", "no <size> element (needed to check the boxes)")
    width, height = _int_text(size, "width"), _int_text(size, "height")
    if width is None or height is None:
        raise BadAnnotation("no-size", f"<size> needs positive integer <width> and <height>, got "
                                       f"{size.findtext('width')!r} x {size.findtext('height')!r}")
    objects = tuple(_parse_object(n, obj) for n, obj in enumerate(root.findall("object")))
    filename = (root.findtext("filename") or "").strip() or None
    return VocAnnotation(filename, width, height, objects)


_PARSED: dict[tuple[str, int, int], VocAnnotation | BadAnnotation] = {}  # one parse per file and process


def read_voc_xml(path: Path) -> VocAnnotation | BadAnnotation:
    """parse_voc_xml, remembered per (path, mtime, size): the name scan and each split's scan share one parse."""
    st = os.stat(path)
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _PARSED:
        try:
            _PARSED[key] = parse_voc_xml(path)
        except BadAnnotation as e:
            _PARSED[key] = e
    return _PARSED[key]


def voc_box(box: tuple[float, float, float, float], origin: int, width: int, height: int) -> np.ndarray | str:
    """VOC corners -> 0-based continuous xyxy clipped to the image, or the reason the box is bad.

    With origin 1 (VOC's 1-based, inclusive pixel indices) a box 1..W spans [0, W], so xmin and ymin move by 1;
    with origin 0 the corners are already 0-based continuous coordinates (as CVAT and datumaro write them).
    """
    x0, y0, x1, y1 = box[0] - origin, box[1] - origin, box[2], box[3]
    if x1 <= x0 or y1 <= y0:
        return f"empty box {box} (xmax must be >= xmin{' - 1' if origin else ''}, same for y)"
    t = BOX_TOLERANCE
    if x0 < -t or y0 < -t or x1 > width + t or y1 > height + t:
        return f"box {box} outside the {width}x{height} image"
    return np.array([x0, y0, x1, y1]).clip(0, [width, height, width, height])


def voc_root(yaml_path: Path, data: dict) -> Path:
    """The dataset root (`path`, relative to the YAML's folder), checked to hold Annotations/ and ImageSets/Main/."""
    root = yaml_path.parent / str(data.get("path") or ".")
    for sub in ("Annotations", "ImageSets/Main"):
        if not (root / sub).is_dir():
            raise DatasetError(f"{yaml_path}: VOC root {root} has no {sub}/ folder (key 'path')")
    return root


def split_list(yaml_path: Path, data: dict, root: Path, key: str) -> Path:
    """ImageSets/Main/<name>.txt of the split the YAML's `key` names."""
    entry = data.get(key)
    if entry is None:
        raise DatasetError(f"{yaml_path}: missing key '{key}'")
    if not isinstance(entry, str | int) or not str(entry).strip():
        raise DatasetError(f"{yaml_path}: key '{key}' must name a split of ImageSets/Main (e.g. trainval), "
                           f"got {entry!r}")
    path = root / "ImageSets" / "Main" / f"{str(entry).strip()}.txt"
    if not path.is_file():
        raise DatasetError(f"{yaml_path}: key '{key}': split list {path} not found")
    return path


def read_split(path: Path) -> list[tuple[int, str]]:
    """(line number, image id) of each non-empty line (the first field: class lists add a 1/-1 column)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: cannot read split list: {e}") from None
    return [(n, line.split()[0]) for n, line in enumerate(lines, 1) if line.strip()]


class VocDataset(PixelBoxDataset):
    """Images of one split of a VOC data YAML (`format: voc`); XMLs parsed and image files checked now, images
    decoded and letterboxed lazily. Difficult objects are left out of the targets, and counted in a note."""

    names: list[str]

    def __init__(self, yaml_path: str | Path, split: str, input_size: int, strict: bool = False) -> None:
        self.yaml_path, self.split, self.input_size, self.strict = Path(yaml_path), split, input_size, strict
        data = read_data_yaml(self.yaml_path)
        origin = data.get("pixel_origin", 1)
        if origin not in (0, 1) or isinstance(origin, bool):
            raise DatasetError(f"{self.yaml_path}: key 'pixel_origin' must be 1 (VOC) or 0, got {origin!r}")
        self.origin: int = origin
        self.root = voc_root(self.yaml_path, data)
        list_path = split_list(self.yaml_path, data, self.root, split)
        self.report = LoadReport(source=f"{self.yaml_path} [{split}]")
        if data.get("names") is not None:
            self.names = parse_names(self.yaml_path, data["names"])
        else:
            self.names = self._names_from_xmls(data, split)
        self._class_of = {n: i for i, n in enumerate(self.names)}
        self.items: list[_Item] = []
        self.difficult = 0  # difficult objects of the kept images, left out
        self.below_origin = 0  # boxes of the kept images starting left of or above pixel 1 (origin 1 only)
        first_line: dict[str, int] = {}
        for n, image_id in read_split(list_path):
            if image_id in first_line:
                self._skip(f"{list_path}:{n}", f"image id {image_id} listed again (first on line "
                           f"{first_line[image_id]})", "duplicate-image-id")
                continue
            first_line[image_id] = n
            item = self._scan(list_path, n, image_id)
            if item is not None:
                self.items.append(item)
        self._note_overlap(data, split, list_path, first_line)
        self.report.kept = len(self.items)
        self.report.count_boxes(len(item.labels) for item in self.items)
        self.report.labels_hint = f"the kept images' XMLs in {self.root / 'Annotations'} have no non-difficult object"
        self._notes()
        if not self.items:
            first = f"; first skipped: {self.report.skipped[0]}" if self.report.skipped else ""
            raise DatasetError(f"{self.yaml_path}: split '{split}' ({list_path}) has no usable images "
                               f"({len(self.report.skipped)} skipped{first})")

    def _names_from_xmls(self, data: dict, split: str) -> list[str]:
        """Sorted object names of the XMLs of every split the YAML names (so train and val agree), with a note."""
        keys = [k for k in SPLIT_KEYS if data.get(k) is not None]
        keys += [split] if split not in keys else []
        lists = list(dict.fromkeys(split_list(self.yaml_path, data, self.root, k) for k in keys))
        names: set[str] = set()
        for path in lists:
            for _, image_id in read_split(path):
                xml = self.root / "Annotations" / f"{image_id}.xml"
                try:
                    ann = read_voc_xml(xml) if xml.is_file() else None
                except OSError:  # counted when its split is scanned
                    continue
                if isinstance(ann, VocAnnotation):
                    names.update(o.name for o in ann.objects)
        if not names:
            raise DatasetError(f"{self.yaml_path}: no object names in the XMLs of splits "
                               f"{', '.join(p.stem for p in lists)}; give the classes as 'names:'")
        self.report.note(f"class names read from the XMLs of splits {', '.join(p.stem for p in lists)} and sorted: "
                         f"{len(names)} classes; give 'names:' in {self.yaml_path.name} to fix their order")
        return sorted(names)

    def _note_overlap(self, data: dict, split: str, list_path: Path, ids: dict[str, int]) -> None:
        """Note the images of a non-training split that the train split lists too."""
        if split == "train" or data.get("train") is None:
            return
        train_list = split_list(self.yaml_path, data, self.root, "train")
        if train_list == list_path:
            shared = len(ids)
        else:
            shared = len(ids.keys() & {image_id for _, image_id in read_split(train_list)})
        if shared:
            self.report.note(f"{shared} image ids of {list_path.name} are also listed in {train_list.name} (the "
                             f"train split): the {split} mAP is measured partly on training images")

    def _notes(self) -> None:
        if self.difficult:
            self.report.note(f"{self.difficult} objects marked difficult are left out of the targets, for training "
                             f"and evaluation alike (VOC's evaluation ignores them; spikeflow's mAP has no ignore "
                             f"flag, so a detection of one counts as a false positive)")
        if self.below_origin:
            self.report.note(f"{self.below_origin} boxes start at x or y < 1, left of or above the first pixel of a "
                             f"1-based VOC image: if these annotations are 0-based (as CVAT and datumaro write "
                             f"them), say 'pixel_origin: 0' in {self.yaml_path.name}")

    def _skip(self, where: Path | str, message: str, reason: str) -> None:
        self.report.skip(f"{where}: {message}", self.strict, reason)

    def _image_file(self, image_id: str, ann: VocAnnotation | None) -> Path | None:
        folder = self.root / "JPEGImages"
        names = [f"{image_id}.jpg", *([ann.filename] if ann and ann.filename else []),
                 *(image_id + s for s in IMAGE_SUFFIXES[1:])]
        return next((folder / f for f in names if (folder / f).is_file()), None)

    def _scan(self, list_path: Path, n: int, image_id: str) -> _Item | None:
        """Check one listed image and its XML; None (and a report entry) when anything is bad."""
        xml = self.root / "Annotations" / f"{image_id}.xml"
        try:
            ann = read_voc_xml(xml) if xml.is_file() else None
        except OSError as e:
            self._skip(xml, f"unreadable annotation file: {e}", "unreadable-labels")
            return None
        path = self._image_file(image_id, ann if isinstance(ann, VocAnnotation) else None)
        if path is None:
            self._skip(f"{list_path}:{n}", f"image file missing: {self.root / 'JPEGImages' / image_id}.jpg",
                       "missing-image")
            return None
        if ann is None:
            self._skip(f"{list_path}:{n}", f"annotation file missing: {xml}", "missing-annotation")
            return None
        if isinstance(ann, BadAnnotation):
            self._skip(xml, str(ann), ann.reason)
            return None
        try:
            w, h = image_size(path, exif=False)
        except Exception as e:  # PIL raises many types for corrupt files
            self._skip(path, f"unreadable image: {e}", image_error_reason(e))
            return None
        if (w, h) != (ann.width, ann.height):
            self._skip(xml, f"image size {w}x{h} of {path} differs from <size> {ann.width}x{ann.height}",
                       "size-mismatch")
            return None
        return self._targets(xml, path, image_id, ann)

    def _targets(self, xml: Path, path: Path, image_id: str, ann: VocAnnotation) -> _Item | None:
        labels, boxes, difficult, below = [], [], 0, 0
        for k, obj in enumerate(ann.objects):
            if obj.name not in self._class_of:
                self._skip(xml, f"object {k}: unknown class {obj.name!r} (not in 'names')", "unknown-class")
                return None
            box = voc_box(obj.box, self.origin, ann.width, ann.height)
            if isinstance(box, str):
                self._skip(xml, f"object {k} ({obj.name}): {box}", "bad-bbox")
                return None
            below += self.origin == 1 and min(obj.box[0], obj.box[1]) < 1
            if obj.difficult:
                difficult += 1
                continue
            labels.append(self._class_of[obj.name])
            boxes.append(box)
        self.difficult += difficult
        self.below_origin += below
        return _Item(path, image_id, np.array(labels, np.int64), np.array(boxes, np.float32).reshape(-1, 4))
