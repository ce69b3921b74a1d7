"""The build flow end to end on a small random detector: steps, reports, errors, and the torch-free hand-off."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml

from spikeflow.cli import main
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.flow.runner import run_build
from spikeflow.frontend.checkpoint import save_checkpoint
from tests.backends.rtl.simtools import require_verilator
from tests.factories import randomized_detector, small_config


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("flow")
    cfg = small_config(input_size=32, channels=(6, 8))
    return save_checkpoint(root / "model.pt", randomized_detector(cfg, seed=7, num_classes=4), epoch=0,
                           metrics={}, data="synthetic")


@pytest.fixture(scope="module")
def build(checkpoint, tmp_path_factory):
    root = tmp_path_factory.mktemp("b") / "b"
    cfg = BuildConfig(ModelSource("checkpoint", checkpoint), frames=6,
                      steps=("export", "frames", "convert", "verify", "fold", "report"))
    run_build(root, cfg)
    return root


def test_verify_writes_zero_mismatch_report(build) -> None:
    doc = json.loads((build / "report" / "verify.json").read_text())
    assert doc["stages"]["golden"] == {"compared_to": "qonnx", "frames": 6, "mismatches": 0,
                                       "mismatched_frames": 0, "max_abs_diff": 0.0}
    assert doc["stages"]["qonnx"]["compared_to"] == "brevitas" and doc["stages"]["qonnx"]["mismatches"] == 0
    assert doc["stages"]["golden_spike"]["mismatches"] == 0
    assert doc["qonnx_float32_exact"] is True
    assert (build / "report" / "spikes.png").is_file()


def test_model_report_has_required_keys(build) -> None:
    doc = json.loads((build / "report" / "model.json").read_text())
    for key in ("model", "input_shape", "params", "weight_bytes", "act_bits", "timesteps", "map50_float",
                "map50_qat", "map50_95_qat", "dataset", "command", "generated"):
        assert key in doc


def test_build_folder_holds_the_hand_off_files(build) -> None:
    import numpy as np

    with np.load(build / "frames.npz") as npz:
        assert npz["frames"].shape == (6, 3, 32, 32) and npz["frames"].dtype == np.uint8
        assert len(npz["boxes"]) == len(npz["labels"]) == len(npz["frame_index"])
        assert str(npz["data"]) == "synthetic"
    folding = json.loads((build / "folding.json").read_text())
    assert set(folding["layers"]) == {"Conv_0", "Conv_1", "Conv_2"} and folding["pixels_per_beat"] == 1
    times = json.loads((build / "report" / "time_per_step.json").read_text())["steps"]
    assert list(times) == ["export", "frames", "convert", "verify", "fold", "report"]
    saved = yaml.safe_load((build / "build.yaml").read_text())
    assert saved["frames"] == 6 and saved["board"] == "zcu104"
    info = json.loads((build / "model_info.json").read_text())
    assert info["names"] == ["c0", "c1", "c2", "c3"]
    ir_meta = json.loads((build / "ir" / "network.json").read_text())["meta"]
    assert ir_meta["names"] == info["names"] and len(ir_meta["anchors"]) == 3


def test_missing_input_names_the_step_that_makes_it(tmp_path, checkpoint, capsys) -> None:
    config = tmp_path / "b.yaml"
    config.write_text(f"model: {{checkpoint: {checkpoint}}}\nframes: 2\n")
    assert main(["build", str(tmp_path / "empty"), "--config", str(config), "--from", "verify"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "step 'verify' needs" in err and "which step 'convert' makes" in err


@pytest.mark.parametrize("text,message", [
    ("model: {checkpoint: m.pt}\nboard: zcu102\n",
     "unknown board 'zcu102' (known: pynq-z2, zcu104, u50, u250, ulx3s-85f)"),
    ("model: {checkpoint: m.pt}\nsteps: [export, synth]\n", "unknown step 'synth'"),
    ("model: {checkpoint: m.pt}\nclock: 300\n", "unknown key 'clock'"),
    ("model: {checkpoint: m.pt}\nframes: 0\n", "frames must be >= 1"),
    ("model: {onnx: m.onnx}\n", "model must be one of"),
    ("board: zcu104\n", "missing key 'model'"),
])
def test_bad_build_config_is_a_one_line_error(tmp_path, capsys, text, message) -> None:
    config = tmp_path / "b.yaml"
    config.write_text(text)
    assert main(["build", str(tmp_path / "b"), "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and err.startswith("spikeflow build: error:")


def test_unknown_step_bounds_and_board_override_are_one_line_errors(tmp_path, capsys, checkpoint) -> None:
    config = tmp_path / "b.yaml"
    config.write_text(f"model: {{checkpoint: {checkpoint}}}\n")
    for args, message in ((["--from", "place"], "unknown step 'place'"),
                          (["--to", "cocotb"], "step 'cocotb' is not among this build's steps"),
                          (["--board", "kv260"], "--board: unknown board 'kv260'"),
                          (["--frames", "-3"], "frames must be >= 1")):
        assert main(["build", str(tmp_path / "b"), "--config", str(config), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err


def test_cli_reports_user_errors_cleanly(tmp_path, capsys) -> None:
    assert main(["train", "--config", str(tmp_path / "missing.yaml"), "--out", str(tmp_path)]) == 2
    assert "config file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninput_size: 64\nlayers: [{type: conv}]\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path)]) == 2
    assert "layers[0]: a conv needs 'channels'" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "b"), "--qonnx", str(tmp_path / "nope.onnx")]) == 2
    assert "QONNX model not found" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
    assert "has no build.yaml" in capsys.readouterr().err
    assert main(["sim", str(tmp_path), "--frames", "0"]) == 2


# Run in a fresh interpreter where torch, brevitas and spikeflow's torch model code cannot be imported.
_NO_TORCH = textwrap.dedent("""
    import sys
    for name in ("torch", "brevitas", "spikeflow.frontend"):
        sys.modules[name] = None
    try:
        import spikeflow.frontend.model  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the import block does not work")
    from spikeflow.cli import main
    code = main(sys.argv[1:])
    assert "torch" not in sys.modules or sys.modules["torch"] is None
    sys.exit(code)
""")


def _without_torch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _NO_TORCH, *args], capture_output=True, text=True)


@pytest.mark.slow
def test_hardware_steps_need_only_ir_frames_and_config(build, tmp_path) -> None:
    """`--from rtl --to rtlsim` on a folder holding only ir/, frames.npz and the config, with no torch."""
    require_verilator()
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copytree(build / "ir", bare / "ir")
    shutil.copy(build / "frames.npz", bare / "frames.npz")
    config = bare / "build.yaml"
    shutil.copy(build / "build.yaml", config)
    cfg = yaml.safe_load(config.read_text())
    cfg["steps"] = ["export", "frames", "convert", "verify", "fold", "rtl", "rtlsim", "report"]
    config.write_text(yaml.safe_dump(cfg))
    proc = _without_torch("build", str(bare), "--config", str(config), "--from", "rtl", "--to", "rtlsim")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stages = json.loads((bare / "report" / "verify.json").read_text())["stages"]
    assert stages["rtlsim"]["mismatches"] == 0 and stages["rtlsim"]["frames"] == 6
    perf = json.loads((bare / "report" / "performance.json").read_text())
    assert perf["cycles_per_frame"] == pytest.approx(perf["estimated_cycles_per_frame"], rel=0.05)
    assert set(json.loads((bare / "report" / "time_per_step.json").read_text())["steps"]) == {"rtl", "rtlsim"}


def test_qonnx_source_and_image_folder_need_no_torch(build, tmp_path) -> None:
    """A user with a QONNX file and a folder of images runs export (import), frames, convert and verify."""
    from PIL import Image

    images = tmp_path / "photos"
    images.mkdir()
    for i, size in enumerate(((40, 30), (32, 64), (50, 50))):
        Image.new("RGB", size, (40 * i, 90, 200 - 30 * i)).save(images / f"p{i}.png")
    (images / "broken.jpg").write_bytes(b"not a jpeg")
    config = tmp_path / "q.yaml"
    config.write_text(f"model: {{qonnx: {build / 'model.onnx'}}}\ndata: {images}\nnames: [a, b, c, d]\n"
                      f"frames: 8\nsteps: [export, frames, convert, verify]\n")
    proc = _without_torch("build", str(tmp_path / "q"), "--config", str(config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipped 1 unreadable image(s)" in proc.stdout
    skips = json.loads((tmp_path / "q" / "report" / "frames.json").read_text())["data_report"]
    assert skips["kept"] == 3 and skips["by_reason"] == {"unreadable": 1} and "broken.jpg" in skips["first"][0]
    stages = json.loads((tmp_path / "q" / "report" / "verify.json").read_text())["stages"]
    assert stages["golden"]["frames"] == 3 and stages["golden"]["mismatches"] == 0
    assert "qonnx" not in stages  # no Brevitas model to compare QONNX with


@pytest.mark.slow
def test_verify_float_scales_counts_near_ties(tmp_path) -> None:
    cfg = small_config(input_size=32, channels=(6, 8), scaling="float")
    ckpt = save_checkpoint(tmp_path / "model.pt", randomized_detector(cfg, seed=9, num_classes=4), epoch=0,
                           metrics={}, data="synthetic")
    run_build(tmp_path / "b", BuildConfig(ModelSource("checkpoint", ckpt), frames=6,
                                          steps=("export", "frames", "convert", "verify")))
    doc = json.loads((tmp_path / "b" / "report" / "verify.json").read_text())
    golden = doc["stages"]["golden"]
    assert golden["mismatches"] == 0  # differences only at near-ties, and they are counted
    assert "near_ties" in golden and golden["near_ties"]["real_mismatches"] == 0
    assert doc["stages"]["golden_spike"]["mismatches"] == 0
    assert doc["qonnx_float32_exact"] is False and "float scales" in doc["qonnx_exactness"]


@pytest.mark.slow
def test_sim_steps_write_rtl_stages_and_performance(build, monkeypatch) -> None:
    require_verilator()
    monkeypatch.chdir(build.parent)  # a relative build path, as `make sim` passes it
    assert main(["sim", build.name, "--frames", "4"]) == 0
    perf = json.loads((build / "report" / "performance.json").read_text())
    for key in ("part", "clock_mhz", "frames_simulated", "cycles_per_frame", "latency_cycles", "fps",
                "estimated_cycles_per_frame"):
        assert key in perf
    assert perf["fps"] == pytest.approx(perf["clock_mhz"] * 1e6 / perf["cycles_per_frame"])
    stages = json.loads((build / "report" / "verify.json").read_text())["stages"]
    assert stages["rtlsim"]["mismatches"] == 0 and stages["rtl_cocotb"]["mismatches"] == 0


def test_sim_with_two_frames_reports_timing_unavailable(build, tmp_path) -> None:
    require_verilator()
    copy = tmp_path / "two"
    shutil.copytree(build, copy, ignore=shutil.ignore_patterns("rtl", "cocotb"))
    assert main(["sim", str(copy), "--frames", "2", "--no-cocotb"]) == 0
    perf = json.loads((copy / "report" / "performance.json").read_text())
    assert perf["cycles_per_frame"] is None and perf["fps"] is None
    assert "at least 3" in perf["timing_note"]


@pytest.mark.slow
def test_fold_to_target_and_estimate_steps(build, tmp_path) -> None:
    """fold for a target frame rate, generate, estimate with Yosys (out of context, cached) and simulate."""
    require_verilator()
    if shutil.which("yosys") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but yosys is not installed ('make setup' installs it)")
        pytest.skip("yosys not installed")
    copy = tmp_path / "fold"
    shutil.copytree(build, copy, ignore=shutil.ignore_patterns("rtl", "cocotb"))
    config = tmp_path / "fold.yaml"
    saved = yaml.safe_load((build / "build.yaml").read_text())
    saved.update(board="pynq-z2", target_fps=50_000, frames=4,
                 steps=["fold", "rtl", "estimate", "rtlsim", "report"])
    config.write_text(yaml.safe_dump(saved))
    assert main(["build", str(copy), "--config", str(config)]) == 0
    plan = json.loads((copy / "report" / "folding.json").read_text())
    assert plan["target_met"] and plan["budget_cycles"] == 2_000  # 100 MHz / 50,000 FPS
    perf = json.loads((copy / "report" / "performance.json").read_text())
    assert perf["cycles_per_frame"] <= plan["budget_cycles"] * 1.05
    res = json.loads((copy / "report" / "resources.json").read_text())
    for key in ("part", "tool", "LUT", "FF", "BRAM36", "URAM", "DSP", "capacity", "max_logic_levels"):
        assert key in res
    assert res["tool"].startswith("yosys") and res["part"] == "xc7z020clg400-1"
    assert res["LUT"] > 0 and res["capacity"]["LUT"] == 53_200
    assert {row["layer"] for row in res["layers"]} >= {"input", "Conv_0", "Conv_2", "output"}
    assert (copy / "report" / "resources.png").is_file()


def test_a_new_export_drops_the_rows_of_the_model_exported_before(build, checkpoint, tmp_path) -> None:
    """verify.json's rows describe the model they ran on: a new export keeps none of the earlier model's."""
    root = tmp_path / "b"
    shutil.copytree(build, root)
    doc = json.loads((root / "report" / "verify.json").read_text())
    doc["stages"]["rtlsim"] = {"compared_to": "golden", "frames": 6, "mismatches": 0}  # from an earlier model
    (root / "report" / "verify.json").write_text(json.dumps(doc))
    run_build(root, BuildConfig(ModelSource("checkpoint", checkpoint), frames=6, steps=("export",)))
    stages = json.loads((root / "report" / "verify.json").read_text())["stages"]
    assert set(stages) == {"qonnx"} and stages["qonnx"]["mismatches"] == 0


def test_export_uses_the_evaluate_steps_map_only_for_the_same_checkpoint_file(build, checkpoint, tmp_path) -> None:
    from spikeflow.flow.report import file_sha256

    root = tmp_path / "b"
    shutil.copytree(build, root)
    cfg = BuildConfig(ModelSource("checkpoint", checkpoint), frames=6, steps=("export",))
    for sha, used in ((file_sha256(checkpoint), True), ("0" * 64, False)):  # the same file, then another one
        (root / "report" / "evaluation.json").write_text(json.dumps(
            {"checkpoint": str(checkpoint), "sha256": sha, "dataset": "synthetic", "map50": 0.123, "map50_95": 0.1}))
        run_build(root, cfg)
        model = json.loads((root / "report" / "model.json").read_text())
        assert (model["map50_qat"] == 0.123) is used
