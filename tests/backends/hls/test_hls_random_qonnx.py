"""Random quantized detectors (the QONNX generator of tests/convert/test_random_networks.py) through export,
conversion and the HLS C-simulation: the same integers as the golden model, which equals QONNX execution."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from spikeflow.backends.hls import generate_hls
from spikeflow.backends.hls.csim import HlsCsim
from spikeflow.convert import convert_qonnx
from spikeflow.frontend.export import export_detector
from spikeflow.golden import run_counts
from tests.backends.hls.hlstools import require_csim
from tests.convert.test_random_networks import network_configs
from tests.factories import random_frames, randomized_detector


def check_qonnx_network(cfg, seed: int) -> None:
    require_csim()
    model = randomized_detector(cfg, seed=seed, num_classes=1)
    frames = random_frames(cfg, 3, seed=seed).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        net = convert_qonnx(export_detector(model, Path(tmp) / "m.onnx"))
        v = HlsCsim(generate_hls(net, Path(tmp) / "hls")).run(frames)
    assert np.array_equal(v, run_counts(net, frames))


@settings(max_examples=1)
@given(network_configs())
def test_random_qonnx_networks_csim_bit_exact(case) -> None:
    check_qonnx_network(*case)


@pytest.mark.slow
@settings(max_examples=10)
@given(network_configs())
def test_random_qonnx_networks_csim_bit_exact_10(case) -> None:
    check_qonnx_network(*case)
