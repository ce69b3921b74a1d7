"""Strided layers in the fast harness: the walk over positions without a window overlaps the window work
(spikeflow_window OUT_REG=1), the cycle estimate follows it, and the default folding keeps every layer at the input
pixel rate. Each case is bit-exact against the golden model."""

from __future__ import annotations

import numpy as np
import pytest

from spikeflow.backends.rtl import generate_rtl
from spikeflow.backends.rtl.rtlsim import RtlSim
from spikeflow.golden import run_counts
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles
from spikeflow.hw.folding import LayerFolding, default_folding, longest_walk, resolve_folding
from spikeflow.ir.random import random_network
from tests.backends.rtl.simtools import require_verilator


def _net(name: str, input_shape, channels, kernel, seed: int = 1):
    return random_network(np.random.default_rng(seed), input_shape=input_shape, channels=channels, kernel=kernel,
                          pool_after=tuple(False for _ in channels), head_channels=2, stride=2, name=name)


def _measure(net, tmp_path, folding=None, frames: int = 5) -> tuple[float, int]:
    """Steady-state cycles per frame in the harness (bit-exact against the golden model) and the estimate."""
    build = generate_rtl(net, tmp_path / "rtl", folding=folding)
    images = np.random.default_rng(2).integers(0, 256, size=(frames, *net.input_shape), dtype=np.uint8)
    out, done = RtlSim(build).run(images)
    assert np.array_equal(out, run_counts(net, images))
    return RtlSim.timing(done).cycles_per_frame, build.estimated_cycles_per_frame


def test_default_folding_keeps_strided_layers_at_the_input_pixel_rate(tmp_path) -> None:
    """1x1 stride-2 convs on a 22x22 frame: no padding, so the promise is the frame's 484 pixels (before the
    fold rule counted the walk: 847 cycles, conv0 at 4 cycles per window)."""
    require_verilator()
    net = _net("s2pixelrate", (3, 22, 22), (8, 8), kernel=1)
    folding = default_folding(net)
    assert longest_walk(net) == 22 * 22
    rows = estimate_cycles(net, folding)
    assert all(r.cycles <= 22 * 22 for r in rows), rows
    measured, estimate = _measure(net, tmp_path, folding)
    assert measured <= 22 * 22 + 1 and measured == pytest.approx(estimate, rel=0.05)


STRIDED = {  # name: (input shape, convs, kernel, folding or None (default))
    "1x1": ((3, 23, 17), (8,), 1, {"conv0": LayerFolding(8, 1)}),  # 3 cycles per window: 489 (607 without overlap)
    "5x5_odd": ((3, 21, 17), (8,), 5, {"conv0": LayerFolding(4, 75)}),  # 2 cycles per window: 525 (624)
    "3x3_spikes_serial": ((3, 20, 18), (4, 6), 3, {"conv0": LayerFolding(4, 27), "conv1": LayerFolding(2, 12, False)}),
    "3x3_default": ((3, 24, 20), (8, 16), 3, None),
}


@pytest.mark.parametrize("case", [c if c in ("1x1", "5x5_odd") else pytest.param(c, marks=pytest.mark.slow)
                                  for c in STRIDED])
def test_strided_network_cycles_within_the_estimate(tmp_path, case) -> None:
    require_verilator()
    shape, convs, kernel, folding = STRIDED[case]
    net = _net(f"s2{case}", shape, convs, kernel)
    measured, estimate = _measure(net, tmp_path, folding)
    assert estimate == cycles_per_frame(estimate_cycles(net, resolve_folding(net, folding)))
    print(f"stride-2 {case}: {measured:.0f} cycles per frame, estimate {estimate}")
    assert measured <= estimate and measured == pytest.approx(estimate, rel=0.05)
