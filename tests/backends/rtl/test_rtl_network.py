"""Generated networks in RTL against the golden model (cocotb + verilator)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spikeflow.backends.rtl import generate_rtl
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles
from spikeflow.hw.folding import LayerFolding, resolve_folding
from spikeflow.ir.random import random_network
from tests.backends.rtl.simtools import run_cocotb


def small_net():
    return random_network(np.random.default_rng(7), input_shape=(3, 12, 10), channels=(4, 6),
                          pool_after=(True, False), head_channels=5, name="small")


def tiny_like_net():
    return random_network(np.random.default_rng(11), input_shape=(3, 64, 64), channels=(8, 16, 32, 64),
                          pool_after=(True, True, True, False), head_channels=27, name="tinylike")


def strided_net():
    """conv0 3x3/2 on pixels, conv1 3x3/1 + 2x2 pool, conv2 3x3/2 on spikes, 1x1 head."""
    net = random_network(np.random.default_rng(13), input_shape=(3, 13, 11), channels=(4, 6, 5),
                         pool_after=(False, True, False), head_channels=5, name="strided")
    convs = {layer.name: layer for layer in net.layers}
    convs["conv0"].stride = 2
    convs["conv2"].stride = 2
    shape = net.input_shape
    for layer in net.layers:
        layer.in_shape = tuple(shape)
        shape = layer.out_shape
    net.validate()
    assert net.output_shape == (5, 2, 2)
    return net


def _run(net, tmp_path: Path, folding=None, ppb=1, frames=6, testcase=None, report=None):
    ir_dir = tmp_path / "ir"
    net.save(ir_dir)
    build = generate_rtl(net, tmp_path / "rtl", folding=folding, pixels_per_beat=ppb)
    env = {"SPIKEFLOW_TB_NET": str(ir_dir), "SPIKEFLOW_TB_FRAMES": str(frames), "SPIKEFLOW_TB_PPB": str(ppb)}
    if report:
        env["SPIKEFLOW_TB_REPORT"] = str(report)
    run_cocotb(build.sources, build.top, "tb_network", tmp_path / "sim", extra_env=env, testcase=testcase,
               build_args=[build.mem_dir_define()])
    return build


SMALL_FOLDINGS = {
    "default": None,
    "unfolded": {"conv0": LayerFolding(4, 27), "conv1": LayerFolding(6, 36), "head": LayerFolding(5, 6)},
    "folded_serial": {"conv0": LayerFolding(2, 9, False), "conv1": LayerFolding(3, 4, False),
                      "head": LayerFolding(1, 2, False)},
    "mixed": {"conv0": LayerFolding(1, 3, True), "conv1": LayerFolding(2, 12, False),
              "head": LayerFolding(5, 1, True)},
}


@pytest.mark.parametrize("fold", [f if f in ("default", "folded_serial") else pytest.param(f, marks=pytest.mark.slow)
                                  for f in SMALL_FOLDINGS])
def test_small_network_foldings(tmp_path, fold):
    _run(small_net(), tmp_path, folding=SMALL_FOLDINGS[fold])


@pytest.mark.parametrize("ppb", [2, pytest.param(5, marks=pytest.mark.slow)])
def test_small_network_pixels_per_beat(tmp_path, ppb):
    _run(small_net(), tmp_path, ppb=ppb, testcase=["test_idle_and_backpressure", "test_malformed_frames"])


@pytest.mark.slow
@pytest.mark.parametrize("fold", ["default", "serial"])
def test_strided_network(tmp_path, fold):
    folding = None
    if fold == "serial":
        folding = {"conv0": LayerFolding(2, 9, False), "conv1": LayerFolding(3, 4, False),
                   "conv2": LayerFolding(5, 6, False), "head": LayerFolding(1, 5, False)}
    _run(strided_net(), tmp_path, folding=folding, frames=5)


@pytest.mark.slow
@pytest.mark.parametrize("fold", ["default", "serial"])
def test_tiny_like_network(tmp_path, fold):
    net = tiny_like_net()
    folding = None
    if fold == "serial":
        folding = {"conv0": LayerFolding(8, 27, False), "conv1": LayerFolding(16, 24, False),
                   "conv2": LayerFolding(4, 48, False), "head": LayerFolding(1, 64, False)}
    report = tmp_path / "cycles.txt"
    # the serial folding needs ~8x the cycles per frame (bit-serial first layer): fewer frames
    _run(net, tmp_path, folding=folding, frames=32 if fold == "default" else 3, report=report)
    steady = float(report.read_text().split()[0])
    estimate = cycles_per_frame(estimate_cycles(net, resolve_folding(net, folding)))
    print(f"tiny-like {fold}: {steady:.0f} cycles per frame, estimate {estimate}")
    assert steady == pytest.approx(estimate, rel=0.05)
