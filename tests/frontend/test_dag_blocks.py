"""The Brevitas blocks for DAG detectors: BN folded in deploy() exactly as in the QAT forward, and an export whose
graph holds the residual Add, the nearest Resize, the Concat and one output per head."""

from __future__ import annotations

import onnx
import torch

from spikeflow.frontend.export import export_module
from tests.convert.dag_models import SIZE, two_scale


def test_deploy_equals_the_qat_forward_on_both_heads() -> None:
    model = two_scale(11, residual_blocks=2)
    x = torch.randint(0, 256, (2, 3, SIZE, SIZE), generator=torch.Generator().manual_seed(0)).float() / 256
    with torch.no_grad():
        qat, deployed = model(x), model.deploy()(x)
    assert len(qat) == len(deployed) == 2
    for a, b in zip(qat, deployed):
        assert torch.equal(a, b)


def test_export_holds_the_dag_ops_and_two_outputs(tmp_path) -> None:
    path = export_module(two_scale(12, residual_blocks=1).deploy(), (3, SIZE, SIZE), tmp_path / "m.onnx", "dag")
    graph = onnx.load(path).graph
    ops = [n.op_type for n in graph.node]
    assert ops.count("Add") == 1 and ops.count("Resize") == 1 and ops.count("Concat") == 1
    assert "BatchNormalization" not in ops and len(graph.output) == 2
