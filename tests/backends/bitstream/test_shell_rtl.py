"""The bitstream shells in RTL (cocotb + verilator + cocotbext-axi) against the golden model, and lint."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from spikeflow.backends.bitstream.registers import STATUS_ADDR_WIDTH
from spikeflow.backends.rtl import generate_rtl
from spikeflow.backends.rtl.tools import verilator_env
from spikeflow.ir.random import random_network
from tests.backends.rtl.simtools import RTL_DIR, require_verilator, run_cocotb

SHELL_SOURCES = [RTL_DIR / "spikeflow_axil_status.v", RTL_DIR / "spikeflow_dma_shell.v"]


def _net():
    return random_network(np.random.default_rng(21), input_shape=(3, 8, 6), channels=(4,),
                          pool_after=(False,), head_channels=5, name="shell")


def _lint(args: list[str]) -> None:
    require_verilator()
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", *args], env=verilator_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr


def test_status_block_lint() -> None:
    _lint([str(RTL_DIR / "spikeflow_axil_status.v"), "--top-module", "spikeflow_axil_status"])


@pytest.mark.parametrize("bus_in_width", [32, 64])
def test_dma_shell_lint(tmp_path, bus_in_width) -> None:
    build = generate_rtl(_net(), tmp_path / "rtl")
    _lint(["-F", str(build.filelist), *map(str, SHELL_SOURCES), "--top-module", "spikeflow_dma_shell",
           f"-GBUS_IN_WIDTH={bus_in_width}", f"-GBEATS_PER_FRAME={build.stream.beats_per_frame}"])


@pytest.mark.parametrize("frames_in_flight", [2, 16])
def test_dma_shell_against_golden(tmp_path, frames_in_flight) -> None:
    """Single frames (BATCH 1) and batches through the shell, and a misplaced DMA TLAST counted; with room to track
    2 frames in the accelerator (the input waits) and 16."""
    net = _net()
    ir_dir = tmp_path / "ir"
    net.save(ir_dir)
    build = generate_rtl(net, tmp_path / "rtl")
    fmt = build.stream
    params = {"BUS_IN_WIDTH": fmt.bus_in_width, "IN_WIDTH": fmt.in_width, "OUT_WIDTH": fmt.out_width,
              "STATUS_WIDTH": fmt.status_width, "BEATS_PER_FRAME": fmt.beats_per_frame,
              "FRAMES_IN_FLIGHT": frames_in_flight, "AXIL_ADDR_WIDTH": STATUS_ADDR_WIDTH}
    run_cocotb([*build.sources, *SHELL_SOURCES], "spikeflow_dma_shell", "tb_dma_shell", tmp_path / "sim",
               parameters=params, extra_env={"SPIKEFLOW_TB_NET": str(ir_dir), "SPIKEFLOW_TB_FRAMES": "4"},
               build_args=[build.mem_dir_define()])
