"""cocotb testbench of the Zynq shell (rtl/spikeflow_dma_shell.v) around a generated spikeflow_top.

The AXI DMA is modelled by an AXI-Stream source and sink at the DMA's widths, the PS by an AXI-Lite master on the
status registers. Outputs are compared with the golden model, integers equal. One DMA transfer (an AxiStreamFrame,
TLAST on its last word) carries BATCH frames; each received packet (up to the shell's TLAST) is one batch.

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
from spikeflow.hw.stream import stream_format, values_from_payload
from spikeflow.ir import load_network

REG = offsets(STATUS_REGISTERS)


class TB:
    """Clock, reset, the DMA's two streams and the PS's AXI-Lite master."""

    def __init__(self, dut):
        self.dut = dut
        self.net = load_network(os.environ["SPIKEFLOW_TB_NET"])
        self.n_frames = int(os.environ.get("SPIKEFLOW_TB_FRAMES", "4"))
        self.fmt = stream_format(self.net, 1)
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
        """One DMA transfer of the frames in `frame` ([C,H,W] or [N,C,H,W]), cut to `beats` beats when given."""
        payload = self.fmt.pack_frames_bus(frame)
        if beats is not None:
            payload = payload[:beats * self.fmt.bus_in_bytes]
        await self.mm2s.send(AxiStreamFrame(payload))

    def frames(self, n: int) -> np.ndarray:
        return self.rng.integers(0, 256, size=(n, *self.net.input_shape), dtype=np.uint8)

    def golden(self, frames: np.ndarray) -> np.ndarray:
        return self.fmt.pack_values(run_counts(self.net, frames))

    async def receive(self, expected: np.ndarray, batch: int = 1) -> None:
        """Packets of `batch` frames (the last may be shorter) whose values are `expected` [N, values]."""
        for first in range(0, len(expected), batch):
            exp = expected[first:first + batch]
            packet = await with_timeout(self.s2mm.recv(compact=False), self.budget_ns * len(exp), "ns")
            assert all(k == 1 for k in packet.tkeep), f"frames {first}..: a partial output word"
            got = values_from_payload(bytes(packet.tdata), self.fmt.out_width)
            assert got.size == exp.size, (f"frames {first}..: a packet of {got.size} values, expected {len(exp)} "
                                          f"frame(s) of {self.fmt.values_per_frame} (TLAST misplaced)")
            got = got.reshape(exp.shape)
            for i, (g, e) in enumerate(zip(got, exp)):
                assert np.array_equal(g, e), (f"frame {first + i}: {int(np.sum(g != e))} values differ from the "
                                              f"golden model")

    async def counters(self) -> tuple[int, int, int]:
        await ClockCycles(self.dut.aclk, 20)
        return await self.read("FRAMES_IN"), await self.read("FRAMES_OUT"), await self.read("ERRORS")


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
    assert await tb.read("BATCH") == 1  # reset value: one frame per transfer, as before
    assert int.from_bytes((await tb.ps.read(0x20, 4)).data, "little") == 0  # unmapped


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


@cocotb.test()
async def test_batches_of_frames(dut):
    """BATCH frames per DMA transfer (TLAST on its last word only) -> one output packet per batch, golden values;
    FRAMES_IN and FRAMES_OUT count frames; BATCH 0 counts as 1."""
    tb = TB(dut)
    await tb.reset()
    tb.pauses()
    batch = 3
    await tb.write("BATCH", batch)
    assert await tb.read("BATCH") == batch
    frames = tb.frames(2 * batch)
    for first in range(0, len(frames), batch):
        await tb.send_frame(frames[first:first + batch])
    await tb.receive(tb.golden(frames), batch)
    assert await tb.counters() == (2 * batch, 2 * batch, 0)
    await tb.write("BATCH", 0)
    one = tb.frames(2)
    for f in one:
        await tb.send_frame(f)
    await tb.receive(tb.golden(one), 1)
    assert await tb.counters() == (2 * batch + 2, 2 * batch + 2, 0)


@cocotb.test()
async def test_misplaced_batch_tlast_is_counted(dut):
    """With BATCH 3: a transfer of 2 whole frames (TLAST before the batch's last frame) counts one malformed frame,
    one of 4 (no TLAST at the batch's end, then a short batch) two, one cut inside its second frame one; every
    output packet ends with its input batch, and the batch after them is exact."""
    tb = TB(dut)
    await tb.reset()
    batch = 3
    await tb.write("BATCH", batch)
    sent = errors = 0
    # TLAST at the end of frame 1 of 3: a batch of 2 whole frames
    early = tb.frames(2)
    await tb.send_frame(early)
    await tb.receive(tb.golden(early), batch)
    sent, errors = sent + 2, errors + 1
    assert await tb.counters() == (sent, sent, errors)
    # no TLAST at the end of frame 2 of 3: the batch ends there, and frame 3 is a short batch ended by its TLAST
    # (two errors, as spikeflow_axis_input counts a frame that is too long)
    long = tb.frames(4)
    await tb.send_frame(long)
    await tb.receive(tb.golden(long[:3]), batch)
    await tb.receive(tb.golden(long[3:]), batch)
    sent, errors = sent + 4, errors + 2
    assert await tb.counters() == (sent, sent, errors)
    # TLAST inside frame 1: spikeflow_top zero-pads that frame and counts it; the batch ends with it
    cut = tb.frames(2)
    beats = tb.fmt.beats_per_frame + tb.fmt.beats_per_frame // 2
    padded = cut.copy()
    flat = padded[1].transpose(1, 2, 0).reshape(-1, tb.fmt.channels)
    flat[tb.fmt.beats_per_frame // 2 * tb.fmt.pixels_per_beat:] = 0
    padded[1] = flat.reshape(tb.fmt.height, tb.fmt.width, tb.fmt.channels).transpose(2, 0, 1)
    await tb.send_frame(cut, beats=beats)
    await tb.receive(tb.golden(padded), batch)
    sent, errors = sent + 2, errors + 1
    assert await tb.counters() == (sent, sent, errors)
    # and a whole batch after all that is exact
    good = tb.frames(batch)
    await tb.send_frame(good)
    await tb.receive(tb.golden(good), batch)
    sent += batch
    assert await tb.counters() == (sent, sent, errors)
