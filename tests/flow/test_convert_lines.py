"""The convert step's per-layer lines: a chain as before, a DAG with the tensors each layer reads."""

import numpy as np

from spikeflow.flow.steps.convert import layer_lines
from spikeflow.ir import FewdIFConv
from spikeflow.ir.random import random_dag_network, random_network


def test_a_chain_prints_no_inputs() -> None:
    lines = layer_lines(random_network(np.random.default_rng(0)))
    assert len(lines) == 5 and not any("reads" in line for line in lines)


def test_a_dag_prints_what_each_layer_reads_and_the_shifts() -> None:
    net = random_dag_network(np.random.default_rng(0))
    lines = layer_lines(net)
    res = next(layer for layer in net.layers if isinstance(layer, FewdIFConv) and layer.has_residual)
    line = next(line for line in lines if f" {res.name} " in line)
    assert f"reads {res.inputs[0]}, {res.inputs[1]} (shortcut << {list(res.residual_shift)})" in line
    assert all("reads" in line for line in lines)
