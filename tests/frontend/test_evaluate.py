"""Evaluation of checkpoints: class counts checked before any work, dataset paths stored usably."""

import os
from pathlib import Path

import pytest
import yaml
from PIL import Image

import spikeflow.frontend.evaluate as evaluate_module
from spikeflow.data import build_dataset
from spikeflow.errors import DatasetError
from spikeflow.frontend.checkpoint import data_reference, resolve_stored_data, save_checkpoint
from spikeflow.frontend.evaluate import check_classes, evaluate_checkpoint
from tests.factories import randomized_detector, small_config


def yolo_yaml(folder: Path, nc: int) -> Path:
    """folder/data.yaml with `nc` classes and two labelled 40x30 images as train and val."""
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    for n in range(2):
        Image.new("RGB", (40, 30), (40 * n, 90, 30)).save(folder / "images" / f"{n}.png")
        (folder / "labels" / f"{n}.txt").write_text(f"{n % nc} 0.5 0.5 0.4 0.4\n")
    names = [f"k{i}" for i in range(nc)]
    (folder / "data.yaml").write_text(yaml.safe_dump({"train": "images", "val": "images", "names": names}))
    return folder / "data.yaml"


def checkpoint(path: Path, classes: int, **state: object) -> Path:
    return save_checkpoint(path, randomized_detector(small_config(input_size=32), num_classes=classes), **state)


def test_class_count_mismatch_is_one_error_before_the_forward_pass(tmp_path: Path, monkeypatch) -> None:
    ckpt = checkpoint(tmp_path / "run" / "model.pt", 4, data="synthetic")
    data = yolo_yaml(tmp_path / "d", 80)

    def no_forward(*args: object, **kwargs: object) -> None:
        raise AssertionError("the forward pass ran")

    monkeypatch.setattr(evaluate_module.SampleLoader, "__iter__", no_forward)
    message = r"model\.pt: the model has 4 classes but dataset .*data\.yaml \[val\] has 80"
    with pytest.raises(DatasetError, match=message):
        evaluate_checkpoint(ckpt, data=str(data), quiet=True)


def test_check_classes_and_evaluate_model_check(tmp_path: Path) -> None:
    ds = build_dataset(yolo_yaml(tmp_path, 3), "val", 32)
    check_classes(["k0", "k1", "k2"], ds, "here")
    with pytest.raises(DatasetError, match="here: the model has 2 classes but dataset .* has 3"):
        check_classes(["a", "b"], ds, "here")
    model = randomized_detector(small_config(input_size=32), num_classes=2)
    with pytest.raises(DatasetError, match="evaluation: the model has 2 classes .* has 3"):
        evaluate_module.evaluate_model(model, ds, model.head_spec)


def test_data_paths_are_stored_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert data_reference("d/data.yaml") == str(tmp_path / "d" / "data.yaml")
    assert data_reference(None) == data_reference("synthetic") == "synthetic"


def test_old_relative_data_path_resolves_against_the_checkpoint_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    run = tmp_path / "run"
    yolo_yaml(run / "d", 2)
    ckpt = checkpoint(run / "model.pt", 2, data=os.path.join("d", "data.yaml"))  # as an old checkpoint stored it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert resolve_stored_data("d/data.yaml", ckpt) == str(run / "d" / "data.yaml")
    assert resolve_stored_data(str(run / "x.yaml"), ckpt) == str(run / "x.yaml")
    ev = evaluate_checkpoint(ckpt)
    assert len(ev.samples) == 2
    assert "2 images kept, 0 skipped" in capsys.readouterr().err
