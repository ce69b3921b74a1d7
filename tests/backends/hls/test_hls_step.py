"""The hls step on a build folder: stage hls_csim, the skipped-synthesis notice without vitis_hls, and
report/hls.json from a fake vitis_hls (tclsh and the stub of the Vitis HLS commands)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

from spikeflow.backends.hls.steps import SKIPPED, step_hls
from spikeflow.errors import StepError
from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.flow.frames import FrameSet
from spikeflow.hw.boards import Board
from spikeflow.hw.folding import default_folding
from spikeflow.ir import FewdIFNetwork
from spikeflow.ir.random import random_dag_network, random_network
from tests.backends.hls.hlstools import require_csim, require_tclsh
from tests.backends.hls.test_vitis_scripts import REPORT, STUB


def _build(tmp_path: Path, net: FewdIFNetwork | None = None) -> tuple[BuildDir, BuildConfig]:
    net = net or random_network(np.random.default_rng(9), input_shape=(3, 10, 10), channels=(4, 5), head_channels=3)
    build = BuildDir(tmp_path / "b")
    net.save(build.ir)
    images = np.random.default_rng(1).integers(0, 256, size=(4, *net.input_shape), dtype=np.uint8)
    FrameSet(images, np.zeros((0, 4)), np.zeros(0), np.zeros(0), ["random"] * 4, "synthetic").save(build.frames)
    cfg = BuildConfig(model=ModelSource("qonnx", tmp_path / "m.onnx"), board=Board.PYNQ_Z2, steps=("hls",))
    return build, cfg


def _fake_vitis_hls(folder: Path) -> None:
    """A `vitis_hls` that runs `-f SCRIPT -tclargs ARGS` with tclsh against the stub."""
    tclsh = require_tclsh()
    exe = folder / "vitis_hls"
    exe.write_text(f'#!/bin/sh\n# fake vitis_hls for tests: -f SCRIPT -tclargs ARGS\nscript="$2"; shift 3\n'
                   f'exec {tclsh} {STUB} "$(dirname "$script")/stub.log" "$script" "$@"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)


def test_hls_step_without_and_with_vitis_hls(tmp_path, monkeypatch, capsys) -> None:
    require_csim()
    build, cfg = _build(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    step_hls(build, cfg)
    out = capsys.readouterr().out
    assert SKIPPED in out and "frames/s" in out
    stage = json.loads((build.report / "verify.json").read_text())["stages"]["hls_csim"]
    assert (stage["compared_to"], stage["frames"], stage["mismatches"]) == ("golden", 4, 0)
    assert stage["csim_fps"] > 0 and stage["csim_cpu_fps"] > 0
    doc = json.loads((build.report / "hls.json").read_text())
    assert doc["tool"] is None and doc["synthesis"] == SKIPPED and doc["part"] == Board.PYNQ_Z2.spec.part

    fake = tmp_path / "fake_bin"
    fake.mkdir()
    _fake_vitis_hls(fake)
    monkeypatch.setenv("PATH", f"{fake}:/usr/bin:/bin")
    monkeypatch.setenv("SPIKEFLOW_STUB_CSYNTH_XML", str(REPORT))
    step_hls(build, cfg)
    assert SKIPPED not in capsys.readouterr().out
    doc = json.loads((build.report / "hls.json").read_text())
    assert doc["tool"] == "Vitis HLS 2023.2" and doc["synthesis"] == "run"
    assert (doc["latency_cycles"], doc["interval_cycles"], doc["LUT"], doc["FF"], doc["BRAM36"], doc["DSP"]) == \
        (6021, 4357, 30502, 18211, 11.5, 12)
    calls = [line.split("\x1f")[0] for line in (build.hls / "stub.log").read_text().splitlines()]
    assert calls[-5:] == ["csim_design", "csynth_design", "cosim_design", "export_design", "exit"]


def test_hls_step_fails_on_a_mismatch(tmp_path, monkeypatch) -> None:
    require_csim()
    build, cfg = _build(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    import spikeflow.golden

    real = spikeflow.golden.run_counts_heads
    monkeypatch.setattr(spikeflow.golden, "run_counts_heads", lambda net, frames: [v + 1 for v in real(net, frames)])
    with pytest.raises(StepError, match="differs from the golden model"):
        step_hls(build, cfg)
    stage = json.loads((build.report / "verify.json").read_text())["stages"]["hls_csim"]
    assert stage["mismatches"] > 0


def test_hls_step_on_a_dag_with_two_heads(tmp_path, monkeypatch, capsys) -> None:
    """A two-head DAG is C-simulated and every head compared. Its folding.json is written here: the fold step's
    cycle estimate (spikeflow/hw/cycles.py) takes one head."""
    require_csim()
    net = random_dag_network(np.random.default_rng(0))
    assert len(net.heads) == 2
    build, cfg = _build(tmp_path, net)
    default_folding(net).save(build.folding)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    step_hls(build, cfg)
    assert "2 heads" in capsys.readouterr().out
    stage = json.loads((build.report / "verify.json").read_text())["stages"]["hls_csim"]
    assert (stage["frames"], stage["mismatches"]) == (4, 0)
