"""The two-scale detector (topology two_scale): its config keys and errors, the shipped twoscale config's geometry
and size, and a short training run that exports, converts to a 2-head IR and matches QONNX on both heads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from spikeflow.convert import convert_qonnx
from spikeflow.errors import ConfigError
from spikeflow.frontend.checkpoint import load_detector
from spikeflow.frontend.config import config_from_dict, load_config
from spikeflow.frontend.evaluate import evaluate_model
from spikeflow.frontend.export import check_export, export_detector
from spikeflow.frontend.model import QuantDetector
from spikeflow.frontend.model.blocks import ResidualBlock
from spikeflow.frontend.modelinfo import weight_accounting
from spikeflow.frontend.train import train
from spikeflow.golden import run_counts_heads, run_spikes_heads
from spikeflow.verify.qonnx_exec import qonnx_input, run_qonnx_outputs

REPO = Path(__file__).resolve().parents[2]
NAMES = ["circle", "square", "triangle", "cross"]

# 32x32: conv, pool (16), residual block (the fine features), pool (8), conv (the deep features)
TINY = {
    "name": "two", "input_size": 32, "topology": "two_scale",
    "layers": [{"type": "conv", "channels": 4}, {"type": "maxpool", "kernel": 2},
               {"type": "residual", "channels": 3, "kernel": 1}, {"type": "maxpool", "kernel": 2},
               {"type": "conv", "channels": 6}],
    "two_scale": {"route": 2, "lateral": 3, "fine": 4, "fine_anchors": 2},
    "train": {"epochs_float": 1, "epochs_qat": 1, "batch_size": 8, "train_images": 16, "val_images": 4,
              "freeze_bn_epochs": 1},
}


def tiny(**changes) -> dict:
    doc = {**TINY, **changes}
    return {k: v for k, v in doc.items() if v is not None}


@pytest.mark.parametrize(("doc", "message"), [
    (tiny(two_scale={**TINY["two_scale"], "heads": 2}),
     r"two_scale: unknown key 'heads' \(known: fine, fine_anchors, lateral, route\)"),
    (tiny(two_scale=None), r"topology 'two_scale' needs a 'two_scale' section"),
    (tiny(topology=None), r"topology 'chain' takes no 'two_scale' section \(set topology: two_scale\)"),
    (tiny(topology="fpn"), r"topology must be one of chain, two_scale, got 'fpn'"),
    (tiny(two_scale={**TINY["two_scale"], "route": 1}), r"two_scale: route 1 is a maxpool"),
    (tiny(two_scale={**TINY["two_scale"], "route": 4}), r"two_scale: route must be the index of a backbone layer "
                                                         r"before the last \(0\.\.3\), got 4"),
    (tiny(two_scale={**TINY["two_scale"], "route": 0}), r"layer 0's output is 32x32; the fine features must be "
                                                         r"twice the deep grid 8x8"),
    (tiny(two_scale={**TINY["two_scale"], "fine_anchors": 3}), r"fine_anchors must be 1\.\.2"),
    (tiny(two_scale={**TINY["two_scale"], "lateral": 0}), r"lateral must be a number of channels >= 1, got 0"),
    (tiny(two_scale={"lateral": 3}), r"two_scale: .*route"),
    (tiny(layers=[{"type": "conv", "channels": 4}, {"type": "residual"}]),
     r"layers\[1\]: a residual needs 'channels' > 0"),
    (tiny(layers=[{"type": "residual", "channels": 4}]), r"layers\[0\]: a residual block needs 'channels'"),
])
def test_config_errors_name_the_key(doc, message) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_dict(doc, source="m.yaml")


def test_shipped_twoscale_config_geometry_and_size() -> None:
    cfg = load_config(REPO / "model" / "configs" / "twoscale.yaml")
    assert (cfg.input_size, cfg.act_bits, cfg.weight_bits, cfg.head_weight_bits) == (256, 2, 4, 8)
    model = QuantDetector(cfg, NAMES)
    coarse, fine = model.head_specs
    assert (coarse.stride, fine.stride) == (32, 16)
    assert max(w for w, _ in fine.anchors) < min(w for w, _ in coarse.anchors)  # small anchors on the fine head
    assert sum(isinstance(m, ResidualBlock) for m in model.backbone) == 2
    assert weight_accounting(model)["weight_bytes"] <= 1.5e6
    assert config_from_dict(cfg.to_dict()) == cfg.__class__(**{**vars(cfg), "source": "<checkpoint>"})


def test_residual_layers_in_a_chain_config() -> None:
    cfg = config_from_dict(tiny(topology=None, two_scale=None))
    model = QuantDetector(cfg, NAMES)
    assert len(model.head_specs) == 1 and model.head_spec.grid == 8
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 27, 8, 8)


def test_two_scale_trains_exports_and_converts_to_two_heads(tmp_path) -> None:
    """A few images, one float and one QAT epoch; the checkpoint reloads, evaluates over both heads, exports to
    QONNX equal to Brevitas, converts to a 2-head IR whose golden model (count and spike) matches QONNX."""
    result = train(config_from_dict(TINY), tmp_path / "run", quiet=True)
    model, doc = load_detector(result.checkpoint)
    assert model.cfg.topology == "two_scale" and bool(model.quantized)
    assert model.lateral.act is model.backbone[2].conv2.act  # one quantizer for both concat inputs
    assert {"map50_float", "map50_qat"} <= set(doc["metrics"])
    images = torch.rand(2, 3, 32, 32)
    coarse, fine = model(images)
    assert coarse.shape == (2, 9, 8, 8) and fine.shape == (2, 18, 16, 16)
    ev = evaluate_model(model, _val_set(), model.head_specs)
    assert len(ev.detections) == 4

    path = export_detector(model, tmp_path / "m.onnx")
    frames = np.random.default_rng(0).integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    check = check_export(model, path, qonnx_input(frames))
    assert check.passed and check.max_abs_diff == 0.0
    net = convert_qonnx(path)
    assert len(net.heads) == 2 and [h.out_shape for h in net.heads] == [(9, 8, 8), (18, 16, 16)]
    kinds = [layer.kind for layer in net.layers]
    assert "concat" in kinds and "upsample" in kinds
    reference = run_qonnx_outputs(path, qonnx_input(frames))
    counts = run_counts_heads(net, frames)
    for head, v, s, ref in zip(net.heads, counts, run_spikes_heads(net, frames), reference, strict=True):
        assert np.array_equal(v, s)
        assert np.count_nonzero(v.astype(np.float64) * head.out_scale[None, :, None, None] != ref) == 0


def _val_set():
    from spikeflow.data.loader import build_dataset

    return build_dataset(None, "val", 32, synthetic_count=4, seed=0)
