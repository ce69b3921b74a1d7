import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spikeflow.data import CocoDataset, build_dataset
from spikeflow.errors import DatasetError


def make_coco(
    tmp_path: Path, annotations: list[dict], images: list[dict] | None = None, image_folder: str = "images"
) -> Path:
    """Two 100x50 PNGs (ids 1 and 2) under tmp_path/<image_folder>, categories 7 "dog" and 3 "cat"."""
    (tmp_path / image_folder).mkdir(exist_ok=True)
    for name in ("a.png", "b.png"):
        Image.new("RGB", (100, 50), (10, 200, 30)).save(tmp_path / image_folder / name)
    data = {
        "images": images
        or [
            {"id": 1, "file_name": "a.png", "width": 100, "height": 50},
            {"id": 2, "file_name": "b.png", "width": 100, "height": 50},
        ],
        "annotations": annotations,
        "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}],
    }
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(data))
    return path


def test_loads_maps_classes_and_boxes(tmp_path: Path) -> None:
    anns = [
        {"id": 10, "image_id": 1, "category_id": 7, "bbox": [10, 5, 20, 10], "iscrowd": 0},
        {"id": 11, "image_id": 1, "category_id": 3, "bbox": [0, 0, 100, 50]},
        {"id": 12, "image_id": 1, "category_id": 3, "bbox": [0, 0, 5, 5], "iscrowd": 1},
    ]
    ds = CocoDataset(make_coco(tmp_path, anns), 64)
    assert ds.names == ["cat", "dog"] and ds.category_ids == [3, 7]
    assert len(ds) == 2 and ds.image_ids == [1, 2] and not ds.report.skipped
    s = ds[0]
    assert s.image.shape == (3, 64, 64) and s.labels.tolist() == [1, 0]
    # 100x50 -> scale 0.64, 64x32 centred: pad_y = 16
    assert (s.letterbox.scale, s.letterbox.pad_y) == (0.64, 16.0)
    assert s.boxes == pytest.approx(np.array([[6.4, 19.2, 19.2, 25.6], [0, 16, 64, 48]], np.float32))
    assert ds[1].boxes.shape == (0, 4)


def test_image_dir_and_build_dataset(tmp_path: Path) -> None:
    path = make_coco(tmp_path, [], image_folder="pics")
    assert len(CocoDataset(path, 32, image_dir=tmp_path / "pics")) == 2
    (tmp_path / "pics").rename(tmp_path / "elsewhere")
    (tmp_path / "elsewhere" / "a.png").rename(tmp_path / "a.png")
    (tmp_path / "elsewhere" / "b.png").rename(tmp_path / "b.png")
    ds = build_dataset(str(path), "val", 32)
    assert isinstance(ds, CocoDataset) and len(ds) == 2


GOOD = {"id": 20, "image_id": 2, "category_id": 7, "bbox": [1, 1, 10, 10]}


@pytest.mark.parametrize(
    ("ann", "reason"),
    [
        (
            {"id": 30, "image_id": 1, "category_id": 99, "bbox": [1, 1, 5, 5]},
            "annotation id 30: unknown category_id",
        ),
        ({"id": 31, "image_id": 1, "category_id": 7, "bbox": [1, 1, 5]}, "annotation id 31: bbox must be 4"),
        (
            {"id": 32, "image_id": 1, "category_id": 7, "bbox": [1, 1, "x", 5]},
            "annotation id 32: bbox must be 4",
        ),
        (
            {"id": 33, "image_id": 1, "category_id": 7, "bbox": [1, 1, 0, 5]},
            "annotation id 33: bbox width/height",
        ),
        (
            {"id": 34, "image_id": 1, "category_id": 7, "bbox": [90, 1, 12, 5]},
            "annotation id 34: bbox .* outside",
        ),
    ],
)
def test_bad_annotation_skips_image(tmp_path: Path, ann: dict, reason: str) -> None:
    path = make_coco(tmp_path, [GOOD, ann])
    ds = CocoDataset(path, 32)
    assert ds.image_ids == [2]
    (msg,) = ds.report.skipped
    assert msg.startswith(f"{path}:annotation id {ann['id']}: ")
    with pytest.raises(DatasetError, match=r"annotations\.json:" + reason):
        CocoDataset(path, 32, strict=True)


def test_box_within_tolerance_is_kept(tmp_path: Path) -> None:
    ds = CocoDataset(
        make_coco(tmp_path, [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [-0.5, 0, 100.8, 50]}]), 50
    )
    assert not ds.report.skipped and ds[0].boxes[0] == pytest.approx(
        [0, 12, 50, 37]
    )  # 50x25 image, pad_y = 12


def test_unknown_image_id(tmp_path: Path) -> None:
    path = make_coco(tmp_path, [GOOD, {"id": 40, "image_id": 9, "category_id": 7, "bbox": [1, 1, 5, 5]}])
    ds = CocoDataset(path, 32)
    assert len(ds) == 2
    assert ds.report.skipped == [f"{path}:annotation id 40: unknown image_id 9"]
    with pytest.raises(DatasetError, match=r"annotations\.json:annotation id 40: unknown image_id 9"):
        CocoDataset(path, 32, strict=True)


def test_missing_image_file(tmp_path: Path) -> None:
    path = make_coco(tmp_path, [GOOD])
    (tmp_path / "images" / "a.png").unlink()
    ds = CocoDataset(path, 32)
    assert ds.image_ids == [2]
    (msg,) = ds.report.skipped
    assert msg.startswith(f"{path}:image id 1: file missing: ") and msg.endswith("a.png")
    with pytest.raises(DatasetError, match=r"annotations\.json:image id 1: file missing: .*a\.png"):
        CocoDataset(path, 32, strict=True)


def test_corrupt_image(tmp_path: Path) -> None:
    path = make_coco(tmp_path, [GOOD])
    (tmp_path / "images" / "a.png").write_bytes(b"\x89PNG garbage")
    ds = CocoDataset(path, 32)
    assert ds.image_ids == [2] and "image id 1: unreadable image" in ds.report.skipped[0]
    with pytest.raises(DatasetError, match="image id 1: unreadable image"):
        CocoDataset(path, 32, strict=True)


def test_nothing_left_raises(tmp_path: Path) -> None:
    path = make_coco(
        tmp_path,
        [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}],
        images=[{"id": 1, "file_name": "a.png", "width": 100, "height": 50}],
    )
    with pytest.raises(DatasetError, match=r"annotations\.json: no usable images.*annotation id 5"):
        CocoDataset(path, 32)


def test_missing_or_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nope\.json: annotation file not found"):
        CocoDataset(tmp_path / "nope.json", 32)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DatasetError, match=r"bad\.json: cannot read COCO JSON"):
        CocoDataset(bad, 32)
    bad.write_text(json.dumps({"images": []}))
    with pytest.raises(DatasetError, match=r"bad\.json: missing or non-list key 'categories'"):
        CocoDataset(bad, 32)
