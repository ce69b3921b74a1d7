"""cocotb testbench of the self-test top (rtl/spikeflow_selftest.v) around a generated spikeflow_top.

The top runs by itself from its power-on reset; the bench watches the accelerator's streams inside it and the
UART line, and checks them against spikeflow.backends.pnr.selftest (frames, CRC, line) and the golden model.

Configured through the environment (set by tests/backends/pnr/test_selftest.py):
  SPIKEFLOW_TB_NET           directory of the FewdIF IR the top was generated from
  SPIKEFLOW_TB_FRAMES        the top's FRAMES
  SPIKEFLOW_TB_SEED          the top's SEED
  SPIKEFLOW_TB_EXPECTED_CRC  the top's EXPECTED_CRC
  SPIKEFLOW_TB_CLKS_PER_BIT  the top's UART bit time in cycles (CLK_HZ / BAUD)
  SPIKEFLOW_TB_PPB           pixels per input beat of the build
  SPIKEFLOW_TB_REPORT        optional: a file to write the UART line and the cycles to (JSON)
"""

from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from spikeflow.backends.pnr.selftest import crc_of_values, expected_crc, selftest_frames, uart_line
from spikeflow.golden import run_counts
from spikeflow.hw.stream import stream_format
from spikeflow.ir import load_network


class TB:
    def __init__(self, dut):
        self.dut = dut
        self.net = load_network(os.environ["SPIKEFLOW_TB_NET"])
        self.frames = int(os.environ["SPIKEFLOW_TB_FRAMES"])
        self.seed = int(os.environ["SPIKEFLOW_TB_SEED"])
        self.param_crc = int(os.environ["SPIKEFLOW_TB_EXPECTED_CRC"])
        self.clks_per_bit = int(os.environ["SPIKEFLOW_TB_CLKS_PER_BIT"])
        self.fmt = stream_format(self.net, int(os.environ["SPIKEFLOW_TB_PPB"]))
        self.cycle = 0
        self.clear()
        dut.rst.value = 0
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        cocotb.start_soon(self.monitor())

    def clear(self) -> None:
        self.in_beats: list[int] = []
        self.in_last: list[int] = []
        self.values: list[int] = []
        self.out_last: list[int] = []
        self.first_in = self.last_out = None
        self.line = bytearray()

    async def monitor(self) -> None:
        """Every clock edge: the accelerator's stream handshakes and the UART line (sampled mid-bit)."""
        acc = self.dut.u_accelerator
        start = None  # cycle of the current character's start bit
        byte = 0
        while True:
            await RisingEdge(self.dut.clk)
            self.cycle += 1
            if acc.rst.value:
                continue
            if acc.s_axis_tvalid.value and acc.s_axis_tready.value:
                if self.first_in is None:
                    self.first_in = self.cycle
                self.in_beats.append(int(acc.s_axis_tdata.value))
                self.in_last.append(int(acc.s_axis_tlast.value))
            if acc.m_axis_tvalid.value and acc.m_axis_tready.value:
                self.last_out = self.cycle
                self.values.append(acc.m_axis_tdata.value.to_signed())
                self.out_last.append(int(acc.m_axis_tlast.value))
            tx = int(self.dut.uart_tx.value)
            if start is None:
                if not tx:
                    start, byte = self.cycle, 0
            else:
                t = self.cycle - start
                if t % self.clks_per_bit == self.clks_per_bit // 2:
                    bit = t // self.clks_per_bit
                    if 1 <= bit <= 8:
                        byte |= tx << (bit - 1)
                    elif bit == 9:
                        assert tx == 1, f"UART framing error in character {len(self.line)}"
                        self.line.append(byte)
                        start = None

    async def run(self, max_cycles: int) -> None:
        """Wait until the line is out (led_busy falls after the run), at most max_cycles."""
        for _ in range(max_cycles):
            await RisingEdge(self.dut.clk)
            if self.last_out is not None and not self.dut.led_busy.value:
                await ClockCycles(self.dut.clk, 2 * self.clks_per_bit)  # the line idles after its stop bit
                return
        raise AssertionError(f"the self-test did not finish within {max_cycles} cycles")

    def check(self) -> str:
        fmt, n = self.fmt, self.frames
        frames = selftest_frames(self.net, n, self.seed)
        payload = fmt.pack_frames(frames)
        beats = [int.from_bytes(payload[i:i + fmt.beat_bytes], "little")
                 for i in range(0, len(payload), fmt.beat_bytes)]
        assert len(self.in_beats) == len(beats), (len(self.in_beats), len(beats))
        bad = [i for i, (a, b) in enumerate(zip(self.in_beats, beats)) if a != b]
        assert not bad, f"input beats differ from selftest_frames from beat {bad[0]}"
        assert self.in_last == ([0] * (fmt.beats_per_frame - 1) + [1]) * n
        golden = fmt.pack_values(run_counts(self.net, frames)).reshape(-1)
        assert len(self.values) == golden.size, (len(self.values), golden.size)
        assert np.array_equal(np.array(self.values, dtype=np.int64), golden), "outputs differ from the golden model"
        assert self.out_last == ([0] * (fmt.values_per_frame - 1) + [1]) * n
        crc = crc_of_values(np.array(self.values))
        assert crc == expected_crc(self.net, n, self.seed)
        ok = crc == self.param_crc
        cycles = self.last_out - self.first_in
        line = self.line.decode("latin-1")
        assert line == uart_line(crc, n, cycles, ok), (line, uart_line(crc, n, cycles, ok))
        assert int(self.dut.led_pass.value) == ok and int(self.dut.led_fail.value) == (not ok)
        assert not self.dut.led_busy.value
        self.dut._log.info("UART: %r (%d cycles for %d frames)", line, cycles, n)
        return line


@cocotb.test()
async def test_selftest_run(dut):
    """A run from the power-on reset, then a button press in the middle of a second run and a full third run."""
    tb = TB(dut)
    limit = 2_000_000
    await tb.run(limit)
    line = tb.check()
    report = os.environ.get("SPIKEFLOW_TB_REPORT")
    if report:
        with open(report, "w") as f:
            json.dump({"line": line, "cycles": tb.last_out - tb.first_in, "frames": tb.frames}, f)
    # rst mid-run: the run restarts from the seed, and its result is the same line
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 3)
    assert dut.led_busy.value and not dut.led_pass.value and not dut.led_fail.value
    await ClockCycles(dut.clk, 40)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)  # rst reaches the reset register after three edges (two synchronising flip-flops)
    tb.clear()
    dut.rst.value = 0
    await tb.run(limit)
    assert tb.check() == line
