import json

import pytest

from spikeflow.checkpoint import save_checkpoint
from spikeflow.cli import main
from spikeflow.flow import convert_model, export_checkpoint, verify_build
from tests.factories import randomized_detector, small_config


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    root = tmp_path_factory.mktemp("flow")
    cfg = small_config(input_size=32, channels=(6, 8))
    ckpt = save_checkpoint(root / "model.pt", randomized_detector(cfg, seed=7, num_classes=4), epoch=0,
                           metrics={}, data="synthetic")
    onnx_path = export_checkpoint(ckpt, root / "b" / "model.onnx")
    convert_model(onnx_path, root / "b")
    return root / "b"


def test_verify_writes_zero_mismatch_report(build) -> None:
    results = verify_build(build, frames=6)
    assert {"qonnx", "golden", "golden_spike"} <= set(results)
    assert all(r.mismatches == 0 for r in results.values())
    doc = json.loads((build / "report" / "verify.json").read_text())
    assert doc["stages"]["golden"] == {"compared_to": "qonnx", "frames": 6, "mismatches": 0,
                                       "mismatched_frames": 0, "max_abs_diff": 0.0}
    assert (build / "report" / "spikes.png").is_file()


def test_model_report_has_required_keys(build) -> None:
    doc = json.loads((build / "report" / "model.json").read_text())
    for key in ("model", "input_shape", "params", "weight_bytes", "act_bits", "timesteps", "map50_float",
                "map50_qat", "map50_95_qat", "dataset", "command", "generated"):
        assert key in doc


def test_cli_reports_user_errors_cleanly(tmp_path, capsys) -> None:
    assert main(["train", "--config", str(tmp_path / "missing.yaml"), "--out", str(tmp_path)]) == 2
    assert "config file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninput_size: 64\nlayers: [{type: conv}]\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path)]) == 2
    assert "layers[0]: a conv needs 'channels'" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "nope.onnx"), "--out", str(tmp_path)]) == 2
    assert "QONNX model not found" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
    assert "flow.json is missing" in capsys.readouterr().err


@pytest.mark.slow
def test_verify_float_scales_counts_near_ties(tmp_path) -> None:
    cfg = small_config(input_size=32, channels=(6, 8), scaling="float")
    ckpt = save_checkpoint(tmp_path / "model.pt", randomized_detector(cfg, seed=9, num_classes=4), epoch=0,
                           metrics={}, data="synthetic")
    convert_model(export_checkpoint(ckpt, tmp_path / "b" / "model.onnx"), tmp_path / "b")
    results = verify_build(tmp_path / "b", frames=6)
    golden = results["golden"].as_dict()
    assert golden["mismatches"] == 0  # differences only at near-ties, and they are counted
    assert "near_ties" in golden and golden["near_ties"]["real_mismatches"] == 0
    assert results["golden_spike"].mismatches == 0


@pytest.mark.slow
def test_sim_step_writes_rtl_stages_and_performance(build, monkeypatch) -> None:
    from spikeflow.hardware import simulate_build

    monkeypatch.chdir(build.parent)  # a relative build path, as `make sim` passes it
    results = simulate_build(build.name, frames=4, cocotb=True)
    assert results["rtlsim"].mismatches == 0 and results["rtl_cocotb"].mismatches == 0
    perf = json.loads((build / "report" / "performance.json").read_text())
    for key in ("part", "clock_mhz", "frames_simulated", "cycles_per_frame", "latency_cycles", "fps",
                "estimated_cycles_per_frame"):
        assert key in perf
    assert perf["fps"] == pytest.approx(perf["clock_mhz"] * 1e6 / perf["cycles_per_frame"])
    stages = json.loads((build / "report" / "verify.json").read_text())["stages"]
    assert {"rtlsim", "rtl_cocotb"} <= set(stages)
