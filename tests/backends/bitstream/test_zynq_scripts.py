"""The Zynq build script (bitstream_scripts/zynq_build.tcl.j2) under tclsh against a stub of Vivado, per board."""

from __future__ import annotations

import json

import pytest

from spikeflow.backends.bitstream.zynq import ZynqTarget
from spikeflow.hw.boards import Board
from tests.backends.bitstream.stubs import run_script, small_build, tclargs

ZYNQ_BOARDS = [Board.PYNQ_Z2, Board.ZCU104]


def _prepare(tmp_path, board, ppb=1):
    build, cfg = small_build(tmp_path / "b", board, ppb)
    plan = ZynqTarget().prepare(build, cfg)
    return build, cfg, plan


def _run(plan, **values):
    (command,) = plan.commands
    assert command.tool == "vivado" and command.args[:4] == ("-mode", "batch", "-notrace", "-nojournal")
    script, args = tclargs(command.argv())
    return run_script(plan.work_dir / script, args, plan.work_dir, **values)


@pytest.mark.parametrize("board", ZYNQ_BOARDS, ids=lambda b: b.value)
def test_part_board_and_clock(tmp_path, board) -> None:
    build, cfg, plan = _prepare(tmp_path, board)
    run = _run(plan)
    assert run.returncode == 0, run.output
    spec = board.spec
    assert run.named("create_project")[0].args == ["-in_memory", "-part", spec.part]
    assert any(c.args[:2] == ["board_part", spec.board_part] for c in run.named("set_property"))
    assert run.named("set_msg_config")[0].args == ["-severity", "CRITICAL WARNING", "-new_severity", "ERROR"]
    clk = run.properties("clk_wiz")
    assert float(clk["CONFIG.CLKOUT1_REQUESTED_OUT_FREQ"]) == cfg.clock == spec.clock_mhz
    assert float(clk["CONFIG.PRIM_IN_FREQ"]) == 100.0
    # the clock's period is checked on the synthesized design
    period = [c for c in run.named("get_property") if c.args[0] == "PERIOD"]
    assert period and run.index("synth_design") < run.calls.index(period[0])
    assert run.named("synth_design")[0].args == ["-top", "spikeflow_bd_wrapper", "-part", spec.part]
    ps = run.named("create_bd_cell")[0].args
    assert ps[-1] == "ps" and ps[3] == ("xilinx.com:ip:processing_system7" if board is Board.PYNQ_Z2
                                        else "xilinx.com:ip:zynq_ultra_ps_e")


@pytest.mark.parametrize("board,ppb", [(Board.PYNQ_Z2, 1), (Board.ZCU104, 1), (Board.ZCU104, 2)],
                         ids=["pynq-z2", "zcu104", "zcu104-2ppb"])
def test_dma_and_stream_wiring_at_the_stream_widths(tmp_path, board, ppb) -> None:
    build, cfg, plan = _prepare(tmp_path, board, ppb)
    run = _run(plan)
    assert run.returncode == 0, run.output
    from spikeflow.backends.rtl.generator import load_rtl
    from spikeflow.ir import load_network

    fmt = load_rtl(build.rtl, load_network(build.ir)).stream
    assert fmt.in_width == 24 * ppb and fmt.bus_in_width == (32 if ppb == 1 else 64)
    dma = run.properties("dma")
    assert int(dma["CONFIG.c_m_axis_mm2s_tdata_width"]) == fmt.bus_in_width
    assert int(dma["CONFIG.c_s_axis_s2mm_tdata_width"]) == fmt.bus_out_width == fmt.out_width
    assert dma["CONFIG.c_include_sg"] == "0" and int(dma["CONFIG.c_sg_length_width"]) == 26
    accel = run.properties("accel")
    assert {k: int(v) for k, v in accel.items()} == {
        "CONFIG.BUS_IN_WIDTH": fmt.bus_in_width, "CONFIG.IN_WIDTH": fmt.in_width, "CONFIG.OUT_WIDTH": fmt.out_width,
        "CONFIG.STATUS_WIDTH": fmt.status_width, "CONFIG.BEATS_PER_FRAME": fmt.beats_per_frame,
        "CONFIG.AXIL_ADDR_WIDTH": 6}
    assert ["-type", "module", "-reference", "spikeflow_dma_shell", "accel"] in [c.args for c in
                                                                               run.named("create_bd_cell")]
    intf = [c.args for c in run.named("connect_bd_intf_net")]
    assert ["dma/M_AXIS_MM2S", "accel/s_axis"] in intf
    assert ["accel/m_axis", "dma/S_AXIS_S2MM"] in intf
    assert ["ctrl_xbar/M01_AXI", "accel/s_axil"] in intf and ["ctrl_xbar/M00_AXI", "dma/S_AXI_LITE"] in intf
    assert ["mem_xbar/M00_AXI", f"ps/{'S_AXI_HP0' if board is Board.PYNQ_Z2 else 'S_AXI_HP0_FPD'}"] in intf
    # the address map the script assigns is the one the driver gets
    driver = json.loads((plan.work_dir / "driver.json").read_text())
    assigned = {c.args[-1]: int(c.args[c.args.index("-offset") + 1], 16) for c in run.named("assign_bd_address")
                if "-offset" in c.args}
    assert assigned == {"dma/S_AXI_LITE/Reg": driver["address_map"]["dma"]["base"],
                        "accel/s_axil/reg0": driver["address_map"]["status"]["base"]}
    assert driver["stream"]["bus_in_width"] == fmt.bus_in_width and driver["dma"]["mm2s_width"] == fmt.bus_in_width


@pytest.mark.parametrize("board", ZYNQ_BOARDS, ids=lambda b: b.value)
def test_implementation_order_and_outputs(tmp_path, board) -> None:
    build, cfg, plan = _prepare(tmp_path, board)
    run = _run(plan)
    assert run.returncode == 0, run.output
    order = ["read_verilog", "create_bd_design", "validate_bd_design", "generate_target", "synth_design",
             "opt_design", "place_design", "route_design", "report_utilization", "report_timing_summary",
             "get_timing_paths", "write_bitstream"]
    positions = [run.index(cmd) for cmd in order]
    assert positions == sorted(positions), list(zip(order, positions, strict=True))
    # every listed source is read, by type
    read = {c.args[-1].rsplit("/", 1)[-1] for c in run.calls if c.cmd in ("read_verilog", "read_mem", "read_xdc")}
    assert {"spikeflow_top.v", "spikeflow_dma_shell.v", "spikeflow_axil_status.v", "spikeflow_zynq.xdc",
            "conv0_weights.mem", "spikeflow_bd_wrapper.v"} <= read
    for name in ("spikeflow.bit", "spikeflow.hwh", "reports/utilization.rpt", "reports/timing_summary.rpt",
                 "vivado_version.txt"):
        assert (plan.work_dir / name).is_file(), name
    assert "WNS 0.412 ns" in run.output


@pytest.mark.parametrize("board", ZYNQ_BOARDS, ids=lambda b: b.value)
@pytest.mark.parametrize("slack,kind", [({"wns": -0.25}, "WNS -0.25 ns (setup)"), ({"whs": -0.01}, "WHS -0.01 ns")])
def test_negative_slack_fails_the_build(tmp_path, board, slack, kind) -> None:
    build, cfg, plan = _prepare(tmp_path, board)
    run = _run(plan, **slack)
    assert run.returncode != 0
    assert "timing not met after routing" in run.output and kind in run.output, run.output
    assert not run.named("write_bitstream") and not (plan.work_dir / "spikeflow.bit").exists()
    assert (plan.work_dir / "reports" / "timing_summary.rpt").is_file()  # the report is there to read


def test_critical_warning_fails_the_build(tmp_path) -> None:
    build, cfg, plan = _prepare(tmp_path, Board.ZCU104)
    run = _run(plan, critical=1)
    assert run.returncode != 0 and "critical warning" in run.output, run.output
    assert not run.named("synth_design")


def test_wrong_argument_count_is_a_clear_error(tmp_path) -> None:
    build, cfg, plan = _prepare(tmp_path, Board.PYNQ_Z2)
    run = run_script_with(plan, ["xc7z020clg400-1", "-", "100"])
    assert run.returncode != 0 and "expected -tclargs PART BOARD_PART CLOCK_MHZ SOURCES_FILE OUT_DIR" in run.output


def run_script_with(plan, args):
    from tests.backends.bitstream.stubs import run_script as run

    return run(plan.work_dir / "zynq_build.tcl", args, plan.work_dir)


def test_script_is_generated_with_header(tmp_path) -> None:
    build, cfg, plan = _prepare(tmp_path, Board.ZCU104)
    text = (plan.work_dir / "zynq_build.tcl").read_text()
    assert text.startswith("# generated by spikeflow (bitstream_scripts/zynq_build.tcl.j2) from ")
    assert (plan.work_dir / "spikeflow_zynq.xdc").read_text().startswith("# generated by spikeflow")
    assert (plan.work_dir / "sources.f").read_text().startswith("# generated by spikeflow")
