"""DAG networks (residual adds, forks, concatenation, upsampling) through the generated RTL in the fast Verilator
harness: bit-exact against the golden model at random foldings, cycles per frame as estimated, and branch FIFOs
sized from the skew model (a too-small one deadlocks)."""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.backends.rtl import generate_rtl
from spikeflow.backends.rtl import generator as rtl_generator
from spikeflow.backends.rtl.rtlsim import RtlSim
from spikeflow.errors import DeviceTimeoutError
from spikeflow.golden import run_counts
from spikeflow.hw.folding import random_folding
from spikeflow.hw.skew import Branch, branch_fifo_depths
from spikeflow.ir import FewdIFConcat, FewdIFConv, FewdIFUpsample
from spikeflow.ir.random import random_dag_network
from tests.backends.rtl.simtools import require_verilator

SEEDS = range(20)  # 20 random single-head DAGs; the first 6 in the fast set


def _run(net, folding, tmp_path, frames: int = 8):  # noqa: ANN001, ANN202
    require_verilator()
    build = generate_rtl(net, tmp_path / "rtl", folding)
    sim = RtlSim(build, jobs=1)
    x = np.random.default_rng(7).integers(0, 256, size=(frames, *net.input_shape), dtype=np.uint8)
    v, done = sim.run(x)
    return build, v, run_counts(net, x), RtlSim.timing(done)


@pytest.mark.parametrize("seed", [s if s < 6 else pytest.param(s, marks=pytest.mark.slow) for s in SEEDS])
def test_random_dags_are_bit_exact_at_random_foldings(seed: int, tmp_path) -> None:
    rng = np.random.default_rng(seed)
    net = random_dag_network(rng, two_heads=False)
    build, v, golden, timing = _run(net, random_folding(net, rng), tmp_path)
    assert v.shape == golden.shape
    assert int((v != golden).sum()) == 0
    # back-to-back frames at the estimated interval (the slowest stage), within 5 %
    assert timing is not None
    assert abs(timing.cycles_per_frame / build.estimated_cycles_per_frame - 1) <= 0.05


def test_the_random_dags_cover_every_structure() -> None:
    kinds = set()
    for seed in SEEDS:
        net = random_dag_network(np.random.default_rng(seed), two_heads=False)
        kinds |= {type(layer) for layer in net.layers if not isinstance(layer, FewdIFConv) or layer.has_residual}
        kinds |= {"fork"} if branch_fifo_depths(net) else set()
    assert {FewdIFConcat, FewdIFUpsample, FewdIFConv, "fork"} <= kinds


def _residual_net():  # noqa: ANN202
    for seed in range(40):
        net = random_dag_network(np.random.default_rng(seed), two_heads=False)
        if any(isinstance(layer, FewdIFConv) and layer.has_residual for layer in net.layers):
            return net
    raise AssertionError("no residual network")


def test_the_shortcut_branch_holds_the_skew() -> None:
    """A residual block conv3x3 -> conv3x3 + shortcut: the shortcut must hold about two rows of the fork's tensor
    (each 3x3 window reads one row and one column ahead), the main branch only the margin."""
    net = _residual_net()
    depths = branch_fifo_depths(net)
    res = next(layer for layer in net.layers if isinstance(layer, FewdIFConv) and layer.has_residual)
    width = res.out_shape[2]
    shortcut = depths[Branch(res.inputs[1], res.name, 1)]
    main = next(d for b, d in depths.items() if b.tensor == res.inputs[1] and b.layer != res.name)
    assert shortcut > main or shortcut >= width
    assert all(d >= 2 and d & (d - 1) == 0 for d in depths.values())


def test_a_too_small_branch_fifo_deadlocks(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The computed depths run (above); two-entry branch FIFOs stall the fork while the join waits: a deadlock,
    which the harness reports as a timeout."""
    net = _residual_net()
    monkeypatch.setattr(rtl_generator, "branch_fifo_depths", lambda n: dict.fromkeys(branch_fifo_depths(n), 2))
    with pytest.raises(DeviceTimeoutError, match="did not finish"):
        _run(net, None, tmp_path, frames=3)


def test_a_dag_under_cocotb_with_idle_and_back_pressure(tmp_path) -> None:
    """The cocotb network testbench (random idle on the input, back-pressure on the output) on a DAG with a
    residual add, a fork, an upsample and a concat, against the golden model."""
    from tests.backends.rtl.test_rtl_network import _run as run_network

    net = next(n for n in (random_dag_network(np.random.default_rng(s), two_heads=False) for s in range(40))
               if {FewdIFConcat, FewdIFUpsample} <= {type(layer) for layer in n.layers}
               and any(isinstance(layer, FewdIFConv) and layer.has_residual for layer in n.layers))
    run_network(net, tmp_path, frames=3, testcase=["test_back_to_back", "test_idle_and_backpressure"])
