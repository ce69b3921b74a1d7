"""DAG networks through the HLS back end (forks, residual adds, concats, upsampling, several heads): the g++
C-simulation gives every head's V of the golden model (run_counts_heads), bit for bit, for random DAGs and
random foldings; the branch FIFO depths cover the skew bound of branches.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spikeflow.backends.hls import generate_hls
from spikeflow.backends.hls.branches import branch_depths, readers
from spikeflow.backends.hls.csim import HlsCsim
from spikeflow.golden.count import run_counts_heads
from spikeflow.hw.folding import Folding, LayerFolding, window_elems
from spikeflow.ir import NETWORK_INPUT, FewdIFConv, FewdIFHead, FewdIFNetwork, FewdIFUpsample
from spikeflow.ir.random import _DagBuilder, random_dag_network
from tests.backends.hls.hlstools import require_csim

FRAMES = 3


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def random_folding(net: FewdIFNetwork, rng: np.random.Generator) -> Folding:
    """Random PE, SIMD and time-parallel choice for every conv/head layer, and random pixels per beat."""
    layers = {layer.name: LayerFolding(pe=int(rng.choice(_divisors(layer.out_channels))),
                                       simd=int(rng.choice(_divisors(window_elems(layer)))),
                                       time_parallel=bool(rng.random() < 0.5))
              for layer in net.layers if isinstance(layer, FewdIFConv | FewdIFHead)}
    _, h, w = net.input_shape
    return Folding(layers, int(rng.choice([d for d in (1, 2, 4) if (h * w) % d == 0])))


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
    folding = random_folding(net, np.random.default_rng(seed + 1000)) if fold else None
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
    assert len(readers(net)[net.layers[0].name]) == 4
    assert head_mismatches(net, tmp_path / "hls", 11) == [0, 0, 0]
    top = (tmp_path / "hls" / "spikeflow_top.cpp").read_text()
    assert top.count("fewdif_fork<") == 3 + 1 + 1  # the conv read 4 times, the residual conv and the pool twice
    assert "m_axis_2" in top and "fewdif_upsample<" in top and "fewdif_conv_residual<" in top


def test_branch_depths_by_hand() -> None:
    """random_dag_network(seed 0) on 32x32: conv5 (16x16) forks to pool6 -> conv7 (3x3) -> conv9 (1x1) -> up10 ->
    cat11 -> conv12 (3x3) -> head13 and to cat11. Lookahead in conv5 rows: pool 2 + conv7 1 row of 8 (= 2) +
    conv12 1 = 5, plus one row: 6 x 16 = 96 -> 128. conv3 (16x16) adds conv4's row: 7 x 16 = 112 -> 128. conv7
    (8x8) to head8 and conv9 -> up10 -> cat11 -> conv12: half a row, 1 + 1 rows x 8 = 16."""
    net = random_dag_network(np.random.default_rng(0), input_shape=(3, 32, 32))
    assert branch_depths(net) == {"conv3": 128, "conv5": 128, "conv7": 16}


def test_branch_depths_cover_the_lookahead_of_the_longer_branch() -> None:
    """The deep branch of a random DAG's fork holds back rows (pool, 3x3 conv) before the concat reads the
    shortcut branch: the fork's FIFOs hold at least those rows, and never more than a frame (a power of two)."""
    for seed in range(10):
        net = random_dag_network(np.random.default_rng(seed))
        shapes = {NETWORK_INPUT: net.input_shape, **{layer.name: layer.out_shape for layer in net.layers}}
        for tensor, depth in branch_depths(net).items():
            _, h, w = shapes[tensor]
            assert depth & (depth - 1) == 0
            assert min(2 * w, h * w) <= depth < max(2 * h * w, 2)


def test_chain_top_is_unchanged_by_the_dag_stages(tmp_path) -> None:
    """A chain has no fork, concat, upsample or residual stage, and its one output port is still m_axis."""
    from spikeflow.ir.random import random_network

    build = generate_hls(random_network(np.random.default_rng(1)), tmp_path / "hls")
    top = (tmp_path / "hls" / "spikeflow_top.cpp").read_text()
    assert "hls::stream<out_word_t>& m_axis)" in top
    for stage in ("fork", "concat", "upsample", "residual"):
        assert stage not in top
    assert len(build.heads) == 1 and build.heads[0] == build.stream


def test_dag_folding_defaults_and_checks() -> None:
    """A DAG's folding: unnamed layers get the pixel-rate rule, given ones are checked as the fold step does."""
    from spikeflow.backends.hls.dag_folding import resolve_hls_folding
    from spikeflow.errors import ConfigError

    net = random_dag_network(np.random.default_rng(3))
    convs = [layer for layer in net.layers if isinstance(layer, FewdIFConv | FewdIFHead)]
    resolved = resolve_hls_folding(net, {convs[0].name: {"pe": 1, "simd": 1, "time_parallel": False}})
    assert set(resolved.layers) == {layer.name for layer in convs}
    assert resolved[convs[0].name] == LayerFolding(1, 1, False)
    with pytest.raises(ConfigError, match="no conv/head layer 'nope'"):
        resolve_hls_folding(net, {"nope": {"pe": 1, "simd": 1}})
    with pytest.raises(ConfigError, match="does not divide"):
        resolve_hls_folding(net, {convs[0].name: LayerFolding(pe=convs[0].out_channels + 1, simd=1)})
