"""The resource model and autofold on DAG networks (forks, residual adds, concats, upsamplers, several heads), and
chains folded as before."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from spikeflow.hw.autofold import fold_to_target
from spikeflow.hw.boards import Board
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles
from spikeflow.hw.folding import LayerFolding, conv_cycles, random_folding
from spikeflow.hw.resources import (
    DEFAULT_MODEL,
    bram36,
    conv_resources,
    dag_resources,
    fifo_resources,
    layer_resources,
    model_for,
    storage,
    total,
)
from spikeflow.hw.skew import branch_fifo_depths, forks
from spikeflow.ir import FewdIFConcat, FewdIFConv, FewdIFHead, FewdIFUpsample
from spikeflow.ir.random import random_dag_network, random_network
from tests.hw.test_autofold import _tiny_like

ECP5_MODEL = model_for("ecp5")[0]


def _full_dag(size: int = 16):  # noqa: ANN202
    """A random single-head DAG with a residual add, a fork, an upsampler and a concat."""
    for seed in range(40):
        net = random_dag_network(np.random.default_rng(seed), input_shape=(3, size, size), two_heads=False)
        kinds = {type(layer) for layer in net.layers}
        if {FewdIFConcat, FewdIFUpsample} <= kinds and any(
                isinstance(layer, FewdIFConv) and layer.has_residual for layer in net.layers):
            return net
    raise AssertionError("no such DAG")


def test_the_ecp5_fit_knows_its_family() -> None:
    assert DEFAULT_MODEL.family == "xcup" and ECP5_MODEL.family == "ecp5"
    assert "family" not in DEFAULT_MODEL.as_dict()  # not a coefficient


def test_storage_on_each_familys_primitives() -> None:
    assert storage(8, 64, "xcup") == (16.0, 0.0)  # two RAM64M8 (64 x 7)
    assert storage(8, 64, "ecp5") == (4 * 2 * 4 + 2 * 8 * 3 * 2, 0.0)  # 4 x 2 DPR16X4, a 4-way read select
    assert storage(64, 1024, "ecp5") == (0.0, bram36(64, 1024))  # 256 LUT RAM units cost more than 4 EBRs
    assert storage(16, 512, "xcup") == (0.0, bram36(16, 512))  # fifo_in_lutram's rule
    # Yosys 0.23 on a 32 x 10 branch FIFO: 22 LUTs (a RAM32M16 among them), 17 FFs (pointers and a read address)
    assert fifo_resources(10, 32, "xcup") == (22.0, 17.0, 0.0)


def test_every_dag_unit_has_a_row() -> None:
    net = _full_dag()
    rows = {r.layer: r for r in layer_resources(net, random_folding(net, np.random.default_rng(0)))}
    for tensor, branches in forks(net).items():
        row = rows[f"{tensor}:fork"]
        depths = [branch_fifo_depths(net)[b] for b in branches]
        width = next(layer.out_shape[0] for layer in net.layers if layer.name == tensor) * net.act_bits
        # the broadcast's taken flags and each branch FIFO's pointers
        assert row.FF == len(branches) + sum(fifo_resources(width, d, "xcup")[1] for d in depths)
        assert row.LUT > sum(storage(width, d, "xcup")[0] for d in depths)
    for layer in net.layers:
        if isinstance(layer, FewdIFConcat):
            assert rows[layer.name].FF == layer.out_shape[0] * net.act_bits + 1  # the output register
        if isinstance(layer, FewdIFUpsample):
            assert rows[layer.name].LUT >= storage(layer.in_shape[0] * net.act_bits, layer.in_shape[2], "xcup")[0]
    assert dag_resources(_tiny_like()) == []  # a chain has none


@pytest.mark.parametrize("model", [DEFAULT_MODEL, ECP5_MODEL], ids=["xcup", "ecp5"])
def test_a_residual_conv_costs_more_than_the_same_conv_without_its_shortcut(model) -> None:
    net = _full_dag()
    res = next(layer for layer in net.layers if isinstance(layer, FewdIFConv) and layer.has_residual)
    plain = dataclasses.replace(res, inputs=res.inputs[:1], residual_shift=())
    for f in (LayerFolding(1, 1, True), LayerFolding(res.out_channels, 9, True)):
        with_shortcut = conv_resources(res, f, net.act_bits, model)
        without = conv_resources(plain, f, net.act_bits, model)
        # at least the shortcut queue and the add of its counts into the low bits of each PE lane
        assert with_shortcut.LUT >= without.LUT + f.pe * net.act_bits + storage(
            res.out_channels * net.act_bits, 2, model.family)[0]
        assert with_shortcut.FF > without.FF


def test_the_ecp5_fit_counts_more_lut4s_for_the_branch_fifos() -> None:
    net = _full_dag()
    xcup = {r.layer: r.LUT for r in dag_resources(net, "xcup")}
    ecp5 = {r.layer: r.LUT for r in dag_resources(net, "ecp5")}
    assert all(ecp5[k] > xcup[k] for k in xcup if k.endswith(":fork"))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("board", [Board.ZCU104, Board.ULX3S_85F])
def test_autofold_of_random_dags_meets_the_budget_and_fits(seed: int, board: Board) -> None:
    net = random_dag_network(np.random.default_rng(seed), input_shape=(3, 32, 32), two_heads=seed % 2 == 1)
    spec = board.spec
    model = model_for(spec.family)[0]
    floor = fold_to_target(net, spec.clock_mhz, 1e9, spec.capacity, model).estimated_cycles  # the fastest
    for budget in (floor, 20 * floor):  # cycles per frame
        plan = fold_to_target(net, spec.clock_mhz, spec.clock_mhz * 1e6 / (budget + 0.5), spec.capacity, model)
        assert plan.target_met and plan.fits and not plan.notes
        rows = estimate_cycles(net, plan.folding)
        assert cycles_per_frame(rows) == plan.estimated_cycles <= plan.budget_cycles
        for layer in net.layers:  # every conv and head, on every branch
            if isinstance(layer, FewdIFConv | FewdIFHead):
                assert conv_cycles(layer, plan.folding[layer.name]) <= plan.budget_cycles
        used = total(layer_resources(net, plan.folding, model))
        assert plan.resources == used
        assert used["LUT"] > sum(r.LUT for r in layer_resources(net, plan.folding, model)
                                 if ":fork" not in r.layer)  # the forks' FIFOs are in the fit


def test_autofold_of_a_dag_at_the_architectures_limit() -> None:
    net = _full_dag(32)
    spec = Board.ZCU104.spec
    plan = fold_to_target(net, spec.clock_mhz, 1e6, spec.capacity)
    assert plan.fits and not plan.target_met
    assert plan.estimated_cycles == 34 * 34  # the stem conv's padded raster: one position per cycle
    assert "no folding goes below 1,156 cycles" in plan.notes[0]


def test_a_stage_without_a_folding_over_the_budget_is_named() -> None:
    net = random_network(np.random.default_rng(2), input_shape=(3, 16, 16), channels=(4,), pool_after=(False,),
                         head_channels=40)  # 40 x 16 x 16 head values: more cycles than any walk
    spec = Board.ZCU104.spec
    plan = fold_to_target(net, spec.clock_mhz, spec.clock_mhz * 1e6 / 2_000, spec.capacity)
    assert not plan.target_met and plan.estimated_cycles == 10_240
    assert "output: 10,240 cycles per frame (a stage without a folding of its own" in plan.notes[0]


# Foldings the autofold of the tiny-like chain gave before DAG support (commit 7d24b52): chains fold as before.
CHAIN_FOLDINGS = {
    (Board.ZCU104, 2_000): {"conv0": (4, 27, False), "conv1": (3, 27, False), "conv2": (1, 27, True),
                            "conv3": (1, 18, True), "head": (1, 4, False)},
    (Board.ZCU104, 40_000): {"conv0": (12, 27, True), "conv1": (6, 108, True), "conv2": (3, 216, True),
                             "conv3": (8, 144, False), "head": (9, 8, False)},
    (Board.ULX3S_85F, 2_000): {"conv0": (6, 27, True), "conv1": (4, 54, True), "conv2": (4, 54, True),
                               "conv3": (2, 72, True), "head": (9, 1, True)},
}


@pytest.mark.parametrize(("board", "target"), list(CHAIN_FOLDINGS))
def test_chains_fold_as_before(board: Board, target: int) -> None:
    spec = board.spec
    plan = fold_to_target(_tiny_like(), spec.clock_mhz, target, spec.capacity, model_for(spec.family)[0])
    assert {k: (f.pe, f.simd, f.time_parallel) for k, f in plan.folding.layers.items()} == CHAIN_FOLDINGS[
        (board, target)]


def test_several_heads_add_the_head_merges_one_frame_fifos() -> None:
    net = random_dag_network(np.random.default_rng(1), input_shape=(3, 32, 32), two_heads=True)
    (merge,) = [r for r in dag_resources(net, "xcup") if r.layer == "heads:merge"]
    second = int(np.prod(net.heads[1].out_shape))  # one frame of the second head's values
    bits = max(h.acc_bits for h in net.heads) + 1
    lut, bram = storage(bits, second - 1, "xcup")
    assert merge.LUT >= lut and merge.BRAM36 >= bram and lut + bram > 0 and merge.FF > bits
    assert not [r for r in dag_resources(_full_dag(), "xcup") if r.layer == "heads:merge"]
