"""DAG networks through the HLS back end (forks, residual adds, concats, upsampling, several heads): the g++
C-simulation gives every head's V of the golden model (run_counts_heads), bit for bit, for random DAGs and
random foldings; the branch streams out of a fork are as deep as spikeflow.hw.skew sizes the branch FIFOs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from spikeflow.backends.hls import generate_hls
from spikeflow.backends.hls.csim import HlsCsim
from spikeflow.golden.count import run_counts_heads
from spikeflow.hw.folding import Folding, random_folding
from spikeflow.hw.skew import branch_fifo_depths, forks
from spikeflow.ir import NETWORK_INPUT, FewdIFNetwork, FewdIFUpsample
from spikeflow.ir.random import _DagBuilder, random_dag_network
from tests.backends.hls.hlstools import require_csim

FRAMES = 3


def head_mismatches(net: FewdIFNetwork, out_dir: Path, seed: int, folding: Folding | None = None) -> list[int]:
    """C-simulate `net` on FRAMES random frames; the number of values that differ from the golden model, per
    head (in net.heads order)."""
    require_csim()
    images = np.random.default_rng(seed).integers(0, 256, size=(FRAMES, *net.input_shape), dtype=np.uint8)
    got = HlsCsim(generate_hls(net, out_dir, folding=folding)).run_heads(images)
    want = run_counts_heads(net, images)
    assert [g.shape for g in got] == [w.shape for w in want]
    return [int(np.count_nonzero(g != w)) for g, w in zip(got, want, strict=True)]


def _check(seed: int, tmp_path: Path, fold: bool, vary: bool = False) -> None:
    """Seed's random DAG (with `vary`: a random input grid, act_bits and weight_bits) C-simulated against the
    golden model: no mismatch on any head."""
    shape, act_bits, weight_bits = (3, 16, 16), 2, 4
    if vary:
        pick = np.random.default_rng(seed + 2000)
        shape = [(3, 16, 16), (3, 12, 20), (2, 8, 24), (1, 20, 8)][int(pick.integers(4))]
        act_bits, weight_bits = int(pick.integers(2, 4)), int(pick.integers(3, 7))
    net = random_dag_network(np.random.default_rng(seed), input_shape=shape, act_bits=act_bits,
                             weight_bits=weight_bits, name=f"dag{seed}")
    _, h, w = net.input_shape
    rng = np.random.default_rng(seed + 1000)
    folding = random_folding(net, rng, int(rng.choice([d for d in (1, 2, 4) if (h * w) % d == 0]))) if fold else None
    assert head_mismatches(net, tmp_path / "hls", seed, folding) == [0] * len(net.heads)


@pytest.mark.parametrize("seed", range(5))
def test_random_dags_csim_bit_exact(seed, tmp_path) -> None:
    """Five random DAGs, the last with a random folding and pixels per beat."""
    _check(seed, tmp_path, fold=seed == 4)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 120))
def test_random_dags_csim_bit_exact_20(seed, tmp_path) -> None:
    """20 more random DAGs on random grids, act_bits 2-3 and weight_bits 3-6, every other one with a random
    folding and pixels per beat."""
    _check(seed, tmp_path, fold=seed % 2 == 1, vary=True)


def _many_reads_network() -> FewdIFNetwork:
    """A tensor read four times (twice by one residual conv, twice by one concat), a three-input concat, an
    upsampling by 3 and three heads."""
    b = _DagBuilder(np.random.default_rng(7), (3, 8, 8), act_bits=2, weight_bits=4)
    a = b.conv(NETWORK_INPUT, 4)
    res = b.conv(a, 4, shortcut=a)
    b.head(b.concat(a, res, a), 3)
    pooled = b.pool(res)
    b.head(b._add(FewdIFUpsample(name="up3", in_shape=b.shapes[pooled], timesteps=b.timesteps, factor=3,
                                 inputs=(pooled,))), 2)
    b.head(pooled, 4)
    net = FewdIFNetwork(name="many-reads", input_shape=(3, 8, 8), act_bits=2, layers=b.layers)
    net.validate()
    return net


def test_fork_cascade_repeated_reads_upsample_by_3_three_heads(tmp_path) -> None:
    net = _many_reads_network()
    assert len(forks(net)[net.layers[0].name]) == 4
    assert head_mismatches(net, tmp_path / "hls", 11) == [0, 0, 0]
    top = (tmp_path / "hls" / "spikeflow_top.cpp").read_text()
    assert top.count("fewdif_fork<") == 3 + 1 + 1  # the conv read 4 times, the residual conv and the pool twice
    assert "m_axis_2" in top and "fewdif_upsample<" in top and "fewdif_conv_residual<" in top


def test_branch_streams_as_deep_as_the_skew_model(tmp_path) -> None:
    """Each stream out of a fork has the depth spikeflow.hw.skew gives that branch (the RTL's branch FIFOs)."""
    net = random_dag_network(np.random.default_rng(0), input_shape=(3, 32, 32))
    generate_hls(net, tmp_path / "hls")
    top = (tmp_path / "hls" / "spikeflow_top.cpp").read_text()
    depths = dict(re.findall(r"#pragma HLS STREAM variable=(\w+) depth=(\d+)", top))
    for branch, depth in branch_fifo_depths(net).items():
        assert int(depths[f"{branch.tensor}_to_{branch.layer}"]) == depth


def test_chain_top_is_unchanged_by_the_dag_stages(tmp_path) -> None:
    """A chain has no fork, concat, upsample or residual stage, and its one output port is still m_axis."""
    from spikeflow.ir.random import random_network

    build = generate_hls(random_network(np.random.default_rng(1)), tmp_path / "hls")
    top = (tmp_path / "hls" / "spikeflow_top.cpp").read_text()
    assert "hls::stream<out_word_t>& m_axis)" in top
    for stage in ("fork", "concat", "upsample", "residual"):
        assert stage not in top
    assert len(build.heads) == 1 and build.heads[0] == build.stream
