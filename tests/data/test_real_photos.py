"""Train and evaluate on a small YOLO folder of real-photo images with the problems real data has:
16-bit, RGBA and greyscale PNGs load; truncated and empty files and bad labels are skipped and counted."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import ImageOps

from spikeflow.data import YoloDataset
from spikeflow.frontend.checkpoint import read_checkpoint
from spikeflow.frontend.config import TrainSpec
from spikeflow.frontend.evaluate import evaluate_checkpoint
from spikeflow.frontend.train import train
from tests.data.images import photo, photo16, write_png16, write_truncated_jpeg
from tests.factories import small_config

FACE = "0 0.5 0.4 0.4 0.45\n"  # Grace Hopper's head and shoulders, roughly


def build_folder(root: Path) -> Path:
    """root/data.yaml with images/{train,val} and labels/{train,val}; returns the YAML."""
    img = photo()
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
    train, val = root / "images" / "train", root / "images" / "val"
    for n, (w, h) in enumerate([(64, 75), (48, 56), (80, 94), (40, 47), (100, 117), (56, 66)]):
        (ImageOps.mirror(img) if n % 2 else img).resize((w, h)).save(train / f"photo{n}.jpg", quality=85)
    write_png16(train / "deep16.png", photo16((60, 70)))
    write_png16(train / "grey16.png", photo16((60, 70))[..., 0])
    rgba = img.resize((60, 70)).convert("RGBA")
    rgba.putalpha(200)
    rgba.save(train / "alpha.png")
    img.resize((60, 70)).convert("L").save(train / "grey.png")
    write_truncated_jpeg(train / "cut.jpg", size=(60, 70))
    (train / "empty.jpg").write_bytes(b"")
    img.resize((50, 58)).save(train / "badlabel.jpg")
    for n in range(2):
        img.crop((0, 0, 512, 560 + 20 * n)).resize((48, 56)).save(val / f"val{n}.jpg")
    write_truncated_jpeg(val / "cut.jpg", size=(48, 56), keep=0.6)
    for split in ("train", "val"):
        for f in (root / "images" / split).iterdir():
            (root / "labels" / split / f"{f.stem}.txt").write_text(FACE)
    (root / "labels" / "train" / "badlabel.txt").write_text("3 0.5 0.5 0.2 0.2\n")
    data = {"path": ".", "train": "images/train", "val": "images/val", "names": ["face"]}
    (root / "data.yaml").write_text(yaml.safe_dump(data))
    return root / "data.yaml"


def test_odd_image_files_load_as_8bit_rgb(tmp_path: Path) -> None:
    ds = YoloDataset(build_folder(tmp_path), "train", 32)
    by_name = {Path(ds[i].source).name: ds[i] for i in range(len(ds))}
    assert sorted(by_name) == sorted(["alpha.png", "deep16.png", "grey.png", "grey16.png",
                                      *(f"photo{n}.jpg" for n in range(6))])
    for name in ("deep16.png", "grey16.png", "grey.png", "alpha.png"):
        image = by_name[name].image
        assert image.dtype == np.uint8 and (image == 255).mean() < 0.05, name
    grey = by_name["grey16.png"].image
    assert (grey[0] == grey[1]).all() and (grey[1] == grey[2]).all()


def test_train_and_eval_on_real_photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    build_folder(tmp_path / "d")
    monkeypatch.chdir(tmp_path)
    cfg = replace(small_config(input_size=32, channels=(4, 8)),
                  train=TrainSpec(epochs_float=1, epochs_qat=1, batch_size=4, freeze_bn_epochs=1))
    result = train(cfg, "run", data="d/data.yaml")
    err = capsys.readouterr().err
    assert "10 images kept, 3 skipped" in err and "truncated-image 1" in err

    report = json.loads((tmp_path / "run" / "train_report.json").read_text())
    assert report["data"] == str(tmp_path / "d" / "data.yaml")
    train_report, val_report = report["data_report"]["train"], report["data_report"]["val"]
    assert train_report["kept"] == 10 and train_report["skipped"] == 3
    assert train_report["by_reason"] == {"truncated-image": 1, "unreadable-image": 1, "bad-label": 1}
    assert val_report["kept"] == 2 and val_report["by_reason"] == {"truncated-image": 1}
    doc = read_checkpoint(result.checkpoint)
    assert doc["data_report"] == report["data_report"] and doc["data"] == report["data"]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ev = evaluate_checkpoint(tmp_path / "run" / "model.pt")
    assert len(ev.samples) == 2 and 0.0 <= ev.map50 <= 1.0
    out = capsys.readouterr()
    assert "2 images kept, 1 skipped (truncated-image 1)" in out.err and "mAP@0.5" in out.out
