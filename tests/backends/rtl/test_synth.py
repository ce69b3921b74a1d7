"""Yosys resource estimates: statistics parsing, logic depth between registers, out-of-context synthesis and its
cache."""

from __future__ import annotations

import os
import shutil

import pytest

from spikeflow.backends.rtl.synth import (
    instance_key,
    logic_levels,
    module_sources,
    parse_stat,
    resources,
    synth_instance,
    synth_work,
)
from spikeflow.errors import SpikeflowError
from spikeflow.hw.sources import hardware_folder

STAT = """
5. Printing statistics.

=== spikeflow_neuron ===

   Number of wires:               7845
   Number of cells:               9911
     CARRY4                         91
     DSP48E2                         2
     FDRE                          713
     LUT2                          274
     LUT6                         4296
     MUXF7                        2049
     RAM64M                          3
     RAMB18E2                        3
     RAMB36E2                        1

"""


def test_largest_instances_are_synthesised_first() -> None:
    fifo = {"module": "spikeflow_axis_fifo", "parameters": {"DATA_WIDTH": 8, "DEPTH": 2}}
    small = {"module": "spikeflow_neuron", "parameters": {"N_IN": 9, "IN_BITS": 2, "PE": 1, "SIMD": 9}}
    big = {"module": "spikeflow_neuron", "parameters": {"N_IN": 72, "IN_BITS": 2, "PE": 4, "SIMD": 72}}
    assert synth_work(big) > synth_work(small) > synth_work(fifo) == 0


def test_parse_stat_and_resources() -> None:
    cells = parse_stat(STAT)
    assert cells["LUT6"] == 4296 and cells["RAMB36E2"] == 1
    r = resources(cells)
    assert r == {"LUT": 274 + 4296 + 3 * 4, "FF": 713, "CARRY": 91, "BRAM36": 2.5, "URAM": 0, "DSP": 2}
    with pytest.raises(SpikeflowError, match="no statistics"):
        parse_stat("ERROR: something broke\n")


def _cell(kind: str, inputs: dict[str, list[int]], outputs: dict[str, list[int]]) -> dict:
    return {"type": kind, "port_directions": {**{p: "input" for p in inputs}, **{p: "output" for p in outputs}},
            "connections": {**inputs, **outputs}}


def test_logic_levels_count_a_carry_chain_once() -> None:
    # FF -> LUT -> LUT -> CARRY4 -> CARRY4 -> FF, and a second path FF -> LUT -> FF
    cells = {
        "ff0": _cell("FDRE", {"D": [20]}, {"Q": [1]}),
        "l1": _cell("LUT2", {"I0": [1], "I1": [1]}, {"O": [2]}),
        "l2": _cell("LUT3", {"I0": [2]}, {"O": [3]}),
        "c0": _cell("CARRY4", {"S": [3], "CI": ["0"]}, {"CO": [4]}),
        "c1": _cell("CARRY4", {"S": [3], "CI": [4]}, {"CO": [5]}),
        "ff1": _cell("FDRE", {"D": [5]}, {"Q": [6]}),
        "l3": _cell("LUT1", {"I0": [6]}, {"O": [20]}),
    }
    assert logic_levels({"modules": {"m": {"cells": cells}}}, "m") == (3, 2, 1)
    # a wide mux after a LUT is a logic level as Vivado counts them, not a LUT level
    cells["m7"] = _cell("MUXF7", {"I0": [3], "I1": [3]}, {"O": [7]})
    cells["l4"] = _cell("LUT1", {"I0": [7]}, {"O": [8]})
    cells["ff2"] = _cell("FDRE", {"D": [8]}, {"Q": [9]})
    assert logic_levels({"modules": {"m": {"cells": cells}}}, "m") == (4, 3, 1)


def _need_yosys() -> None:
    if shutil.which("yosys") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but yosys is not installed ('make setup' installs it)")
        pytest.skip("yosys not installed")


def _lib(tmp_path, *names: str):
    rtl = tmp_path / "rtl"
    (rtl / "lib").mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(hardware_folder("rtl") / name, rtl / "lib")
    return rtl


def test_cache_key_covers_only_the_modules_an_instance_uses(tmp_path) -> None:
    rtl = _lib(tmp_path, "spikeflow_axis_fifo.v", "spikeflow_axis_skid.v", "spikeflow_window.v",
               "spikeflow_maxpool.v")
    assert [p.name for p in module_sources(rtl, "spikeflow_maxpool")] == [
        "spikeflow_axis_skid.v", "spikeflow_maxpool.v", "spikeflow_window.v"]
    fifo = {"module": "spikeflow_axis_fifo", "instance": "u_fifo", "layer": "x", "parameters": {"DEPTH": 16}}
    pool = {"module": "spikeflow_maxpool", "instance": "u_pool", "layer": "x", "parameters": {"IN_W": 8}}
    before = [instance_key(rtl, inst, "xcup", "yosys test") for inst in (fifo, pool)]
    window = rtl / "lib" / "spikeflow_window.v"
    window.write_text(window.read_text() + "\n// edited\n")
    after = [instance_key(rtl, inst, "xcup", "yosys test") for inst in (fifo, pool)]
    assert after[0] == before[0] and after[1] != before[1]  # a window edit re-synthesises the pool, not the FIFO
    with pytest.raises(SpikeflowError, match="not defined"):
        module_sources(rtl, "spikeflow_neuron")


@pytest.mark.parametrize("in_w,bram", [(62, False), (64, True)])
def test_window_line_buffers_follow_the_placement_rule(tmp_path, in_w, bram) -> None:
    # up to LUTRAM_MAX_DEPTH (64) padded words in LUT RAM, beyond in block RAM (ram_style), as the model assumes
    _need_yosys()
    rtl = _lib(tmp_path, "spikeflow_axis_skid.v", "spikeflow_window.v")
    inst = {"module": "spikeflow_window", "instance": "u_win", "layer": "x",
            "parameters": {"PIX_W": 24, "IN_H": 4, "IN_W": in_w, "KERNEL": 3, "STRIDE": 1, "PADDING": 1}}
    result, _ = synth_instance(rtl, inst, "xcup", cache=tmp_path / "cache")
    assert (result.BRAM36 > 0) == bram
    assert any(cell.startswith("RAM64") or cell.startswith("RAM32") for cell in result.cells) != bram


def test_synthesis_of_one_instance_is_cached(tmp_path) -> None:
    _need_yosys()
    rtl = tmp_path / "rtl"
    (rtl / "lib").mkdir(parents=True)
    shutil.copy(hardware_folder("rtl") / "spikeflow_axis_fifo.v", rtl / "lib")
    inst = {"module": "spikeflow_axis_fifo", "instance": "u_fifo", "layer": "x",
            "parameters": {"DATA_WIDTH": 8, "DEPTH": 16}}
    result, cached = synth_instance(rtl, inst, "xcup", cache=tmp_path / "cache")
    assert not cached and result.FF >= 8 and result.LUT > 0 and result.DSP == 0
    assert result.max_logic_levels >= result.lut_levels >= 1
    again, cached = synth_instance(rtl, inst, "xcup", cache=tmp_path / "cache")
    assert cached and again == result
