"""folding.json at the IR level, the cycle model, the board table and the hardware-source lookup."""

import json

import numpy as np
import pytest

from spikeflow.errors import ConfigError, HardwareSourcesError
from spikeflow.hw.boards import Board
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles
from spikeflow.hw.folding import (
    Folding,
    LayerFolding,
    conv_cycles,
    default_folding,
    load_folding,
    longest_walk,
    resolve_folding,
)
from spikeflow.hw.sources import hardware_folder
from spikeflow.ir.random import random_network


def _net(head_channels: int = 5):
    return random_network(np.random.default_rng(3), input_shape=(3, 12, 10), channels=(4, 6),
                          pool_after=(True, False), head_channels=head_channels, name="fold")


def test_folding_file_round_trip_and_completion(tmp_path) -> None:
    net = _net()
    path = Folding({"conv0": LayerFolding(2, 9, False)}, pixels_per_beat=2).save(tmp_path / "folding.json")
    loaded = load_folding(path)
    assert loaded.layers == {"conv0": LayerFolding(2, 9, False)} and loaded.pixels_per_beat == 2
    full = resolve_folding(net, loaded)
    assert set(full.layers) == {"conv0", "conv1", "head"}
    assert full["conv1"] == default_folding(net)["conv1"] and full.pixels_per_beat == 2


@pytest.mark.parametrize("doc,message", [
    ({"layers": {"conv9": {"pe": 1, "simd": 1}}}, "no conv/head layer 'conv9'"),
    ({"layers": {"conv0": {"pe": 3, "simd": 1}}}, "pe=3 does not divide 4 channels"),
    ({"layers": {"conv0": {"pe": 1, "simd": 5}}}, "simd=5 does not divide the 27-element window"),
    ({"layers": {"conv0": {"pe": 1, "simd": 1, "lanes": 4}}}, "unknown key 'lanes'"),
    ({"layers": {"conv0": {"pe": 1}}}, "needs integer 'pe' and 'simd'"),
    ({"pixels_per_beat": 7, "layers": {}}, "pixels_per_beat=7 must divide the 120 pixels"),
    ({"layer": {}}, "unknown key 'layer'"),
])
def test_bad_folding_is_a_config_error(tmp_path, doc, message) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        resolve_folding(_net(), load_folding(path))


def test_cycle_model_counts_input_layers_and_output_stream() -> None:
    net = _net(head_channels=40)  # 40 x 6 x 5 = 1,200 head values: the output stream is the slowest stage
    rows = estimate_cycles(net, default_folding(net))
    names = [r.layer for r in rows]
    assert names[0] == "input" and names[-1] == "output"
    by_name = {r.layer: r.cycles for r in rows}
    assert by_name["input"] == 120 and by_name["conv0"] == 14 * 12  # padded raster, one position per cycle
    assert by_name["output"] == 1200 == cycles_per_frame(rows)
    serial = resolve_folding(net, {"conv0": LayerFolding(1, 1, False)})
    conv0 = next(r for r in estimate_cycles(net, serial) if r.layer == "conv0")
    assert conv0.cycles_per_position == 4 * 27 * 8  # PE=1, SIMD=1, 8 bit planes of a pixel
    assert conv0.cycles == 14 * 12 + 12 * 10 * (4 * 27 * 8 - 1)


def test_board_table() -> None:
    assert Board.parse("ZCU104").spec.part.startswith("xczu7ev")
    assert Board.parse("pynq-z2").spec.capacity.DSP == 220 and Board.parse("pynq-z2").spec.family == "xc7"
    assert {b.value for b in Board} == {"pynq-z2", "zcu104", "u50", "u250", "ulx3s-85f"}
    ecp5 = Board.parse("ULX3S-85F").spec
    assert ecp5.kind == "ecp5" and ecp5.part == "LFE5UM5G-85F-8BG381" and ecp5.clock_mhz == 25.0
    dev = ecp5.ecp5
    assert dev is not None and (dev.device, dev.package, dev.speed) == ("um5g-85k", "CABGA381", 8)
    assert ecp5.ecp5.capacity == {"LUT4": 83_640, "FF": 83_640, "EBR": 208, "MULT18": 156}
    assert (ecp5.capacity.LUT, ecp5.capacity.BRAM36, ecp5.capacity.DSP) == (83_640, 104, 156)
    with pytest.raises(ConfigError, match="unknown board 'vck190'"):
        Board.parse("vck190")


def test_hardware_sources_lookup(monkeypatch, tmp_path) -> None:
    assert (hardware_folder("rtl") / "spikeflow_neuron.v").is_file()
    monkeypatch.setenv("SPIKEFLOW_HOME", str(tmp_path))
    with pytest.raises(HardwareSourcesError, match="SPIKEFLOW_HOME"):
        hardware_folder("rtl")


@pytest.mark.parametrize("kernel,shape,channels", [(1, (3, 22, 22), (8, 8)), (3, (3, 24, 20), (8, 16)),
                                                   (5, (3, 21, 17), (8,)), (3, (2, 31, 9), (6, 4, 4))])
def test_default_folding_keeps_every_layer_within_the_longest_walk(kernel, shape, channels) -> None:
    """Stride-2 layers: the walk overlaps only part of the window work, so the budget rule alone (H*W / windows
    cycles per window) left them slower than the input (e.g. 847 cycles for a 22x22 frame); they get wider."""
    net = random_network(np.random.default_rng(4), input_shape=shape, channels=channels, kernel=kernel,
                         pool_after=tuple(False for _ in channels), head_channels=3, stride=2, name="s2")
    bound = longest_walk(net)
    assert bound == max(shape[1] * shape[2], (shape[1] + kernel - 1) * (shape[2] + kernel - 1))
    assert all(r.cycles <= bound for r in estimate_cycles(net, default_folding(net)))


def test_conv_cycles_of_a_strided_layer() -> None:
    """1x1 stride 2 on 22x22 at 4 cycles per window: the walk waits 2 cycles per window after the first of each
    output row (one position between windows overlaps), none at a row's first (23 positions since the last)."""
    net = random_network(np.random.default_rng(4), input_shape=(3, 22, 22), channels=(8,), kernel=1,
                         pool_after=(False,), head_channels=3, stride=2, name="s2")
    conv = net.layers[0]
    assert conv_cycles(conv, LayerFolding(2, 3)) == 22 * 22 + 11 * 10 * 2
    assert conv_cycles(conv, LayerFolding(4, 3)) == 22 * 22  # 2 cycles per window: the walk's pace
    stride1 = _net().layers[0]  # no output register: the walk waits out every window
    assert conv_cycles(stride1, LayerFolding(1, 27)) == 14 * 12 + 12 * 10 * 3
