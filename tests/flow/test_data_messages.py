"""What a build says about its data: each dataset remark and skip line once, however many steps read the set."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from PIL import Image

from spikeflow.cli import main
from spikeflow.frontend.checkpoint import save_checkpoint
from tests.factories import randomized_detector, small_config

TINY = ("name: t\ninput_size: 32\nlayers: [{type: conv, channels: 4}, {type: maxpool}, {type: conv, channels: 8}, "
        "{type: maxpool}]\ntrain: {epochs_float: 1, epochs_qat: 1, batch_size: 4, val_images: 4, "
        "freeze_bn_epochs: 1}\n")


def write_coco_with_a_bad_annotation(folder: Path) -> Path:
    """folder/val.json over six 48x40 PNGs with one box each, plus an annotation of an unknown category."""
    (folder / "images").mkdir(parents=True)
    images, anns = [], []
    for i in range(1, 7):
        Image.new("RGB", (48, 40), (30 * i, 90, 40)).save(folder / "images" / f"{i}.png")
        images.append({"id": i, "file_name": f"{i}.png", "width": 48, "height": 40})
        anns.append({"id": i, "image_id": i, "category_id": 1, "bbox": [4, 4, 20, 16]})
    anns.append({"id": 99, "image_id": 3, "category_id": 7, "bbox": [1, 1, 5, 5]})
    path = folder / "val.json"
    path.write_text(json.dumps({"images": images, "annotations": anns,
                                "categories": [{"id": 1, "name": "dog"}, {"id": 2, "name": "cat"}]}))
    return path


def test_a_build_on_one_coco_json_says_so_once_and_shows_its_val_skips_once(tmp_path, capsys, caplog) -> None:
    data = write_coco_with_a_bad_annotation(tmp_path / "coco")
    (tmp_path / "tiny.yaml").write_text(TINY)
    config = tmp_path / "b.yaml"
    config.write_text(f"model: {{train: tiny.yaml}}\ndata: {data}\nframes: 4\n"
                      "steps: [train, evaluate, export, frames]\n")
    with caplog.at_level(logging.WARNING):
        assert main(["build", str(tmp_path / "b"), "--config", str(config)]) == 0
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert out.count("one COCO JSON serves as both train and val set") == 1
    assert "give it as --data or as a build config's 'data:' (train and eval also take --val-data VAL.json)" in out
    assert out.count(f"{data} [val]: 5 images kept, 1 skipped (unknown-category 1)") == 1
    assert not [r for r in caplog.records if "annotation id 99" in r.getMessage() or "COCO JSON" in r.getMessage()]


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    cfg = small_config(input_size=32, channels=(4, 8))
    return save_checkpoint(tmp_path / "model.pt", randomized_detector(cfg, num_classes=4), epoch=0, metrics={},
                           data="synthetic")


def test_a_build_on_a_folder_prints_its_skip_line_once(tmp_path, capsys, checkpoint) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "0.png").write_bytes(b"not a png")
    Image.new("RGB", (40, 30), (200, 90, 10)).save(photos / "1.png")
    config = tmp_path / "b.yaml"
    config.write_text(f"model: {{checkpoint: {checkpoint}}}\ndata: {photos}\nframes: 2\nsteps: [export, frames]\n")
    assert main(["build", str(tmp_path / "b"), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.count(f"frames: skipped 1 unreadable image(s) in {photos}: 0.png") == 1
