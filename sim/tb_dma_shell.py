"""cocotb testbench of the Zynq shell (rtl/spikeflow_dma_shell.v) around a generated spikeflow_top.

The AXI DMA is modelled by an AXI-Stream source and sink at the DMA's widths, the PS by an AXI-Lite master on the
status registers. Outputs are compared with the golden model, integers equal.

Configured through the environment (set by tests/backends/bitstream/test_shell_rtl.py):
  SPIKEFLOW_TB_NET     directory of the FewdIF IR the top was generated from
  SPIKEFLOW_TB_FRAMES  number of frames (default 4)
"""

from __future__ import annotations

import itertools
import logging
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, with_timeout
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from spikeflow.backends.bitstream.registers import STATUS_ID, STATUS_REGISTERS, offsets
from spikeflow.golden import run_counts
from spikeflow.hw.stream import StreamFormat, values_from_payload
from spikeflow.ir import load_network

REG = offsets(STATUS_REGISTERS)


class TB:
    """Clock, reset, the DMA's two streams and the PS's AXI-Lite master."""

    def __init__(self, dut):
        self.dut = dut
        self.net = load_network(os.environ["SPIKEFLOW_TB_NET"])
        self.n_frames = int(os.environ.get("SPIKEFLOW_TB_FRAMES", "4"))
        self.fmt = StreamFormat.of(self.net, 1)
        self.rng = np.random.default_rng(5)
        self.rand = random.Random(5)
        cocotb.start_soon(Clock(dut.aclk, 10, unit="ns").start())
        self.mm2s = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.aclk, dut.aresetn,
                                    reset_active_level=False)
        self.s2mm = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.aclk, dut.aresetn,
                                  reset_active_level=False)
        self.ps = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.aclk, dut.aresetn,
                                reset_active_level=False)
        for log in (self.mm2s.log, self.s2mm.log, self.ps.write_if.log, self.ps.read_if.log):
            log.setLevel(logging.WARNING)
        self.budget_ns = (self.fmt.beats_per_frame * 40 + 20000) * 10

    async def reset(self):
        self.dut.aresetn.value = 0
        await ClockCycles(self.dut.aclk, 5)
        self.dut.aresetn.value = 1
        await ClockCycles(self.dut.aclk, 3)

    def pauses(self):
        self.mm2s.set_pause_generator(itertools.cycle([self.rand.random() < 0.3 for _ in range(997)]))
        self.s2mm.set_pause_generator(itertools.cycle([self.rand.random() < 0.4 for _ in range(1009)]))

    async def read(self, name: str) -> int:
        return int.from_bytes((await self.ps.read(REG[name], 4)).data, "little")

    async def write(self, name: str, value: int) -> None:
        await self.ps.write(REG[name], value.to_bytes(4, "little"))

    async def send_frame(self, frame: np.ndarray, beats: int | None = None) -> None:
        payload = self.fmt.pack_frames_bus(frame)
        if beats is not None:
            payload = payload[:beats * self.fmt.bus_in_bytes]
        await self.mm2s.send(AxiStreamFrame(payload))

    async def receive(self, expected: np.ndarray) -> None:
        for i, exp in enumerate(expected):
            frame = await with_timeout(self.s2mm.recv(compact=False), self.budget_ns, "ns")
            assert all(k == 1 for k in frame.tkeep), f"frame {i}: a partial output word"
            got = values_from_payload(bytes(frame.tdata), self.fmt.out_width)
            assert np.array_equal(got, exp), f"frame {i}: {int(np.sum(got != exp))} values differ from the golden model"


@cocotb.test()
async def test_frames_and_counters(dut):
    """Padded DMA words in, golden outputs back; the status registers count the frames and clear on command."""
    tb = TB(dut)
    await tb.reset()
    assert await tb.read("ID") == STATUS_ID
    assert await tb.read("STREAM") == (tb.fmt.out_width << 16) | tb.fmt.in_width
    tb.pauses()
    frames = tb.rng.integers(0, 256, size=(tb.n_frames, *tb.net.input_shape), dtype=np.uint8)
    for f in frames:
        await tb.send_frame(f)
    await tb.receive(tb.fmt.pack_values(run_counts(tb.net, frames)))
    await ClockCycles(dut.aclk, 20)
    assert await tb.read("FRAMES_IN") == tb.n_frames
    assert await tb.read("FRAMES_OUT") == tb.n_frames
    assert await tb.read("ERRORS") == 0
    cycles = await tb.read("CYCLES")
    assert cycles > tb.n_frames * tb.fmt.beats_per_frame
    await tb.write("FRAMES_IN", 123)  # read-only: ignored
    assert await tb.read("FRAMES_IN") == tb.n_frames
    await tb.write("CONTROL", 1)
    assert await tb.read("FRAMES_IN") == 0 and await tb.read("FRAMES_OUT") == 0
    assert await tb.read("CYCLES") < 50
    assert await tb.read("CONTROL") == 0
    assert int.from_bytes((await tb.ps.read(0x1C, 4)).data, "little") == 0  # unmapped


@cocotb.test()
async def test_malformed_frame_is_counted(dut):
    """An early TLAST: the accelerator pads the frame, ERRORS counts it, the next frame is exact."""
    tb = TB(dut)
    await tb.reset()
    frames = tb.rng.integers(0, 256, size=(2, *tb.net.input_shape), dtype=np.uint8)
    cut = tb.fmt.beats_per_frame // 2
    short = frames[0].copy()
    flat = short.transpose(1, 2, 0).reshape(-1, tb.fmt.channels)
    flat[cut:] = 0
    short = flat.reshape(tb.fmt.height, tb.fmt.width, tb.fmt.channels).transpose(2, 0, 1)
    await tb.send_frame(frames[0], beats=cut)
    await tb.send_frame(frames[1])
    await tb.receive(tb.fmt.pack_values(run_counts(tb.net, np.stack([short, frames[1]]))))
    await ClockCycles(dut.aclk, 20)
    assert await tb.read("ERRORS") == 1
    assert await tb.read("FRAMES_IN") == 2 and await tb.read("FRAMES_OUT") == 2
