"""The command line: user errors are one line and exit code 2, found before the heavy imports where they can be."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# A fresh interpreter: run the CLI, then report whether torch or brevitas were imported on the way.
_RUN = textwrap.dedent("""
    import sys
    from spikeflow.cli import main
    code = main(sys.argv[1:])
    print("heavy imports:", sorted(m for m in ("torch", "brevitas") if m in sys.modules))
    sys.exit(code)
""")

GOOD_CONFIG = "name: t\ninput_size: 32\nlayers: [{type: conv, channels: 4}, {type: maxpool}]\n"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _RUN, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("config", "extra", "message"), [
    (GOOD_CONFIG + "train: {epochs: 3}\n", (), "train: unknown key 'epochs'"),
    (GOOD_CONFIG, ("--epochs-float", "-1"), "float epochs must be >= 0, got -1"),
    (GOOD_CONFIG, ("--data", "missing/data.yaml"), "--data missing/data.yaml: file not found"),
    (GOOD_CONFIG, ("--val-data", "images/"), "--val-data images/: unknown dataset kind"),
    (GOOD_CONFIG, ("--from-float", "runs/x/float.pt"), "--from-float runs/x/float.pt: no such checkpoint"),
], ids=["unknown-key", "negative-epochs", "missing-data", "folder-as-val-data", "missing-float-checkpoint"])
def test_train_config_errors_come_before_torch_is_imported(tmp_path: Path, config: str, extra: tuple[str, ...],
                                                           message: str) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(config)
    proc = run_cli("train", "--config", str(path), "--out", str(tmp_path / "run"), *extra)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("spikeflow train: error:") and message in err
    assert "heavy imports: []" in proc.stdout
    assert not (tmp_path / "run").exists()


def test_eval_of_a_missing_checkpoint_fails_before_torch_is_imported(tmp_path: Path) -> None:
    proc = run_cli("eval", str(tmp_path / "run" / "model.pt"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"spikeflow eval: error: checkpoint not found: {tmp_path / 'run' / 'model.pt'}"
    assert "heavy imports: []" in proc.stdout


def test_verify_of_a_missing_build_suggests_only_what_verify_can_do(tmp_path: Path, capsys) -> None:
    from spikeflow.cli import main

    assert main(["verify", str(tmp_path / "nobuild")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{tmp_path / 'nobuild'} has no build.yaml" in err
    assert "--checkpoint" not in err and "--qonnx" not in err
    assert f"'spikeflow build {tmp_path / 'nobuild'} --config BUILD.yaml'" in err
    assert main(["export", str(tmp_path / "nobuild")]) == 2
    assert "give a model (--checkpoint) or " in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["verify", "{build}", "--frames", "0"], "spikeflow verify: error: --frames must be >= 1, got 0"),
    (["sim", "{build}", "--clock-mhz", "-5"], "spikeflow sim: error: --clock-mhz must be > 0, got -5.0"),
    (["build", "{build}", "--config", "{build}/build.yaml", "--frames", "0"],
     "spikeflow build: error: --frames must be >= 1, got 0"),
])
def test_a_bad_override_names_its_command_line_option(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    from spikeflow.cli import main

    build = tmp_path / "b"
    build.mkdir()
    (build / "build.yaml").write_text("model: {checkpoint: m.pt}\nframes: 4\n")
    assert main([a.format(build=build) for a in args]) == 2
    assert capsys.readouterr().err.strip() == message
