"""Yosys resource estimates: statistics parsing, logic depth between registers, out-of-context synthesis and its
cache."""

from __future__ import annotations

import os
import shutil

import pytest

from spikeflow.backends.rtl.synth import logic_levels, parse_stat, resources, synth_instance
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


def test_synthesis_of_one_instance_is_cached(tmp_path) -> None:
    if shutil.which("yosys") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but yosys is not installed ('make setup' installs it)")
        pytest.skip("yosys not installed")
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
