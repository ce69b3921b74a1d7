"""`spikeflow eval CHECKPOINT --ir IR`: the QAT model and the SNN of its IR on the same images, every head value
compared, the model card written; an IR of another model is refused before any work."""

import json
from pathlib import Path

import pytest

from spikeflow.cli import main
from spikeflow.convert import convert_qonnx
from spikeflow.errors import CheckpointError
from spikeflow.frontend.checkpoint import save_checkpoint
from spikeflow.frontend.export import export_detector
from spikeflow.frontend.snn_eval import evaluate_with_ir
from tests.factories import randomized_detector, small_config


def _checkpoint_and_ir(root: Path, input_size: int = 32, seed: int = 3) -> tuple[Path, Path]:
    model = randomized_detector(small_config(input_size=input_size, channels=(6, 8)), seed=seed, num_classes=4)
    ckpt = save_checkpoint(root / "model.pt", model, epoch=4, seconds=12.5, data="synthetic",
                           metrics={"map50_float": 0.5, "map50_95_float": 0.25})
    net = convert_qonnx(export_detector(model, root / "model.onnx"))
    net.save(root / "ir")
    return ckpt, root / "ir"


def test_snn_outputs_equal_the_qat_model_and_the_card_says_so(tmp_path: Path) -> None:
    ckpt, ir = _checkpoint_and_ir(tmp_path)
    card = tmp_path / "card.json"
    result = evaluate_with_ir(ckpt, ir, report=card, quiet=True)
    assert result.values == 8 * 27 * 8 * 8 and result.mismatches == 0 and result.mismatched_images == 0
    assert (result.snn.map50, result.snn.map50_95) == (result.qat.map50, result.qat.map50_95)
    doc = json.loads(card.read_text())
    for key in ("model", "input_shape", "params", "weight_bytes", "act_bits", "timesteps", "map50_float",
                "map50_qat", "map50_95_qat", "dataset", "map50_snn", "map50_95_snn", "per_class"):
        assert key in doc, key
    assert doc["images"] == 8 and doc["timesteps"] == 3 and doc["map50_float"] == 0.5
    assert len(doc["per_class"]) == 4
    assert all(c["ap50_snn"] == c["ap50_qat"] for c in doc["per_class"].values())
    assert doc["training"]["epochs"] == 5 and doc["training"]["seconds"] == 12.5


def test_an_ir_of_another_model_is_refused(tmp_path: Path) -> None:
    ckpt, _ = _checkpoint_and_ir(tmp_path / "a")
    _, other = _checkpoint_and_ir(tmp_path / "b", input_size=16)
    with pytest.raises(CheckpointError, match=r"the IR's input is \[3, 16, 16\], the checkpoint's \[3, 32, 32\]"):
        evaluate_with_ir(ckpt, other, quiet=True)


def test_cli_report_needs_the_ir_and_a_missing_ir_is_one_line(tmp_path: Path, capsys) -> None:
    ckpt, _ = _checkpoint_and_ir(tmp_path)
    assert main(["eval", str(ckpt), "--report", str(tmp_path / "c.json")]) == 2
    assert "give the IR with --ir" in capsys.readouterr().err
    assert main(["eval", str(ckpt), "--ir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and len(err.strip().splitlines()) == 1
