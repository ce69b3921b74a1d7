"""Several heads through the RTL: one output stream, per frame the heads' values one head after the other in IR
order (rtl/spikeflow_head_merge.v, spikeflow_runtime.stream). Random two-head DAGs at random foldings in the fast
Verilator harness, bit-exact on every head against the golden model, at the estimated cycles per frame; the head
merge's FIFO sized from spikeflow.hw.skew.head_merge_depths (the exact bound is shown in
tests/backends/rtl/test_rtl_dag_units.py with a model of the worst trunk order)."""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.backends.rtl import generate_rtl
from spikeflow.backends.rtl import generator as rtl_generator
from spikeflow.backends.rtl.rtlsim import RtlSim
from spikeflow.errors import DeviceTimeoutError
from spikeflow.golden import run_counts_heads
from spikeflow.hw.cycles import estimate_cycles
from spikeflow.hw.folding import Folding, LayerFolding, random_folding
from spikeflow.hw.skew import head_merge_depths
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFNetwork
from spikeflow.ir.random import random_dag_network
from tests.backends.rtl.simtools import require_verilator

SEEDS = range(6)  # random two-head DAGs at random foldings; the first 2 in the fast set


def _run(net: FewdIFNetwork, folding: Folding | None, tmp_path, frames: int = 8):  # noqa: ANN202
    require_verilator()
    build = generate_rtl(net, tmp_path / "rtl", folding)  # tmp_path: a folder of its own per build
    x = np.random.default_rng(7).integers(0, 256, size=(frames, *net.input_shape), dtype=np.uint8)
    heads, done = RtlSim(build, jobs=1).run_heads(x)
    return build, heads, run_counts_heads(net, x), RtlSim.timing(done)


def _check(net: FewdIFNetwork, folding: Folding | None, tmp_path) -> None:
    build, heads, golden, timing = _run(net, folding, tmp_path)
    assert len(heads) == len(golden) == 2
    for v, g in zip(heads, golden, strict=True):
        assert v.shape == g.shape
        assert int((v != g).sum()) == 0
    # back-to-back frames at the estimated interval (the slowest stage, the merged output stream among them)
    assert timing is not None
    assert abs(timing.cycles_per_frame / build.estimated_cycles_per_frame - 1) <= 0.05


@pytest.mark.parametrize("seed", [s if s < 2 else pytest.param(s, marks=pytest.mark.slow) for s in SEEDS])
def test_random_two_head_dags_are_bit_exact_at_random_foldings(seed: int, tmp_path) -> None:
    rng = np.random.default_rng(seed)
    net = random_dag_network(rng, two_heads=True)
    _check(net, random_folding(net, rng), tmp_path)


def _parallel(net: FewdIFNetwork, head0: LayerFolding | None = None) -> Folding:
    """Every conv and head fully parallel (one window per cycle), head 0 at `head0` when given."""
    layers = {layer.name: LayerFolding(layer.out_channels, layer.in_shape[0] * layer.kernel ** 2, True)
              for layer in net.layers if isinstance(layer, FewdIFConv | FewdIFHead)}
    if head0 is not None:
        layers[net.heads[0].name] = head0
    return Folding(layers, 1)


@pytest.mark.slow
@pytest.mark.parametrize("head0", [None, LayerFolding(1, 1, False)], ids=["output-bound", "head0-bound"])
def test_the_merged_stream_or_a_slow_head_sets_the_interval(head0: LayerFolding | None, tmp_path) -> None:
    """Fully parallel, the one output stream (the sum of the heads' values per frame) is the slowest stage; with
    head 0 fully serial, head 0 is, and the drain of head 1 does not slow it."""
    net = random_dag_network(np.random.default_rng(0), two_heads=True)
    folding = _parallel(net, head0)
    rows = {r.layer: r.cycles for r in estimate_cycles(net, folding)}
    slowest = max(rows, key=rows.__getitem__)
    assert slowest == ("output" if head0 is None else net.heads[0].name)
    _check(net, folding, tmp_path)


def test_the_head_merge_holds_one_frame_of_each_head() -> None:
    net = random_dag_network(np.random.default_rng(0), two_heads=True)
    frames = [int(np.prod(shape)) for shape in net.output_shapes]
    assert head_merge_depths(net) == {head.name: n for head, n in zip(net.heads, frames, strict=True)}
    assert head_merge_depths(random_dag_network(np.random.default_rng(0), two_heads=False)) == {}


DEADLOCK_SEED = 0  # a 32x32 two-head DAG whose head-1 path holds less than a frame of head 1 (seeds tried by hand)


def test_a_too_small_head_merge_deadlocks_and_the_computed_one_does_not(tmp_path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two entries for head 1's frame: head 1's path fills, the fork stalls, and head 0 never gets the trunk's last
    positions it needs before the merge can drain head 1: the harness reports a timeout. (At 16x16 the deep
    tensor's branch FIFO holds its whole 4x4 frame, so no such network deadlocks; at 32x32 it holds less.)"""
    net = random_dag_network(np.random.default_rng(DEADLOCK_SEED), input_shape=(3, 32, 32), two_heads=True)
    with monkeypatch.context() as patch:
        patch.setattr(rtl_generator, "head_merge_depths", lambda n: dict.fromkeys(head_merge_depths(n), 2))
        with pytest.raises(DeviceTimeoutError, match="did not finish"):
            _run(net, None, tmp_path / "two", frames=3)
    _, heads, golden, _ = _run(net, None, tmp_path / "computed", frames=3)
    assert all(np.array_equal(v, g) for v, g in zip(heads, golden, strict=True))


def test_the_top_of_two_heads_merges_them_into_one_stream(tmp_path) -> None:
    net = random_dag_network(np.random.default_rng(0), two_heads=True)
    build = generate_rtl(net, tmp_path, None)
    top = (tmp_path / "spikeflow_top.v").read_text()
    assert build.stream.head_shapes == tuple(net.output_shapes)
    assert top.count("spikeflow_axis_output #(") == 2 and top.count("spikeflow_head_merge #(") == 1
    depths = head_merge_depths(net)
    assert f".DEPTH({depths[net.heads[1].name]})" in top and f".DEPTH0({depths[net.heads[0].name]})" in top
    assert (tmp_path / "lib" / "spikeflow_head_merge.v").is_file()


@pytest.mark.slow
def test_a_two_head_dag_under_cocotb_with_idle_and_back_pressure(tmp_path) -> None:
    """The cocotb network testbench (random idle on the input, back-pressure on the output) on a two-head DAG at a
    random folding: every frame's heads one after the other on m_axis, against the golden model."""
    from tests.backends.rtl.test_rtl_network import _run as run_network

    rng = np.random.default_rng(1)
    net = random_dag_network(rng, two_heads=True)
    run_network(net, tmp_path, folding=random_folding(net, rng), frames=3,
                testcase=["test_back_to_back", "test_idle_and_backpressure"])
