"""The Alveo kernel wrapper in RTL (cocotb + verilator + cocotbext-axi AXI RAM and AXI-Lite master) against the
golden model, and lint."""

from __future__ import annotations

import numpy as np

from spikeflow.backends.rtl import generate_rtl
from spikeflow.ir.random import random_network
from tests.backends.bitstream.test_shell_rtl import _lint
from tests.backends.rtl.simtools import RTL_DIR, run_cocotb

KERNEL = RTL_DIR / "spikeflow_kernel.v"


def _net():
    return random_network(np.random.default_rng(23), input_shape=(3, 8, 6), channels=(4,), pool_after=(False,),
                          head_channels=5, name="kernel")


def kernel_parameters(fmt, burst: int = 16) -> dict[str, int]:
    return {"BUS_IN_WIDTH": fmt.bus_in_width, "IN_WIDTH": fmt.in_width, "OUT_WIDTH": fmt.out_width,
            "STATUS_WIDTH": fmt.status_width, "BEATS_PER_FRAME": fmt.beats_per_frame,
            "VALUES_PER_FRAME": fmt.values_per_frame, "BURST_LEN": burst}


def test_kernel_lint(tmp_path) -> None:
    build = generate_rtl(_net(), tmp_path / "rtl", pixels_per_beat=2)
    params = [f"-G{k}={v}" for k, v in kernel_parameters(build.stream).items()]
    _lint(["-F", str(build.filelist), str(KERNEL), "--top-module", "spikeflow_kernel", *params])


def test_kernel_against_golden(tmp_path) -> None:
    net = _net()
    ir_dir = tmp_path / "ir"
    net.save(ir_dir)
    build = generate_rtl(net, tmp_path / "rtl")
    # 48 input words and 240 output words per frame: bursts of 16 split frames and end short on the last frame
    run_cocotb([*build.sources, KERNEL], "spikeflow_kernel", "tb_kernel", tmp_path / "sim",
               parameters=kernel_parameters(build.stream), extra_env={"SPIKEFLOW_TB_NET": str(ir_dir),
                                                                     "SPIKEFLOW_TB_FRAMES": "3"},
               build_args=[build.mem_dir_define()])
