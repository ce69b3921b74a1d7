"""The Vitis HLS script, run by tclsh against a stub of the Vitis HLS commands, and the csynth report parser."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from spikeflow.backends.hls import HlsTarget, generate_hls
from spikeflow.backends.hls.vitis import parse_csynth_report
from spikeflow.errors import SpikeflowError
from spikeflow.hw.boards import Board
from spikeflow.hw.stream import stream_format
from spikeflow.ir.random import random_dag_network, random_network
from tests.backends.hls.hlstools import require_tclsh

HERE = Path(__file__).resolve().parent
STUB = HERE / "vitis_hls_stub.tcl"
REPORT = HERE / "data" / "spikeflow_top_csynth.xml"
FRAMES = 3


def _net():
    return random_network(np.random.default_rng(3), input_shape=(3, 12, 10), channels=(4, 6),
                          pool_after=(True, False), head_channels=5, name="stub")


def run_stub(script: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, list[list[str]]]:
    """Run `script` with tclsh against the stub; returns the exit code and the recorded commands."""
    tclsh = require_tclsh()
    log = script.parent / "stub.log"
    proc = subprocess.run([str(tclsh), str(STUB), str(log), str(script), *args], capture_output=True, text=True,
                          cwd=script.parent, env={**os.environ, **(env or {})})
    calls = [line.split("\x1f") for line in log.read_text().splitlines()] if log.is_file() else []
    return proc.returncode, calls


def _generate(tmp_path: Path, board: Board):
    net = _net()
    build = generate_hls(net, tmp_path / "hls", target=HlsTarget.of(board))
    images = np.zeros((FRAMES, *net.input_shape), np.uint8)
    build.frames_file.write_bytes(build.stream.pack_frames(images))
    return net, build


def _option(call: list[str], name: str) -> str:
    return call[call.index(name) + 1]


@pytest.mark.parametrize("board", [Board.ZCU104, Board.PYNQ_Z2, Board.U250])
def test_script_sets_part_clock_top_interfaces_and_exports(tmp_path, board) -> None:
    _, build = _generate(tmp_path, board)
    code, calls = run_stub(build.script)
    assert code == 0
    names = [c[0] for c in calls]
    assert names == ["open_project", "set_top", "add_files", "add_files", "open_solution", "set_part", "create_clock",
                     "set_directive_interface", "set_directive_interface", "set_directive_interface", "csim_design",
                     "csynth_design", "cosim_design", "export_design", "exit"]
    by_name = {c[0]: c for c in calls}
    assert by_name["set_part"][1:] == [board.spec.part]
    clock = by_name["create_clock"]
    assert float(_option(clock, "-period")) == pytest.approx(1000.0 / board.spec.clock_mhz, abs=1e-4)
    assert by_name["set_top"][1:] == ["spikeflow_top"]
    interfaces = [c[1:] for c in calls if c[0] == "set_directive_interface"]
    assert ["-mode", "axis", "spikeflow_top", "s_axis"] in interfaces
    assert ["-mode", "axis", "spikeflow_top", "m_axis"] in interfaces
    assert ["-mode", "ap_ctrl_none", "spikeflow_top"] in interfaces
    sources = [c for c in calls if c[0] == "add_files"]
    assert Path(sources[0][1]) == build.out_dir / "spikeflow_top.cpp"
    assert sources[1][1] == "-tb" and Path(sources[1][2]) == build.testbench
    assert f"-I{build.out_dir / 'include'}" in _option(sources[0], "-cflags")
    export = by_name["export_design"]
    assert _option(export, "-format") == "ip_catalog" and _option(export, "-rtl") == "verilog"
    assert _option(export, "-ipname") == "spikeflow_top"
    csim = _option(by_name["csim_design"], "-argv").split()
    assert Path(csim[0]) == build.frames_file and int(csim[1]) == FRAMES
    assert _option(by_name["open_solution"], "-flow_target") == "vivado"


def test_script_runs_only_the_steps_asked_for(tmp_path) -> None:
    _, build = _generate(tmp_path, Board.ZCU104)
    code, calls = run_stub(build.script, "csynth")
    names = [c[0] for c in calls]
    assert code == 0 and "csynth_design" in names
    assert not {"csim_design", "cosim_design", "export_design"} & set(names)
    code, calls = run_stub(build.script, "export")
    names = [c[0] for c in calls]
    assert names[-3:] == ["csynth_design", "export_design", "exit"]  # export needs the synthesis first
    code, _ = run_stub(build.script, "bitstream")
    assert code == 2


def test_script_and_top_take_their_widths_from_the_stream_format(tmp_path) -> None:
    net, build = _generate(tmp_path, Board.ZCU104)
    fmt = stream_format(net)
    assert f"expr {{[file size $frames_file] / {fmt.frame_bytes}}}" in build.script.read_text()
    assert fmt.frame_bytes == build.frames_file.stat().st_size // FRAMES


def test_script_sets_one_axis_interface_per_head(tmp_path) -> None:
    """A network with two heads: ports m_axis_0 and m_axis_1 (in net.heads order), no m_axis."""
    net = random_dag_network(np.random.default_rng(0))
    build = generate_hls(net, tmp_path / "hls")
    build.frames_file.write_bytes(build.stream.pack_frames(np.zeros((FRAMES, *net.input_shape), np.uint8)))
    code, calls = run_stub(build.script)
    assert code == 0
    axis = [c[-1] for c in calls if c[0] == "set_directive_interface" and c[1:3] == ["-mode", "axis"]]
    assert axis == ["s_axis", "m_axis_0", "m_axis_1"]
    assert [h.output_shape for h in build.heads] == net.output_shapes


def test_csynth_report_parser() -> None:
    doc = parse_csynth_report(REPORT)
    assert doc["tool"] == "Vitis HLS 2023.2"
    assert doc["part"] == "xczu7ev-ffvc1156-2-e"
    assert doc["clock_mhz"] == 200.0 and doc["estimated_clock_mhz"] == pytest.approx(273.973, abs=1e-3)
    assert (doc["latency_cycles"], doc["latency_cycles_worst"]) == (6021, 6133)
    assert (doc["interval_cycles"], doc["interval_cycles_worst"]) == (4357, 4357)
    assert (doc["LUT"], doc["FF"], doc["BRAM36"], doc["DSP"], doc["URAM"]) == (30502, 18211, 11.5, 12, 0)


def test_csynth_report_parser_older_and_unknown_figures(tmp_path) -> None:
    text = REPORT.read_text().replace("<DSP>12</DSP>", "<DSP48E>7</DSP48E>", 1)
    text = text.replace("<Best-caseLatency>6021</Best-caseLatency>", "<Best-caseLatency>undef</Best-caseLatency>")
    path = tmp_path / "old_csynth.xml"
    path.write_text(text)
    doc = parse_csynth_report(path)
    assert doc["DSP"] == 7 and doc["latency_cycles"] is None
    with pytest.raises(SpikeflowError, match="not a Vitis HLS csynth report"):
        (tmp_path / "other.xml").write_text("<profile><ReportVersion/></profile>")
        parse_csynth_report(tmp_path / "other.xml")
    with pytest.raises(SpikeflowError, match="no Vitis HLS synthesis report"):
        parse_csynth_report(tmp_path / "missing.xml")

