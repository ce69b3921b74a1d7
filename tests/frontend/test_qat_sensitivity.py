"""bench/qat_sensitivity.py: the float model quantized untrained and the QAT model with quantizers undone, on the
shipped tiny; undoing nothing gives the QAT model's own mAP, and the patched quantizers are put back."""

import importlib.util
import json
import sys
from pathlib import Path

import torch

from spikeflow.frontend.checkpoint import load_detector
from spikeflow.frontend.model.blocks import FoldedConvBNReLU

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("qat_sensitivity", ROOT / "bench" / "qat_sensitivity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sensitivity_rows_on_the_shipped_tiny(tmp_path, monkeypatch) -> None:
    bench = _bench()
    out = tmp_path / "qs.json"
    monkeypatch.setattr(sys, "argv", ["qat_sensitivity", str(ROOT / "model" / "tiny.pt"), "--float",
                                      str(ROOT / "model" / "tiny.float.pt"), "--bits", "3/4", "--images", "16",
                                      "--out", str(out)])
    torch.set_num_threads(1)
    with torch.no_grad():
        bench.main()
    rows = {r["variant"]: r["map50"] for r in json.loads(out.read_text())["rows"]}
    assert "float model quantized untrained, a=3 w=4" in rows and "backbone weights at their float values" in rows
    assert len(rows) == 10 and all(0.0 <= v <= 1.0 for v in rows.values())


def test_undone_quantizers_are_put_back_and_nothing_undone_is_the_qat_model() -> None:
    bench = _bench()
    model, _ = load_detector(ROOT / "model" / "tiny.pt")
    layers = [m for m in model.backbone if isinstance(m, FoldedConvBNReLU)]
    acts = [layer.act for layer in layers]
    x = torch.rand(2, 3, model.cfg.input_size, model.cfg.input_size)
    with torch.no_grad():
        before = model(x)
        with bench.patched(layers, "act", lambda a: bench.ExactActivation(a, clip=True)):
            unrounded = model(x)
        after = model(x)
    assert [layer.act for layer in layers] == acts
    assert torch.equal(before, after) and not torch.equal(before, unrounded)
