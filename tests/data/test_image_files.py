"""Image decoding rules: 16-bit images keep their top 8 bits; truncated or empty files are skipped alike."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from spikeflow.data import CocoDataset, YoloDataset
from spikeflow.data.letterbox import image_size, open_rgb
from spikeflow.errors import DatasetError
from tests.data.images import photo, photo16, write_png16, write_truncated_jpeg


def test_16bit_greyscale_png_is_value_shifted_by_8(tmp_path: Path) -> None:
    grey16 = photo16()[..., 1]
    path = write_png16(tmp_path / "g16.png", grey16)
    assert Image.open(path).mode.startswith("I;16")
    rgb = np.asarray(open_rgb(path))
    assert rgb.dtype == np.uint8 and rgb.shape == (*grey16.shape, 3)
    for c in range(3):
        assert (rgb[..., c] == grey16 >> 8).all()
    assert (rgb == 255).mean() < 0.05  # not blown out to white


def test_16bit_rgb_png_is_value_shifted_by_8(tmp_path: Path) -> None:
    rgb16 = photo16()
    path = write_png16(tmp_path / "rgb16.png", rgb16)
    rgb = np.asarray(open_rgb(path))
    assert rgb.dtype == np.uint8 and (rgb == rgb16 >> 8).all()


def test_8bit_modes_unchanged(tmp_path: Path) -> None:
    img = photo().resize((40, 30))
    img.convert("L").save(tmp_path / "grey.png")
    img.convert("RGBA").save(tmp_path / "rgba.png")
    img.save(tmp_path / "rgb.png")
    grey = np.asarray(img.convert("L"))
    assert (np.asarray(open_rgb(tmp_path / "grey.png"))[..., 0] == grey).all()
    assert (np.asarray(open_rgb(tmp_path / "rgba.png")) == np.asarray(img)).all()
    assert (np.asarray(open_rgb(tmp_path / "rgb.png")) == np.asarray(img)).all()


def test_truncated_jpeg_fails_the_scan_check(tmp_path: Path) -> None:
    path = write_truncated_jpeg(tmp_path / "cut.jpg")
    with pytest.raises(OSError, match="truncated"):
        image_size(path)
    photo().resize((50, 40)).save(tmp_path / "whole.jpg")
    assert image_size(tmp_path / "whole.jpg") == (50, 40)


def _yolo_with_bad_files(tmp_path: Path) -> Path:
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    photo().resize((60, 70)).save(images / "good.jpg")
    write_truncated_jpeg(images / "cut.jpg")
    (images / "empty.jpg").write_bytes(b"")
    for name in ("good", "cut", "empty"):
        (labels / f"{name}.txt").write_text("0 0.5 0.5 0.4 0.4\n")
    (tmp_path / "data.yaml").write_text(yaml.safe_dump({"train": "images", "val": "images", "names": ["face"]}))
    return tmp_path / "data.yaml"


def test_truncated_and_empty_images_are_both_skipped_and_counted(tmp_path: Path) -> None:
    ds = YoloDataset(_yolo_with_bad_files(tmp_path), "train", 32)
    assert [Path(ds[i].source).name for i in range(len(ds))] == ["good.jpg"]
    report = ds.report.as_dict()
    assert report["kept"] == 1 and report["skipped"] == 2
    assert report["by_reason"] == {"truncated-image": 1, "unreadable-image": 1}
    assert any("cut.jpg" in e and "truncated" in e for e in report["first"])
    with pytest.raises(DatasetError, match=r"cut\.jpg: unreadable image: image file is truncated"):
        YoloDataset(tmp_path / "data.yaml", "train", 32, strict=True)


def test_truncated_image_skipped_in_coco(tmp_path: Path) -> None:
    photo().resize((60, 70)).save(tmp_path / "good.jpg")
    write_truncated_jpeg(tmp_path / "cut.jpg", size=(60, 70))
    images = [{"id": 1, "file_name": "good.jpg"}, {"id": 2, "file_name": "cut.jpg"}]
    doc = {"images": images, "annotations": [], "categories": [{"id": 1, "name": "face"}]}
    (tmp_path / "a.json").write_text(__import__("json").dumps(doc))
    ds = CocoDataset(tmp_path / "a.json", 32)
    assert ds.image_ids == [1] and ds.report.as_dict()["by_reason"] == {"truncated-image": 1}
