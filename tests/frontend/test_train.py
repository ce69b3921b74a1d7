"""Training smoke test: a few images, one float and one QAT epoch; checkpoints, float.pt and resume."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

import spikeflow.frontend.train as train_module
from spikeflow.cli import main
from spikeflow.errors import ConfigError, DatasetError
from spikeflow.frontend.checkpoint import load_detector, read_checkpoint
from spikeflow.frontend.config import TrainSpec
from spikeflow.frontend.train import TrainingError, train
from tests.factories import small_config


def test_train_writes_checkpoints_and_resumes(tmp_path) -> None:
    cfg = replace(small_config(input_size=32, channels=(4, 8)),
                  train=TrainSpec(epochs_float=1, epochs_qat=1, batch_size=8, train_images=32, val_images=8,
                                  freeze_bn_epochs=1))
    result = train(cfg, tmp_path, quiet=True)
    for name in ("model.pt", "last.pt", "float.pt"):
        assert (tmp_path / name).is_file()
    model, doc = load_detector(result.checkpoint)
    assert bool(model.quantized) and doc["epoch"] == 1
    assert not bool(load_detector(tmp_path / "float.pt")[0].quantized)
    assert {"map50_float", "map50_qat", "map50_95_qat"} <= set(doc["metrics"])
    # Resume with one more QAT epoch: continues from epoch 2, not from scratch.
    again = train(cfg, tmp_path, resume=True, epochs_qat=2, quiet=True)
    assert read_checkpoint(again.checkpoint)["epoch"] == 2


def tiny_cfg(**train: int):
    spec = {"epochs_float": 1, "epochs_qat": 1, "batch_size": 8, "train_images": 32, "val_images": 4,
            "freeze_bn_epochs": 1, **train}
    return replace(small_config(input_size=32, channels=(4, 8)), train=TrainSpec(**spec))


@pytest.mark.parametrize(("ef", "eq", "match"), [(0, 0, "at least one epoch in total, got 0 float \\+ 0 QAT"),
                                                 (-1, 2, "float epochs must be >= 0, got -1"),
                                                 (1, -3, "QAT epochs must be >= 0, got -3")])
def test_epoch_counts_checked_before_any_work(tmp_path, ef: int, eq: int, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        train(tiny_cfg(), tmp_path / "run", epochs_float=ef, epochs_qat=eq, quiet=True)
    assert not (tmp_path / "run").exists()


def test_training_set_smaller_than_a_batch_trains_with_a_smaller_batch(tmp_path, capsys) -> None:
    result = train(tiny_cfg(train_images=3, epochs_qat=0), tmp_path)
    assert "training with batches of 3" in capsys.readouterr().err
    doc = read_checkpoint(result.checkpoint)
    assert doc["batch_size"] == 3
    report = json.loads((tmp_path / "train_report.json").read_text())
    assert report["batch_size"] == 3 and report["data_report"]["train"]["kept"] == 3


def test_an_epoch_without_steps_is_an_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(train_module, "pick_batch_size", lambda n, batch, quiet=False: batch)
    with pytest.raises(TrainingError, match="epoch 1 ran no training step \\(3 training images, batch size 8\\)"):
        train(tiny_cfg(train_images=3), tmp_path, quiet=True)
    assert not (tmp_path / "model.pt").exists()


def test_synthetic_run_report_and_checkpoint_record_the_data(tmp_path) -> None:
    train(tiny_cfg(train_images=8, epochs_qat=0), tmp_path, quiet=True)
    doc = read_checkpoint(tmp_path / "model.pt")
    assert doc["data"] == "synthetic" and doc["val_data"] is None
    assert doc["data_report"]["val"] == {"kept": 4, "skipped": 0, "by_reason": {}, "first": [],
                                         "source": "synthetic:val", "notes": [], "boxes": None,
                                         "images_without_boxes": None}


def test_no_float_epochs_prints_skipped_not_nan_and_reports_no_nan(tmp_path, capsys) -> None:
    config = tmp_path / "model.yaml"
    config.write_text("name: t\ninput_size: 32\nlayers: [{type: conv, channels: 4}, {type: maxpool}]\n"
                      "train: {epochs_qat: 1, batch_size: 4, train_images: 8, val_images: 4, freeze_bn_epochs: 0}\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run"), "--epochs-float", "0"]) == 0
    out = capsys.readouterr().out
    assert "float training skipped (0 float epochs)  QAT mAP@0.5 " in out and "nan" not in out.lower()
    text = (tmp_path / "run" / "train_report.json").read_text()
    assert "NaN" not in text and "map50_float" not in json.loads(text)["metrics"]


def test_no_qat_epochs_says_qat_was_skipped(tmp_path) -> None:
    result = train(tiny_cfg(train_images=8, epochs_qat=0), tmp_path, quiet=True)
    assert result.map50_float is not None
    assert result.summary().startswith(f"float mAP@0.5 {result.map50_float:.3f}  QAT skipped (0 QAT epochs)  (")


def write_yolo_without_labels(root: Path, labelled_splits: tuple[str, ...] = ()) -> Path:
    """images/{train,val}/*.png (64x48) and data.yaml; labels/<split>/ only for `labelled_splits`."""
    for split, count in (("train", 8), ("val", 4)):
        (root / "images" / split).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (64, 48), (20 * i, 90, 40)).save(root / "images" / split / f"{i}.png")
            if split in labelled_splits:
                (root / "labels" / split).mkdir(parents=True, exist_ok=True)
                (root / "labels" / split / f"{i}.txt").write_text("0 0.5 0.5 0.3 0.3\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames: [a, b]\n")
    return root / "data.yaml"


def test_a_yolo_set_without_its_labels_folder_does_not_train(tmp_path) -> None:
    data = write_yolo_without_labels(tmp_path / "d")
    expected = tmp_path / "d" / "labels" / "train" / "0.txt"
    with pytest.raises(DatasetError, match=r"the training set .*data\.yaml \[train\] has 8 images and no boxes: 8 "
                                           rf"of its 8 images have no label file .*{expected}"):
        train(tiny_cfg(), tmp_path / "run", data=str(data), quiet=True)
    assert not (tmp_path / "run" / "model.pt").exists()


def test_box_counts_per_split_are_reported_and_a_val_set_without_boxes_is_flagged(tmp_path, capsys) -> None:
    data = write_yolo_without_labels(tmp_path / "d", labelled_splits=("train",))
    result = train(tiny_cfg(epochs_qat=0), tmp_path / "run", data=str(data))
    assert "note: warning: the validation set has 4 images and no boxes" in capsys.readouterr().err
    report = json.loads((tmp_path / "run" / "train_report.json").read_text())["data_report"]
    assert (report["train"]["boxes"], report["train"]["images_without_boxes"]) == (8, 0)
    assert (report["val"]["boxes"], report["val"]["images_without_boxes"]) == (0, 4)
    assert any("no boxes" in note for note in report["val"]["notes"])
    assert main(["eval", str(result.checkpoint)]) == 2
    assert "the validation set" in capsys.readouterr().err
