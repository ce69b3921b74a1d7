"""The Alveo kernel packaging (bitstream_scripts/alveo_package.tcl.j2), its v++ link and post-route hook, under
tclsh against the Vivado stub and a fake v++, per board."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from spikeflow.backends.bitstream.alveo import AlveoTarget
from spikeflow.backends.bitstream.registers import KERNEL_REGISTERS, offsets
from spikeflow.backends.bitstream.steps import bitstream_flow
from spikeflow.backends.rtl.generator import load_rtl
from spikeflow.errors import BitstreamError
from spikeflow.flow.report import read_report
from spikeflow.hw.boards import Board
from spikeflow.ir import load_network
from tests.backends.bitstream.stubs import fake_vivado, fake_vpp, run_script, small_build, tclargs
from tests.backends.bitstream.test_shell_rtl import _lint

ALVEO_BOARDS = [Board.U50, Board.U250]


def _prepare(tmp_path, board, ppb=1):
    build, cfg = small_build(tmp_path / "b", board, ppb)
    plan = AlveoTarget().prepare(build, cfg)
    fmt = load_rtl(build.rtl, load_network(build.ir)).stream
    return build, cfg, plan, fmt


@pytest.mark.parametrize("board", ALVEO_BOARDS, ids=lambda b: b.value)
def test_package_kernel(tmp_path, board) -> None:
    build, cfg, plan, fmt = _prepare(tmp_path, board)
    package, link = plan.commands
    script, args = tclargs(package.argv())
    assert args == [board.spec.part, board.spec.platform, f"{cfg.clock:g}", "sources.f", "."]
    run = run_script(plan.work_dir / script, args, plan.work_dir)
    assert run.returncode == 0, run.output
    assert run.named("create_project")[0].args[:-1] == ["-force", "-part", board.spec.part, "spikeflow_kernel"]
    read = {c.args[-1].rsplit("/", 1)[-1] for c in run.calls if c.cmd in ("read_verilog", "read_mem", "read_xdc")}
    assert {"spikeflow.v", "spikeflow_kernel.v", "spikeflow_top.v", "spikeflow_kernel.xdc", "conv0_weights.mem"} <= read
    assert ["top", "spikeflow", "sources_1"] in [c.args for c in run.named("set_property")]
    order = ["read_verilog", "ipx::package_project", "ipx::associate_bus_interfaces", "ipx::save_core",
             "package_xo"]
    assert [run.index(c) for c in order] == sorted(run.index(c) for c in order)
    assert {c.args[1] for c in run.named("ipx::associate_bus_interfaces")} == {"m_axi_gmem0", "m_axi_gmem1",
                                                                             "s_axi_control"}
    assert any(c.args[:2] == ["sdx_kernel", "true"] for c in run.named("set_property"))
    xo = run.named("package_xo")[0].args
    assert xo[xo.index("-kernel_name") + 1] == "spikeflow"
    assert xo[xo.index("-xo_path") + 1] == str(plan.work_dir / "spikeflow.xo")
    assert (plan.work_dir / "spikeflow.xo").is_file()
    # the OOC clock constraint at the build's clock
    xdc = (plan.work_dir / "spikeflow_kernel.xdc").read_text()
    assert f"create_clock -period {1000.0 / cfg.clock:.3f} -name ap_clk [get_ports ap_clk]" in xdc


@pytest.mark.parametrize("board,ppb", [(Board.U50, 1), (Board.U250, 1), (Board.U250, 2)],
                         ids=["u50", "u250", "u250-2ppb"])
def test_kernel_xml_and_top_at_the_stream_widths(tmp_path, board, ppb) -> None:
    build, cfg, plan, fmt = _prepare(tmp_path, board, ppb)
    root = ET.parse(plan.work_dir / "kernel.xml").getroot()
    kernel = root.find("kernel")
    assert kernel.get("name") == "spikeflow" and kernel.get("hwControlProtocol") == "ap_ctrl_hs"
    ports = {p.get("name"): int(p.get("dataWidth")) for p in kernel.iter("port")}
    assert ports == {"s_axi_control": 32, "m_axi_gmem0": fmt.bus_in_width, "m_axi_gmem1": fmt.out_width}
    args = {a.get("name"): (a.get("port"), int(a.get("offset"), 16)) for a in kernel.iter("arg")}
    regs = offsets(KERNEL_REGISTERS)
    assert args == {"frames": ("s_axi_control", regs["frames"]), "input": ("m_axi_gmem0", regs["input"]),
                    "output": ("m_axi_gmem1", regs["output"])}
    top = (plan.work_dir / "hdl" / "spikeflow.v").read_text()
    assert f".BUS_IN_WIDTH({fmt.bus_in_width})" in top and f".IN_WIDTH({fmt.in_width})" in top
    assert f".BEATS_PER_FRAME({fmt.beats_per_frame})" in top and f".VALUES_PER_FRAME({fmt.values_per_frame})" in top
    files = [line for line in (plan.work_dir / "sources.f").read_text().splitlines()[1:] if line.endswith(".v")]
    _lint([str((plan.work_dir / f).resolve()) for f in files] + ["--top-module", "spikeflow"])


@pytest.mark.parametrize("board", ALVEO_BOARDS, ids=lambda b: b.value)
def test_link_command_and_config(tmp_path, board) -> None:
    build, cfg, plan, fmt = _prepare(tmp_path, board)
    package, link = plan.commands
    argv = link.argv()
    assert argv[:4] == ["v++", "--link", "--target", "hw"]
    assert argv[argv.index("--platform") + 1] == board.spec.platform
    assert argv[argv.index("--kernel_frequency") + 1] == f"{cfg.clock:g}"
    assert argv[argv.index("-o") + 1] == "spikeflow.xclbin" and argv[-1] == "spikeflow.xo"
    config = (plan.work_dir / argv[argv.index("--config") + 1]).read_text()
    memory = "HBM[0]" if board is Board.U50 else "DDR[0]"
    assert f"sp=spikeflow_1.m_axi_gmem0:{memory}" in config and f"sp=spikeflow_1.m_axi_gmem1:{memory}" in config
    assert "nk=spikeflow:1:spikeflow_1" in config
    hook = config.split("prop=run.impl_1.STEPS.ROUTE_DESIGN.TCL.POST=")[1].split()[0]
    assert hook == str(plan.work_dir / "alveo_post_route.tcl")
    driver = json.loads((plan.work_dir / "driver.json").read_text())
    assert driver["backend"] == "alveo" and driver["platform"] == board.spec.platform and driver["memory"] == memory


def _with_fake_tools(monkeypatch, tmp_path, **stub_values):
    log = tmp_path / "calls.jsonl"
    fake_vivado(tmp_path / "bin", log)
    fake_vpp(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SPIKEFLOW_STUB_LOG", str(log))
    for key, value in stub_values.items():
        monkeypatch.setenv(f"SPIKEFLOW_STUB_{key.upper()}", str(value))
    return log


def _calls(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.parametrize("board", ALVEO_BOARDS, ids=lambda b: b.value)
def test_alveo_build_with_vivado_and_vpp(monkeypatch, tmp_path, board) -> None:
    build, cfg = small_build(tmp_path / "b", board)
    log = _with_fake_tools(monkeypatch, tmp_path)
    bitstream_flow(build, cfg)
    cmds = [c["cmd"] for c in _calls(log)]
    order = ["package_xo", "v++", "synth_design", "place_design", "route_design", "report_utilization",
             "report_timing_summary", "get_timing_paths", "write_bitstream"]
    assert [cmds.index(c) for c in order] == sorted(cmds.index(c) for c in order)
    timing = read_report(build.root, "timing")
    assert timing["tool"] == "vivado 2023.2" and timing["part"] == board.spec.part and timing["wns_ns"] == 0.412
    assert timing["clock_mhz"] == cfg.clock
    deploy = build.deploy / board.value
    manifest = json.loads((deploy / "manifest.json").read_text())
    assert manifest["state"] == "built" and manifest["platform"] == board.spec.platform
    assert {f["name"] for f in manifest["files"] if f["copy_to_board"]} == {"spikeflow.xclbin", "driver.json",
                                                                           "network.json"}
    assert (deploy / "spikeflow.xclbin").is_file() and "--backend alveo" in manifest["driver_command"]


def test_negative_slack_fails_the_link(monkeypatch, tmp_path) -> None:
    build, cfg = small_build(tmp_path / "b", Board.U250)
    _with_fake_tools(monkeypatch, tmp_path, wns=-0.2)
    with pytest.raises(BitstreamError, match="v\\+\\+ failed"):
        bitstream_flow(build, cfg)
    assert read_report(build.root, "timing")["met"] is False
    assert not (build.bitstream / "u250" / "spikeflow.xclbin").exists()


def test_post_route_hook_alone(tmp_path) -> None:
    build, cfg, plan, fmt = _prepare(tmp_path, Board.U50)
    (plan.work_dir / "driver.tcl").write_text(f"create_project -in_memory -part {Board.U50.spec.part}\n"
                                              f"source {plan.work_dir / 'alveo_post_route.tcl'}\n")
    ok = run_script(plan.work_dir / "driver.tcl", [], plan.work_dir)
    assert ok.returncode == 0 and (plan.work_dir / "reports" / "timing_summary.rpt").is_file(), ok.output
    bad = run_script(plan.work_dir / "driver.tcl", [], plan.work_dir, whs=-0.05)
    assert bad.returncode != 0 and "WHS -0.05 ns (hold)" in bad.output
