"""Automatic folding to a target frame rate, on the analytical cycle and resource models."""

import numpy as np
import pytest

from spikeflow.hw.autofold import fold_to_target
from spikeflow.hw.boards import Board, Capacity
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles, pixels_per_beat_note
from spikeflow.hw.folding import Folding, LayerFolding, window_elems
from spikeflow.hw.resources import (
    LUTRAM_MAX_DEPTH,
    bram36,
    features,
    fifo_in_lutram,
    layer_memory,
    layer_resources,
    pool_features,
    total,
)
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
    assert "no folding goes below 4,356 cycles" in plan.notes[0] and "pixels per beat would not" in plan.notes[0]
    assert plan.folding.pixels_per_beat == 1  # more pixels per beat shorten only the input stage
    wide = Folding(plan.folding.layers, pixels_per_beat=4)
    assert cycles_per_frame(estimate_cycles(net, wide)) == 66 * 66
    assert "conv0 walks its padded input raster one position per cycle (4,356 positions)" in pixels_per_beat_note(
        net, wide)
    assert pixels_per_beat_note(net, plan.folding) is None
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


def test_fifo_storage_follows_yosys_costs() -> None:
    # measured with Yosys 0.23 (xcup) on the bench rows' stream FIFOs
    assert fifo_in_lutram(24, 128)       # tiny Conv_0's FIFO: LUT RAM
    assert not fifo_in_lutram(16, 512)   # default Conv_0's: one RAMB18
    assert fifo_in_lutram(512, 16)       # a wide, shallow FIFO: LUT RAM (RAM32M16)


def test_pool_row_buffer_placement_follows_the_window_rule() -> None:
    net = _tiny_like()  # 64 x 64 input: the first pool's row buffer is 64 words (LUT RAM)
    pool0 = net.layers[1]
    assert pool0.in_shape[2] == LUTRAM_MAX_DEPTH and pool_features(pool0, net.act_bits)["lutram"] > 0
    big = random_network(np.random.default_rng(3), input_shape=(3, 256, 256), channels=(8, 16),
                         pool_after=(True, False), head_channels=27, name="big")
    x = pool_features(big.layers[1], big.act_bits)  # 256-word row buffer: block RAM
    assert x["bram36"] >= bram36(8 * big.act_bits, 256) > 0


def test_serial_layers_with_rom_logic_count_the_registered_words() -> None:
    net = _tiny_like()
    conv1 = net.layers[2]  # 12 x 9 = 108 inputs, 24 channels
    serial = features(conv1, LayerFolding(2, 108, False), net.act_bits)  # 12 words: ROM in LUTs
    parallel = features(conv1, LayerFolding(2, 108, True), net.act_bits)
    assert serial["serial_rom"] == 2 * 108 * conv1.weight_bits and parallel["serial_rom"] == 0
    assert features(conv1, LayerFolding(1, 1, False), net.act_bits)["serial_rom"] == 0  # block RAM
