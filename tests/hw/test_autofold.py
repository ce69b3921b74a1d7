"""Automatic folding to a target frame rate, on the analytical cycle and resource models."""

import numpy as np
import pytest

from spikeflow.hw.autofold import fold_to_target
from spikeflow.hw.boards import Board, Capacity
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles
from spikeflow.hw.folding import LayerFolding, window_elems
from spikeflow.hw.resources import bram36, layer_memory, layer_resources, total
from spikeflow.ir.random import random_network


def _tiny_like():
    return random_network(np.random.default_rng(11), input_shape=(3, 64, 64), channels=(12, 24, 48, 64),
                          pool_after=(True, True, True, False), head_channels=27, name="tinylike")


@pytest.mark.parametrize("target", [2_000, 10_000, 40_000])
def test_folding_meets_the_budget_at_least_cost(target) -> None:
    net = _tiny_like()
    spec = Board.ZCU104.spec
    plan = fold_to_target(net, spec.clock_mhz, target, spec.capacity)
    assert plan.target_met and plan.fits and not plan.notes
    assert plan.budget_cycles == int(200e6 // target)
    rows = estimate_cycles(net, plan.folding)
    assert cycles_per_frame(rows) == plan.estimated_cycles <= plan.budget_cycles
    assert all(r.cycles <= plan.budget_cycles for r in rows)  # every stage keeps pace: a balanced pipeline


def test_lower_targets_cost_less() -> None:
    net = _tiny_like()
    spec = Board.ZCU104.spec
    slow, fast = (fold_to_target(net, spec.clock_mhz, t, spec.capacity) for t in (2_000, 40_000))
    assert slow.resources["LUT"] < fast.resources["LUT"]
    assert sum(f.pe * f.simd for f in slow.folding.layers.values()) < sum(
        f.pe * f.simd for f in fast.folding.layers.values())


def test_unreachable_target_reports_the_best_that_fits() -> None:
    net = _tiny_like()
    spec = Board.ZCU104.spec
    plan = fold_to_target(net, spec.clock_mhz, 1e6, spec.capacity)  # beyond one input position per cycle
    assert not plan.target_met and plan.fits
    assert "not reached" in plan.notes[0] and "walks its padded input raster" in plan.notes[0]
    assert plan.estimated_cycles == 66 * 66  # conv0's padded raster: the architecture's limit
    small = Capacity(LUT=12_000, FF=16_000, BRAM36=20, URAM=0, DSP=0)  # the 2,000 FPS folding fits, 40,000 does not
    tight = fold_to_target(net, 100.0, 40_000, small)
    assert tight.fits and not tight.target_met and tight.fps < 40_000
    assert "does not fit the part" in tight.notes[0]
    assert all(v <= getattr(small, k) for k, v in total(layer_resources(net, tight.folding)).items())


def test_bram_geometry() -> None:
    assert bram36(8, 64) == 0.5  # one RAMB18 (whether a memory goes to block RAM is layer_memory's rule)
    assert bram36(72, 512) == 1 and bram36(36, 512) == 0.5
    assert bram36(1152, 4) == 16  # a wide, shallow ROM spends BRAM on width (RAMB36 as 512 x 72)
    assert bram36(16, 4096) == 2


def test_memory_placement_follows_the_rtl_rule() -> None:
    net = _tiny_like()
    conv1 = net.layers[2]
    # one weight word: the weights are constants of the product LUTs, no block RAM
    assert layer_memory(conv1, LayerFolding(conv1.out_channels, window_elems(conv1), True)) == 0
    # many words: block RAM, spent on width for a wide, shallow ROM
    folded = LayerFolding(1, 1, True)
    assert layer_memory(conv1, folded) == bram36(conv1.weight_bits, conv1.out_channels * window_elems(conv1))
    assert layer_memory(conv1, folded) > 0
