from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from spikeflow.data import YoloDataset, build_dataset
from spikeflow.errors import DatasetError


def make_yolo(
    tmp_path: Path, labels: dict[str, str], sizes: dict[str, tuple[int, int]] | None = None, **extra: object
) -> Path:
    """A dataset root with images/train/<name>.png and labels/train/<name>.txt, plus data.yaml."""
    for name in labels:
        w, h = (sizes or {}).get(name, (80, 40))
        (tmp_path / "images" / "train").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (w, h), (30, 60, 90)).save(tmp_path / "images" / "train" / f"{name}.png")
        if labels[name] is not None:
            (tmp_path / "labels" / "train").mkdir(parents=True, exist_ok=True)
            (tmp_path / "labels" / "train" / f"{name}.txt").write_text(labels[name])
    data = {"path": ".", "train": "images/train", "val": "images/train", "names": {0: "a", 1: "b"}, **extra}
    (tmp_path / "data.yaml").write_text(yaml.safe_dump(data))
    return tmp_path / "data.yaml"


def test_loads_and_maps_boxes_through_letterbox(tmp_path: Path) -> None:
    y = make_yolo(tmp_path, {"x": "1 0.5 0.5 0.5 0.5\n0 0.25 0.25 0.5 0.5\n", "empty": None})
    ds = YoloDataset(y, "train", 64)
    assert ds.names == ["a", "b"] and len(ds) == 2 and not ds.report.skipped
    by_name = {Path(ds[i].source).stem: ds[i] for i in range(len(ds))}
    s = by_name["x"]
    assert s.image.shape == (3, 64, 64) and s.image.dtype == np.uint8
    # 80x40 -> scale 0.8, 64x32 centred: pad_y = 16
    assert (s.letterbox.scale, s.letterbox.pad_x, s.letterbox.pad_y) == (0.8, 0.0, 16.0)
    assert s.labels.tolist() == [1, 0]
    assert s.boxes == pytest.approx(np.array([[16, 24, 48, 40], [0, 16, 32, 32]], np.float32))
    assert s.letterbox.to_original(s.boxes) == pytest.approx(np.array([[20, 10, 60, 30], [0, 0, 40, 20]]))
    assert by_name["empty"].boxes.shape == (0, 4) and by_name["empty"].labels.shape == (0,)


def test_txt_list_names_and_build_dataset(tmp_path: Path) -> None:
    y = make_yolo(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}, names=["only", "two"])
    (tmp_path / "train.txt").write_text("./images/train/x.png\n")
    y.write_text(yaml.safe_dump({"train": "train.txt", "val": "train.txt", "names": ["only", "two"]}))
    ds = build_dataset(str(y), "val", 32)
    assert isinstance(ds, YoloDataset) and len(ds) == 1 and ds.names == ["only", "two"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("5 0.5 0.5 0.2 0.2", "class id 5 out of range"),
        ("0 0.5 0.5 0.2", "expected 5 fields"),
        ("0 0.5 abc 0.2 0.2", "non-numeric"),
        ("0 0.9 0.5 0.4 0.2", "outside the image"),
        ("1 0.5 0.5 0.0 0.2", "must be > 0"),
    ],
)
def test_bad_label_line_skips_image(tmp_path: Path, line: str, reason: str) -> None:
    y = make_yolo(tmp_path, {"good": "0 0.5 0.5 0.2 0.2\n", "bad": f"0 0.5 0.5 0.2 0.2\n{line}\n"})
    ds = YoloDataset(y, "train", 32)
    assert len(ds) == 1 and Path(ds[0].source).stem == "good"
    (msg,) = ds.report.skipped
    assert msg.startswith(f"{tmp_path / 'labels' / 'train' / 'bad.txt'}:2: ") and reason in msg
    assert "1 skipped" in ds.report.summary()
    with pytest.raises(DatasetError, match=r"bad\.txt:2: .*" + reason):
        YoloDataset(y, "train", 32, strict=True)


def test_box_within_tolerance_is_kept(tmp_path: Path) -> None:
    y = make_yolo(tmp_path, {"x": "0 0.5 0.5 1.0005 0.2\n"})
    ds = YoloDataset(y, "train", 32)
    assert len(ds) == 1 and not ds.report.skipped
    assert (ds[0].boxes[:, [0, 2]] >= 0).all() and (ds[0].boxes[:, [0, 2]] <= 32).all()


def test_missing_image_in_list(tmp_path: Path) -> None:
    y = make_yolo(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}, train="list.txt")
    (tmp_path / "list.txt").write_text("images/train/x.png\nimages/train/gone.png\n")
    ds = YoloDataset(y, "train", 32)
    assert len(ds) == 1
    (msg,) = ds.report.skipped
    assert msg.startswith(f"{tmp_path / 'list.txt'}:2: image file missing") and "gone.png" in msg
    with pytest.raises(DatasetError, match=r"list\.txt:2: image file missing"):
        YoloDataset(y, "train", 32, strict=True)


def test_corrupt_image(tmp_path: Path) -> None:
    y = make_yolo(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n", "bad": "0 0.5 0.5 0.2 0.2\n"})
    (tmp_path / "images" / "train" / "bad.png").write_bytes(b"not a png")
    ds = YoloDataset(y, "train", 32)
    assert len(ds) == 1 and "bad.png: unreadable image" in ds.report.skipped[0]
    with pytest.raises(DatasetError, match="bad.png: unreadable image"):
        YoloDataset(y, "train", 32, strict=True)


def test_nothing_left_raises(tmp_path: Path) -> None:
    y = make_yolo(tmp_path, {"bad": "9 0.5 0.5 0.2 0.2\n"})
    with pytest.raises(DatasetError, match=r"data\.yaml: split 'train' has no usable images.*bad\.txt:1"):
        YoloDataset(y, "train", 32)


@pytest.mark.parametrize("key", ["names", "val"])
def test_missing_yaml_key(tmp_path: Path, key: str) -> None:
    y = make_yolo(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"})
    data = yaml.safe_load(y.read_text())
    del data[key]
    y.write_text(yaml.safe_dump(data))
    with pytest.raises(DatasetError, match=rf"data\.yaml: missing key '{key}'"):
        YoloDataset(y, "val", 32)


def test_missing_or_malformed_yaml(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nope\.yaml: data YAML not found"):
        YoloDataset(tmp_path / "nope.yaml", "train", 32)
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(DatasetError, match=r"bad\.yaml: cannot read data YAML"):
        YoloDataset(bad, "train", 32)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(DatasetError, match=r"bad\.yaml: data YAML must be a mapping"):
        YoloDataset(bad, "train", 32)


def test_split_folder_missing(tmp_path: Path) -> None:
    y = make_yolo(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}, val="images/nowhere")
    with pytest.raises(DatasetError, match=r"data\.yaml: key 'val': .*nowhere"):
        YoloDataset(y, "val", 32)


def test_boxes_are_counted_and_missing_label_files_are_named(tmp_path: Path) -> None:
    y = make_yolo(tmp_path, {"x": None, "y": None})
    report = YoloDataset(y, "train", 32).report
    assert (report.boxes, report.without_boxes) == (0, 2)
    assert report.labels_hint.startswith("2 of its 2 images have no label file (the labels of ")
    assert str(tmp_path / "labels" / "train" / "x.txt") in report.labels_hint
    with pytest.raises(DatasetError, match=r"the training set .*data\.yaml \[train\] has 2 images and no boxes: "):
        report.require_boxes("the training set")
    y = make_yolo(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.4 0.4\n", "y": ""})
    report = YoloDataset(y, "train", 32).report
    assert (report.boxes, report.without_boxes) == (2, 1) and report.as_dict()["boxes"] == 2
