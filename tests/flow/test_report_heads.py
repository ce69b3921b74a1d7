"""The report step on a build with two heads: every head's output shape (stream order), the stages and timing from
the reports, and the analytical resource estimate of the folding with the head merge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spikeflow.flow.builddir import BuildDir
from spikeflow.flow.config import BuildConfig, ModelSource
from spikeflow.flow.report import write_report
from spikeflow.flow.steps.hardware import step_report
from spikeflow.hw.folding import default_folding
from spikeflow.hw.resources import layer_resources, model_for, total
from spikeflow.ir.random import random_dag_network, random_network


def test_report_of_a_two_head_build(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    net = random_dag_network(np.random.default_rng(0), two_heads=True)
    build = BuildDir(tmp_path / "b")
    net.save(build.ir)
    folding = default_folding(net)
    folding.save(build.folding)
    write_report(build.root, "verify", {"stages": {"rtlsim": {"compared_to": "golden", "frames": 4,
                                                              "mismatches": 0}}})
    write_report(build.root, "performance", {"cycles_per_frame": 1234.0, "estimated_cycles_per_frame": 1200,
                                             "fps": 81037.0, "clock_mhz": 100.0, "latency_cycles": 2000})
    cfg = BuildConfig(ModelSource("qonnx", tmp_path / "model.onnx"), clock_mhz=100.0)
    step_report(build, cfg)
    summary = json.loads((build.report / "summary.json").read_text())
    assert summary["heads"] == 2 and summary["output_shape"] is None
    assert summary["output_shapes"] == [list(h.out_shape) for h in net.heads]
    assert summary["stages"]["rtlsim"]["mismatches"] == 0 and summary["cycles_per_frame"] == 1234.0
    rows = layer_resources(net, folding, model_for(cfg.board.spec.family)[0])
    assert "heads:merge" in [r.layer for r in rows]
    assert summary["estimated_resources"]["total"] == {k: round(v, 1) for k, v in total(rows).items()}
    printed = capsys.readouterr().out
    assert " + ".join(str(list(h.out_shape)) for h in net.heads) + " (2 heads" in printed
    assert "estimated resources" in printed


def test_report_of_a_chain_keeps_its_output_shape(tmp_path: Path) -> None:
    net = random_network(np.random.default_rng(1), input_shape=(3, 16, 16), channels=(4,), pool_after=(True,),
                         head_channels=12)
    build = BuildDir(tmp_path / "b")
    net.save(build.ir)
    step_report(build, BuildConfig(ModelSource("qonnx", tmp_path / "model.onnx")))
    summary = json.loads((build.report / "summary.json").read_text())
    assert summary["output_shape"] == list(net.output_shape) and summary["output_shapes"] == [summary["output_shape"]]
    assert summary["heads"] == 1 and summary["estimated_resources"] is None and summary["mismatches"] == 0


def test_rtlsim_and_hls_steps_count_each_head(tmp_path: Path) -> None:
    """verify.json's rtlsim and hls_csim rows of a two-head build: the total and each head's own counts."""
    from spikeflow.backends.hls.steps import step_hls
    from spikeflow.backends.rtl.steps import step_rtl, step_rtlsim
    from spikeflow.flow.frames import FrameSet
    from tests.backends.rtl.simtools import require_verilator

    require_verilator()
    net = random_dag_network(np.random.default_rng(3), two_heads=True)
    build = BuildDir(tmp_path / "b")
    net.save(build.ir)
    default_folding(net).save(build.folding)
    frames = np.random.default_rng(4).integers(0, 256, (3, *net.input_shape), dtype=np.uint8)
    FrameSet(frames, np.zeros((0, 4)), np.zeros(0), np.zeros(0), ["random"] * 3, "random").save(build.frames)
    cfg = BuildConfig(ModelSource("qonnx", tmp_path / "model.onnx"))
    for step in (step_rtl, step_rtlsim, step_hls):
        step(build, cfg)
    stages = json.loads((build.report / "verify.json").read_text())["stages"]
    names = [head.name for head in net.heads]
    for stage in ("rtlsim", "hls_csim"):
        assert stages[stage]["mismatches"] == 0 and stages[stage]["frames"] == 3
        assert list(stages[stage]["heads"]) == names
        assert all(head["mismatches"] == 0 for head in stages[stage]["heads"].values())
