"""Pascal VOC folders: names from the XMLs or a list, difficult objects, 1- and 0-based corners, bad input."""

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from spikeflow.data import VocDataset, build_dataset
from spikeflow.errors import DatasetError
from tests.data.images import photo, photo16, write_png16, write_truncated_jpeg

Obj = tuple[str, tuple[float, float, float, float], int]  # name, (xmin, ymin, xmax, ymax), difficult


def voc_xml(filename: str, objects: list[Obj], size: tuple[int, int] | None = (40, 30)) -> str:
    """An annotation as LabelImg/CVAT write it: an empty <depth />, per-object attributes with their own <name>."""
    size_el = f"<size><width>{size[0]}</width><height>{size[1]}</height><depth /></size>" if size else ""
    objs = "".join(
        f"<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>{d}</difficult>"
        f"<bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox>"
        f"<attributes><attribute><name>track_id</name><value>0</value></attribute></attributes></object>"
        for name, b, d in objects
    )
    return f"<annotation><folder>frame</folder><filename>{filename}</filename>{size_el}{objs}</annotation>"


def make_voc(root: Path, images: dict[str, list[Obj]], splits: dict[str, list[str]], **keys: object) -> Path:
    """root/{Annotations, JPEGImages, ImageSets/Main} with a 40x30 JPEG and an XML per image, and root/data.yaml
    (`format: voc`, one key per split naming its list, plus `keys`)."""
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, (image_id, objects) in enumerate(images.items()):
        Image.new("RGB", (40, 30), (20 * i, 90, 30)).save(root / "JPEGImages" / f"{image_id}.jpg", quality=95)
        (root / "Annotations" / f"{image_id}.xml").write_text(voc_xml(f"{image_id}.jpg", objects))
    for name, ids in splits.items():
        (root / "ImageSets" / "Main" / f"{name}.txt").write_text("".join(f"{i}\r\n" for i in ids))
    doc = {"format": "voc", "path": ".", "train": "train", "val": "val", **keys}
    (root / "data.yaml").write_text(yaml.safe_dump(doc))
    return root / "data.yaml"


def names_of(ds: VocDataset) -> list[str]:
    return [Path(ds[i].source).stem for i in range(len(ds))]


DOG, CAT = ("dog", (11, 6, 20, 15), 0), ("cat", (1, 1, 40, 30), 0)


def test_names_from_xmls_boxes_and_letterbox(tmp_path: Path) -> None:
    y = make_voc(tmp_path, {"a": [DOG, CAT], "b": [], "c": [("bird", (2, 2, 8, 8), 0)]},
                 {"train": ["a", "b"], "val": ["c"]})
    ds = VocDataset(y, "train", 40)
    assert ds.names == ["bird", "cat", "dog"]  # sorted, and the val split's bird counts too
    assert names_of(ds) == ["a", "b"] and not ds.report.skipped
    (note,) = ds.report.notes
    assert "class names read from the XMLs of splits train, val and sorted: 3 classes" in note
    assert "give 'names:' in data.yaml" in note and note in ds.report.summary()
    s = ds[0]
    # 1-based VOC corners (11, 6)-(20, 15) span pixels 10..19, 5..14; 40x30 at input 40: scale 1, pad_y 5
    assert (s.letterbox.scale, s.letterbox.pad_y) == (1.0, 5.0)
    assert s.labels.tolist() == [2, 1]
    assert s.boxes == pytest.approx(np.array([[10, 10, 20, 20], [0, 5, 40, 35]], np.float32))
    assert ds[1].boxes.shape == (0, 4) and (ds.report.boxes, ds.report.without_boxes) == (2, 1)
    assert VocDataset(y, "val", 40).names == ds.names


def test_names_list_sets_order_and_unknown_class_is_skipped(tmp_path: Path) -> None:
    y = make_voc(tmp_path, {"a": [DOG, CAT], "b": [DOG], "c": [("horse", (2, 2, 8, 8), 0), DOG]},
                 {"train": ["a", "b", "c"], "val": ["a"]}, names=["dog", "cat"])
    ds = VocDataset(y, "train", 40)
    assert ds.names == ["dog", "cat"] and ds[0].labels.tolist() == [0, 1] and not ds.report.notes
    assert names_of(ds) == ["a", "b"] and ds.report.by_reason() == {"unknown-class": 1}
    xml = tmp_path / "Annotations" / "c.xml"
    assert ds.report.skipped == [f"{xml}: object 0: unknown class 'horse' (not in 'names')"]
    with pytest.raises(DatasetError, match=r"c\.xml: object 0: unknown class 'horse'"):
        VocDataset(y, "train", 40, strict=True)


def test_difficult_objects_are_left_out_and_counted(tmp_path: Path) -> None:
    hard = ("cat", (3, 3, 9, 9), 1)
    y = make_voc(tmp_path, {"a": [DOG, hard], "b": [hard]}, {"train": ["a", "b"], "val": ["a"]})
    ds = VocDataset(y, "train", 40)
    assert ds.names == ["cat", "dog"]  # a class seen only on difficult objects is still a class
    assert ds[0].labels.tolist() == [1] and ds[1].labels.shape == (0,)  # b stays, as a background image
    assert (ds.report.boxes, ds.report.without_boxes, ds.difficult) == (1, 1, 2)
    assert any(n.startswith("2 objects marked difficult are left out of the targets") for n in ds.report.notes)


BAD_XML = [
    ("<annotation><size><width>40</width>", "malformed-xml", r"malformed XML: no element found"),
    ("", "malformed-xml", r"malformed XML"),
    ("<voc/>", "malformed-xml", r"root element is <voc>"),
    (voc_xml("x.jpg", [DOG], size=None), "no-size", r"no <size> element"),
    (voc_xml("x.jpg", [DOG]).replace("<width>40</width>", "<width />"), "no-size", r"<size> needs positive integer"),
    (voc_xml("x.jpg", [("dog", (30, 5, 45, 15), 0)]), "bad-bbox", r"object 0 \(dog\): box .* outside the 40x30"),
    (voc_xml("x.jpg", [("dog", (20, 5, 10, 15), 0)]), "bad-bbox", r"object 0 \(dog\): empty box"),
    (voc_xml("x.jpg", [("dog", (1, "a", 5, 5), 0)]), "bad-bbox", r"object 0 \(dog\): <bndbox> needs numbers"),
    (voc_xml("x.jpg", [("dog", (1, 1, "nan", 5), 0)]), "bad-bbox", r"object 0 \(dog\): <bndbox> has non-finite"),
    (voc_xml("x.jpg", [("", (1, 1, 5, 5), 0)]), "bad-object", r"object 0 has no <name>"),
    (voc_xml("x.jpg", [("dog", (1, 1, 5, 5), 2)]), "bad-object", r"object 0 \(dog\): <difficult> must be 0 or 1"),
    (re.sub("<bndbox>.*</bndbox>", "", voc_xml("x.jpg", [DOG])), "bad-object", r"object 0 \(dog\) has no <bndbox>"),
]


@pytest.mark.parametrize(("text", "reason", "message"), BAD_XML)
def test_bad_xml_is_a_counted_skip(tmp_path: Path, text: str, reason: str, message: str) -> None:
    y = make_voc(tmp_path, {"good": [DOG], "bad": [DOG]}, {"train": ["good", "bad"], "val": ["good"]},
                 names=["dog"])
    xml = tmp_path / "Annotations" / "bad.xml"
    xml.write_text(text)
    ds = VocDataset(y, "train", 40)
    assert names_of(ds) == ["good"] and ds.report.by_reason() == {reason: 1}
    (entry,) = ds.report.skipped
    assert entry.startswith(f"{xml}: ")
    with pytest.raises(DatasetError, match=r"bad\.xml: " + message):
        VocDataset(y, "train", 40, strict=True)


def test_split_listing_missing_image_or_xml_or_twice(tmp_path: Path) -> None:
    y = make_voc(tmp_path, {"a": [DOG], "b": [DOG]}, {"train": ["a", "ghost", "b", "a"], "val": ["a"]},
                 names=["dog"])
    (tmp_path / "Annotations" / "b.xml").unlink()
    ds = VocDataset(y, "train", 40)
    lst = tmp_path / "ImageSets" / "Main" / "train.txt"
    assert names_of(ds) == ["a"]
    assert ds.report.skipped == [
        f"{lst}:2: image file missing: {tmp_path / 'JPEGImages' / 'ghost'}.jpg",
        f"{lst}:3: annotation file missing: {tmp_path / 'Annotations' / 'b.xml'}",
        f"{lst}:4: image id a listed again (first on line 1)",
    ]
    assert ds.report.by_reason() == {"missing-image": 1, "missing-annotation": 1, "duplicate-image-id": 1}
    with pytest.raises(DatasetError, match=r"train\.txt:2: image file missing: .*ghost\.jpg"):
        VocDataset(y, "train", 40, strict=True)


def test_image_files_truncated_empty_16bit_and_resized(tmp_path: Path) -> None:
    ids = ["good", "cut", "empty", "deep", "small"]
    y = make_voc(tmp_path, {i: [DOG] for i in ids}, {"train": ids, "val": ["good"]}, names=["dog"])
    jpegs = tmp_path / "JPEGImages"
    write_truncated_jpeg(jpegs / "cut.jpg", size=(40, 30))
    (jpegs / "empty.jpg").write_bytes(b"")
    (jpegs / "deep.jpg").unlink()  # the XML's <filename> names the file when <id>.jpg is not there
    (tmp_path / "Annotations" / "deep.xml").write_text(voc_xml("deep16.png", [DOG]))
    write_png16(jpegs / "deep16.png", photo16((40, 30)))
    photo().resize((20, 15)).save(jpegs / "small.jpg")
    ds = VocDataset(y, "train", 40)
    assert names_of(ds) == ["good", "deep16"]
    assert ds.report.by_reason() == {"truncated-image": 1, "unreadable-image": 1, "size-mismatch": 1}
    assert ds[1].image.dtype == np.uint8 and ds[1].image.max() > 0  # 16-bit kept, top 8 bits
    assert any("image size 20x15 of" in e and "differs from <size> 40x30" in e for e in ds.report.skipped)


def test_data_yaml_through_the_loader_with_float_zero_based_corners(tmp_path: Path) -> None:
    float_box = ("Battery", (0.0, 4.2219, 13.5, 30.0), 0)  # CVAT writes 0-based floats, reaching 0 and the size
    images = {"000000": [float_box], "000001": [("Bolt", (2.5, 2.5, 7.5, 7.5), 0)], "000002": []}
    root = tmp_path / "fod"
    make_voc(root, images, {"trainval": ["000000", "000001"], "test": ["000002", "000001"]})
    y = tmp_path / "fod.yaml"
    doc = {"format": "voc", "path": "fod", "train": "trainval", "val": "test", "pixel_origin": 0}
    y.write_text(yaml.safe_dump(doc))
    train, val = build_dataset(y, "train", 40), build_dataset(y, "val", 40)
    assert isinstance(train, VocDataset) and isinstance(val, VocDataset)
    assert train.names == val.names == ["Battery", "Bolt"] and names_of(val) == ["000002", "000001"]
    assert train.report.source == f"{y} [train]" and train.report.boxes == 2
    assert train[0].boxes == pytest.approx(np.array([[0.0, 9.2219, 13.5, 35.0]], np.float32))
    assert not any("pixel_origin" in n for n in train.report.notes)
    assert any(n.startswith("1 image ids of test.txt are also listed in trainval.txt") for n in val.report.notes)
    del doc["pixel_origin"]  # read as 1-based: the box at x = 0 is still inside (1 px tolerance), and noted
    y.write_text(yaml.safe_dump(doc))
    one_based = build_dataset(y, "train", 40)
    assert one_based[0].boxes[0, 0] == 0.0 and one_based[0].boxes[0, 1] == pytest.approx(8.2219)
    assert any(n.startswith("1 boxes start at x or y < 1") and "'pixel_origin: 0'" in n
               for n in one_based.report.notes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"path": "nowhere"}, r"VOC root .*nowhere has no Annotations/ folder"),
        ({"train": "missing"}, r"key 'train': split list .*ImageSets/Main/missing\.txt not found"),
        ({"train": ["a"]}, r"key 'train' must name a split of ImageSets/Main"),
        ({"pixel_origin": 2}, r"key 'pixel_origin' must be 1 \(VOC\) or 0, got 2"),
        ({"format": "pascal"}, r"key 'format' must be 'yolo', 'coco' or 'voc', got 'pascal'"),
        ({"names": "dog"}, r"key 'names' must be a non-empty list"),
    ],
)
def test_dataset_errors_are_one_line(tmp_path: Path, change: dict, message: str) -> None:
    y = make_voc(tmp_path, {"a": [DOG]}, {"train": ["a"], "val": ["a"]})
    doc = yaml.safe_load(y.read_text()) | change
    y.write_text(yaml.safe_dump(doc))
    with pytest.raises(DatasetError, match=r"data\.yaml: " + message) as e:
        build_dataset(y, "train", 40)
    assert "\n" not in str(e.value)


def test_nothing_usable_or_no_names_is_an_error(tmp_path: Path) -> None:
    y = make_voc(tmp_path, {"a": [DOG]}, {"train": ["a"], "val": ["a"]}, names=["cat"])
    with pytest.raises(DatasetError, match=r"data\.yaml: split 'train' \(.*train\.txt\) has no usable images \(1 "
                                           r"skipped; first skipped: .*a\.xml: object 0: unknown class 'dog'"):
        VocDataset(y, "train", 40)
    y = make_voc(tmp_path / "bg", {"a": []}, {"train": ["a"], "val": ["a"]})
    with pytest.raises(DatasetError, match=r"no object names in the XMLs of splits train, val; give the classes"):
        VocDataset(y, "train", 40)


def test_one_list_for_train_and_val_is_noted(tmp_path: Path) -> None:
    y = make_voc(tmp_path, {"a": [DOG], "b": [CAT]}, {"trainval": ["a", "b"]}, train="trainval", val="trainval")
    assert not VocDataset(y, "train", 40).report.notes[1:]
    note = VocDataset(y, "val", 40).report.notes[-1]
    assert note == ("2 image ids of trainval.txt are also listed in trainval.txt (the train split): the val mAP is "
                    "measured partly on training images")
