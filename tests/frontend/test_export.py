import numpy as np
import pytest
from torch import nn

from spikeflow.errors import UnsupportedModuleError
from spikeflow.frontend.export import check_export, export_detector
from tests.factories import random_frames, randomized_detector, small_config


def test_export_equals_brevitas_exactly(tmp_path) -> None:
    cfg = small_config(input_size=32, channels=(6, 8, 12))
    model = randomized_detector(cfg, seed=5)
    path = export_detector(model, tmp_path / "m.onnx")
    frames = random_frames(cfg, 8).numpy().astype(np.float32) / 256
    check = check_export(model, path, frames)
    assert check.max_abs_diff == 0.0 and check.passed


def test_unsupported_module_is_named(tmp_path) -> None:
    cfg = small_config()
    model = randomized_detector(cfg)
    model.backbone.insert(1, nn.Sigmoid())
    with pytest.raises(UnsupportedModuleError, match=r"module 'backbone\.1' \(Sigmoid\)"):
        export_detector(model, tmp_path / "m.onnx")


def test_export_writes_one_self_contained_file(tmp_path) -> None:
    cfg = small_config(input_size=32, channels=(6, 8))
    model = randomized_detector(cfg, seed=3)
    path = export_detector(model, tmp_path / "m.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    moved = tmp_path / "elsewhere" / "moved.onnx"  # no external file to follow it: it still loads and runs
    moved.parent.mkdir()
    path.rename(moved)
    frames = random_frames(cfg, 2).numpy().astype(np.float32) / 256
    assert check_export(model, moved, frames).max_abs_diff == 0.0
