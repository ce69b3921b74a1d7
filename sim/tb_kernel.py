"""cocotb testbench of the Alveo kernel wrapper (rtl/spikeflow_kernel.v) around a generated spikeflow_top.

Device memory is a cocotbext-axi RAM behind both m_axi ports (random stalls on R, W and AW), the host an AXI-Lite
master that drives the ap_ctrl_hs handshake the way XRT does. Outputs are compared with the golden model.

Configured through the environment (set by tests/backends/bitstream/test_kernel_rtl.py):
  SPIKEFLOW_TB_NET     directory of the FewdIF IR the top was generated from
  SPIKEFLOW_TB_FRAMES  number of frames of the first run (default 3)
"""

from __future__ import annotations

import itertools
import logging
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Timer
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiRamRead, AxiRamWrite, AxiReadBus, AxiWriteBus

from spikeflow.backends.bitstream.registers import KERNEL_REGISTERS, offsets
from spikeflow.golden import run_counts
from spikeflow.hw.stream import stream_format, values_from_payload
from spikeflow.ir import load_network

REG = offsets(KERNEL_REGISTERS)
AP_START, AP_DONE, AP_IDLE = 1, 2, 4
IN_BASE, OUT_BASE = 0x1_0000, 0x8_0000


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.net = load_network(os.environ["SPIKEFLOW_TB_NET"])
        self.fmt = stream_format(self.net, 1)
        self.rng = np.random.default_rng(9)
        self.rand = random.Random(9)
        cocotb.start_soon(Clock(dut.ap_clk, 4, unit="ns").start())
        self.rd = AxiRamRead(AxiReadBus.from_prefix(dut, "m_axi_gmem0"), dut.ap_clk, dut.ap_rst_n,
                             reset_active_level=False, size=2**20)
        self.wr = AxiRamWrite(AxiWriteBus.from_prefix(dut, "m_axi_gmem1"), dut.ap_clk, dut.ap_rst_n,
                              reset_active_level=False, mem=self.rd.mem)
        self.host = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axi_control"), dut.ap_clk, dut.ap_rst_n,
                                  reset_active_level=False)
        for log in (self.rd.log, self.wr.log, self.host.write_if.log, self.host.read_if.log):
            log.setLevel(logging.WARNING)
        for channel, p in ((self.rd.r_channel, 0.3), (self.wr.w_channel, 0.3), (self.wr.aw_channel, 0.2)):
            channel.set_pause_generator(itertools.cycle([self.rand.random() < p for _ in range(499)]))

    async def reset(self):
        self.dut.ap_rst_n.value = 0
        await ClockCycles(self.dut.ap_clk, 5)
        self.dut.ap_rst_n.value = 1
        await ClockCycles(self.dut.ap_clk, 3)

    async def write(self, offset: int, value: int) -> None:
        await self.host.write(offset, int(value).to_bytes(4, "little"))

    async def read(self, offset: int) -> int:
        return int.from_bytes((await self.host.read(offset, 4)).data, "little")

    async def run(self, frames: np.ndarray, in_base: int = IN_BASE, out_base: int = OUT_BASE) -> np.ndarray:
        """What XRT does: buffers, arguments, ap_start, poll ap_done; returns the output values [N, values]."""
        self.rd.write(in_base, self.fmt.pack_frames_bus(frames))
        out_bytes = len(frames) * self.fmt.values_per_frame * self.fmt.value_bytes
        self.rd.write(out_base, b"\xa5" * (out_bytes + 64))  # a guard beyond the buffer
        await self.write(REG["frames"], len(frames))
        await self.write(REG["input"], in_base)
        await self.write(REG["input"] + 4, 0)
        await self.write(REG["output"], out_base)
        await self.write(REG["output"] + 4, 0)
        assert await self.read(REG["CTRL"]) & AP_IDLE
        await self.write(REG["CTRL"], AP_START)
        assert await self.read(REG["CTRL"]) & AP_START
        budget = len(frames) * (self.fmt.beats_per_frame * 60 + 20000)
        for _ in range(budget // 50):
            ctrl = await self.read(REG["CTRL"])
            if ctrl & AP_DONE:
                break
            await Timer(200, unit="ns")
        else:
            raise AssertionError(f"ap_done did not come within {budget} cycles")
        assert ctrl & AP_IDLE and not ctrl & AP_START
        assert not await self.read(REG["CTRL"]) & AP_DONE, "ap_done clears when read"
        assert self.rd.read(out_base + out_bytes, 64) == b"\xa5" * 64, "written past the output buffer"
        values = values_from_payload(self.rd.read(out_base, out_bytes), self.fmt.out_width)
        return values.reshape(len(frames), self.fmt.values_per_frame)

    def frames(self, n: int) -> np.ndarray:
        return self.rng.integers(0, 256, size=(n, *self.net.input_shape), dtype=np.uint8)

    def check(self, frames: np.ndarray, got: np.ndarray) -> None:
        exp = self.fmt.pack_values(run_counts(self.net, frames))
        assert np.array_equal(got, exp), f"{int(np.sum(got != exp))} values differ from the golden model"


@cocotb.test()
async def test_runs_against_golden(dut):
    """Two runs back to back (N frames, then one), with stalls on every memory channel: bit-exact outputs."""
    tb = TB(dut)
    await tb.reset()
    frames = tb.frames(int(os.environ.get("SPIKEFLOW_TB_FRAMES", "3")))
    tb.check(frames, await tb.run(frames))
    one = tb.frames(1)
    tb.check(one, await tb.run(one, in_base=0x4_0000, out_base=0xC_0000))
    assert await tb.read(REG["errors"]) == 0
    assert await tb.read(REG["frames"]) == 1
    assert await tb.read(REG["input"]) == 0x4_0000 and await tb.read(REG["output"]) == 0xC_0000


@cocotb.test()
async def test_zero_frames_and_interrupt(dut):
    """frames = 0 finishes at once; with GIE and IER set, done raises the interrupt until ISR is toggled."""
    tb = TB(dut)
    await tb.reset()
    await tb.write(REG["GIE"], 1)
    await tb.write(REG["IER"], 1)
    await tb.write(REG["frames"], 0)
    await tb.write(REG["CTRL"], AP_START)
    await ClockCycles(dut.ap_clk, 10)
    assert await tb.read(REG["CTRL"]) & AP_DONE
    assert dut.interrupt.value == 1 and await tb.read(REG["ISR"]) == 1
    await tb.write(REG["ISR"], 1)
    assert dut.interrupt.value == 0 and await tb.read(REG["ISR"]) == 0
