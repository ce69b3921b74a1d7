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
