"""The HLS C-simulation (g++) gives the golden model's integers, bit for bit, for random networks and foldings."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikeflow.backends.hls import generate_hls
from spikeflow.backends.hls.csim import HlsCsim
from spikeflow.golden import run_counts
from spikeflow.hw.folding import Folding, LayerFolding, window_elems
from spikeflow.ir import FewdIFMaxPool, FewdIFNetwork
from spikeflow.ir.random import random_network
from tests.backends.hls.hlstools import require_csim


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def networks_and_foldings(draw) -> tuple[FewdIFNetwork, Folding, int]:
    depth = draw(st.integers(1, 3))
    size = draw(st.sampled_from([(5, 7), (8, 8), (11, 9)]))
    kernel = draw(st.sampled_from([1, 3, 5]))
    net = random_network(np.random.default_rng(draw(st.integers(0, 2**16))), input_shape=(3, *size),
                         channels=tuple(draw(st.integers(1, 6)) for _ in range(depth)),
                         act_bits=draw(st.integers(2, 3)), weight_bits=draw(st.integers(2, 8)), kernel=kernel,
                         pool_after=tuple(draw(st.booleans()) for _ in range(depth)),
                         head_channels=draw(st.integers(1, 5)), stride=draw(st.sampled_from([1, 2])),
                         pool=draw(st.sampled_from([(2, 2), (3, 2), (2, 1)])))
    layers = {}
    for layer in net.layers:
        if isinstance(layer, FewdIFMaxPool):
            continue
        layers[layer.name] = LayerFolding(pe=draw(st.sampled_from(_divisors(layer.out_channels))),
                                          simd=draw(st.sampled_from(_divisors(window_elems(layer)))),
                                          time_parallel=draw(st.booleans()))
    _, h, w = net.input_shape
    ppb = draw(st.sampled_from([d for d in (1, 2, 3) if (h * w) % d == 0]))
    return net, Folding(layers, ppb), draw(st.integers(0, 2**16))


def check_csim(net: FewdIFNetwork, folding: Folding, seed: int, frames: int = 3) -> None:
    require_csim()
    images = np.random.default_rng(seed).integers(0, 256, size=(frames, *net.input_shape), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        v = HlsCsim(generate_hls(net, Path(tmp) / "hls", folding=folding)).run(images)
    assert np.array_equal(v, run_counts(net, images))


@settings(max_examples=3)
@given(networks_and_foldings())
def test_random_networks_csim_bit_exact(case) -> None:
    check_csim(*case)


@pytest.mark.slow
@settings(max_examples=30)
@given(networks_and_foldings())
def test_random_networks_csim_bit_exact_30(case) -> None:
    check_csim(*case)


def test_time_serial_first_layer_and_narrow_accumulators(tmp_path) -> None:
    """Serial bit planes of pixels, serial spike passes, PE=SIMD=1: the same bits as the golden model."""
    require_csim()
    net = random_network(np.random.default_rng(21), input_shape=(3, 9, 8), channels=(4, 6), weight_bits=3,
                         pool_after=(True, False), head_channels=3)
    folding = Folding({layer.name: LayerFolding(pe=1, simd=1, time_parallel=False) for layer in net.layers
                       if not isinstance(layer, FewdIFMaxPool)})
    images = np.random.default_rng(0).integers(0, 256, size=(4, *net.input_shape), dtype=np.uint8)
    sim = HlsCsim(generate_hls(net, tmp_path / "hls", folding=folding))
    assert np.array_equal(sim.run(images), run_counts(net, images))
    assert sim.run(images[:1]).shape == (1, *net.output_shape)
    assert sim.last_compile_seconds == 0.0  # the second run reuses the compiled C-simulation
