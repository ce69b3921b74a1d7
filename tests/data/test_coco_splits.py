"""COCO train and val sets from separate JSONs; one JSON serving both is said plainly."""

import json
from pathlib import Path

import pytest
import yaml
from PIL import Image

from spikeflow.data import CocoDataset, build_dataset
from spikeflow.errors import DatasetError


def write_coco(folder: Path, name: str, files: list[str]) -> Path:
    """folder/<name>.json over 40x30 PNGs folder/images/<file>, one "dog" box on each."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i, f in enumerate(files, 1):
        Image.new("RGB", (40, 30), (10 * i, 90, 30)).save(folder / "images" / f)
        images.append({"id": i, "file_name": f, "width": 40, "height": 30})
        anns.append({"id": i, "image_id": i, "category_id": 1, "bbox": [5, 5, 10, 10]})
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "dog"}]}))
    return path


def sources(ds: CocoDataset) -> list[str]:
    return [Path(ds[i].source).name for i in range(len(ds))]


def test_data_yaml_names_train_and_val_jsons(tmp_path: Path) -> None:
    write_coco(tmp_path, "train", ["t1.png", "t2.png", "t3.png"])
    write_coco(tmp_path, "val", ["v1.png"])
    y = tmp_path / "data.yaml"
    y.write_text(yaml.safe_dump({"train": "train.json", "val": "val.json"}))
    train, val = build_dataset(y, "train", 32), build_dataset(y, "val", 32)
    assert isinstance(train, CocoDataset) and isinstance(val, CocoDataset)
    assert sources(train) == ["t1.png", "t2.png", "t3.png"] and sources(val) == ["v1.png"]
    assert train.names == val.names == ["dog"] and not val.report.notes
    assert (train.report.boxes, val.report.boxes, val.report.without_boxes) == (3, 1, 0)
    assert val.report.source.endswith("val.json [val]")


def test_format_coco_and_image_folder_key(tmp_path: Path) -> None:
    write_coco(tmp_path / "ann", "val", ["v1.png", "v2.png"])
    (tmp_path / "ann" / "images").rename(tmp_path / "val2017")
    y = tmp_path / "data.yaml"
    y.write_text(yaml.safe_dump({"format": "coco", "train": "ann/val.json", "val": "ann/val.json",
                                 "val_images": "val2017"}))
    assert sources(build_dataset(y, "val", 32)) == ["v1.png", "v2.png"]
    y.write_text(yaml.safe_dump({"format": "coco", "train": "images/", "val": "ann/val.json"}))
    with pytest.raises(DatasetError, match=r"data\.yaml: key 'train' must name a COCO \.json"):
        build_dataset(y, "train", 32)


def test_val_data_argument(tmp_path: Path) -> None:
    train_json = write_coco(tmp_path / "t", "train", ["t1.png", "t2.png"])
    val_json = write_coco(tmp_path / "v", "val", ["v1.png"])
    assert sources(build_dataset(train_json, "train", 32, val_data=val_json)) == ["t1.png", "t2.png"]
    val = build_dataset(train_json, "val", 32, val_data=val_json)
    assert sources(val) == ["v1.png"] and not val.report.notes


def test_one_json_for_both_is_noted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_coco(tmp_path, "all", ["a.png", "b.png"])
    val = build_dataset(path, "val", 32)
    (note,) = val.report.notes
    assert str(path) in note and "both train and val" in note
    assert val.report.as_dict()["notes"] == [note] and note in val.report.summary()
    assert note not in caplog.text  # not also a warning: the summary shows it, once
    assert "a build config's 'data:'" in note and "--val-data VAL.json" in note


def test_yaml_naming_one_json_for_both_is_noted(tmp_path: Path) -> None:
    write_coco(tmp_path, "all", ["a.png"])
    y = tmp_path / "data.yaml"
    y.write_text(yaml.safe_dump({"train": "all.json", "val": "all.json"}))
    assert "both train and val" in build_dataset(y, "val", 32).report.notes[0]
    assert not build_dataset(y, "train", 32).report.notes
