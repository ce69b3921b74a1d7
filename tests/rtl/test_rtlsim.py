"""The Verilator C++ harness (spikeflow.rtl.rtlsim) against the golden model."""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.golden import run_counts
from spikeflow.random_network import random_network
from spikeflow.rtl import generate_rtl
from spikeflow.rtl.rtlsim import RtlSim
from tests.rtl.simtools import require_verilator


def test_rtlsim_small(tmp_path):
    require_verilator()
    net = random_network(np.random.default_rng(5), input_shape=(3, 12, 10), channels=(4, 6),
                         pool_after=(True, False), head_channels=5, name="hs")
    sim = RtlSim(generate_rtl(net, tmp_path / "rtl", pixels_per_beat=2))
    frames = np.random.default_rng(0).integers(0, 256, size=(5, 3, 12, 10), dtype=np.uint8)
    out, done = sim.run(frames)
    assert np.array_equal(out, run_counts(net, frames))
    timing = RtlSim.timing(done)
    assert timing.cycles_per_frame == pytest.approx(14 * 12, abs=2)  # padded 14x12 image, 1 position/cycle


@pytest.mark.slow
def test_rtlsim_tiny_like(tmp_path):
    require_verilator()
    net = random_network(np.random.default_rng(11), input_shape=(3, 64, 64), channels=(8, 16, 32, 64),
                         pool_after=(True, True, True, False), head_channels=27, name="tinylike")
    sim = RtlSim(generate_rtl(net, tmp_path / "rtl"))
    frames = np.random.default_rng(1).integers(0, 256, size=(6, 3, 64, 64), dtype=np.uint8)
    out, done = sim.run(frames)
    assert np.array_equal(out, run_counts(net, frames))
    assert RtlSim.timing(done).cycles_per_frame <= 66 * 66 + 1
