"""LoadReport.as_dict: counts by reason key, the first few entries, the source and notes."""

import json

import pytest

from spikeflow.data import LoadReport
from spikeflow.errors import DatasetError


def test_as_dict_groups_reasons_and_limits_entries() -> None:
    report = LoadReport(source="data.yaml [train]")
    for n in range(7):
        report.skip(f"labels/x{n}.txt:1: class id 9 out of range 0..1", strict=False, reason="bad-label")
    report.skip("images/y.jpg: unreadable image: image file is truncated", strict=False, reason="truncated-image")
    report.kept = 12
    d = report.as_dict(limit=3)
    assert d == {
        "kept": 12,
        "skipped": 8,
        "by_reason": {"bad-label": 7, "truncated-image": 1},
        "first": [f"labels/x{n}.txt:1: class id 9 out of range 0..1" for n in range(3)],
        "source": "data.yaml [train]",
        "notes": [],
        "boxes": None,
        "images_without_boxes": None,
    }
    json.dumps(d)
    assert "bad-label 7, truncated-image 1" in report.summary()


def test_strict_raises_and_records_nothing() -> None:
    report = LoadReport()
    with pytest.raises(DatasetError, match="bad thing"):
        report.skip("bad thing", strict=True, reason="other")
    assert report.as_dict()["skipped"] == 0


def test_yolo_skips_have_reason_keys(tmp_path) -> None:
    from tests.data.test_yolo import make_yolo

    y = make_yolo(tmp_path, {"good": "0 0.5 0.5 0.2 0.2\n", "bad": "7 0.5 0.5 0.2 0.2\n"})
    from spikeflow.data import YoloDataset

    assert YoloDataset(y, "train", 32).report.as_dict()["by_reason"] == {"bad-label": 1}


def test_box_counts_are_reported_and_none_is_an_error_where_boxes_are_needed() -> None:
    report = LoadReport(source="data.yaml [val]", kept=3)
    report.count_boxes([2, 0, 1])
    assert (report.as_dict()["boxes"], report.as_dict()["images_without_boxes"]) == (3, 1)
    assert report.summary().startswith("data.yaml [val]: 3 images kept, 0 skipped; 3 boxes, 1 images without any")
    report.require_boxes("the validation set")
    report.count_boxes([0, 0, 0])
    report.labels_hint = "no label files"
    with pytest.raises(DatasetError, match=r"^the validation set data\.yaml \[val\] has 3 images and no boxes: no "
                                           r"label files$"):
        report.require_boxes("the validation set")
