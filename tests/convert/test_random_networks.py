"""Property: for random quantized networks, golden (count and spike mode) equals QONNX execution exactly."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikeflow.convert import convert_qonnx
from spikeflow.frontend.export import export_detector
from spikeflow.golden import run_counts, run_spikes
from spikeflow.golden.count import dequantize
from spikeflow.verify.qonnx_exec import run_qonnx
from tests.factories import random_frames, randomized_detector, small_config


@st.composite
def network_configs(draw):
    depth = draw(st.integers(1, 3))
    size = draw(st.sampled_from([8, 12, 16]))
    channels = tuple(draw(st.integers(1, 8)) for _ in range(depth))
    kernels = tuple(draw(st.sampled_from([1, 3, 5])) for _ in range(depth))
    pools, s = [], size
    for _ in range(depth):
        pool = s >= 4 and draw(st.booleans())
        pools.append(pool)
        s = s // 2 if pool else s
    cfg = small_config(input_size=size, channels=channels, kernels=kernels, pools=tuple(pools),
                       act_bits=draw(st.integers(2, 3)), weight_bits=draw(st.integers(2, 8)),
                       head_weight_bits=draw(st.integers(2, 8)))
    return cfg, draw(st.integers(0, 2**16))


def check_network(cfg, seed: int) -> None:
    model = randomized_detector(cfg, seed=seed, num_classes=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = export_detector(model, Path(tmp) / "m.onnx")
        net = convert_qonnx(path)
        frames = random_frames(cfg, 3, seed=seed).numpy()
        reference = run_qonnx(path, frames.astype(np.float32) / 256)
    counts = run_counts(net, frames)
    assert np.array_equal(dequantize(net, counts), reference)
    assert np.array_equal(run_spikes(net, frames), counts)


@settings(max_examples=6)
@given(network_configs())
def test_random_networks_match_qonnx_exactly(case) -> None:
    check_network(*case)


@pytest.mark.slow
@settings(max_examples=200)
@given(network_configs())
def test_random_networks_match_qonnx_exactly_200(case) -> None:
    check_network(*case)
