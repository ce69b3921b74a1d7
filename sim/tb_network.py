"""cocotb testbench of a generated spikeflow_top against the golden integer model.

Configured through the environment (set by tests/rtl/test_rtl_network.py):
  SPIKEFLOW_TB_NET     directory of the FewdIF IR the top was generated from
  SPIKEFLOW_TB_FRAMES  number of frames per test (default 8)
  SPIKEFLOW_TB_PPB     pixels per input beat (default 1)
  SPIKEFLOW_TB_SEED    random seed (default 1)
  SPIKEFLOW_TB_FRAME_CYCLES  cycles one frame may take at most (default: generous for the default folding)
  SPIKEFLOW_TB_INPUT   .npy of uint8 frames [N,C,H,W] for test run_frames (skipped without it)
  SPIKEFLOW_TB_OUTPUT  .npy that run_frames writes: the collected int64 values [N, K*Gh*Gw] in stream order
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import sys
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

sys.path.insert(0, str(Path(__file__).resolve().parent))
from models import padded_frame, values_from_payload  # noqa: E402

from spikeflow.golden import run_counts, run_counts_heads  # noqa: E402
from spikeflow.hw.stream import stream_format  # noqa: E402
from spikeflow.ir import load_network  # noqa: E402


class TB:
    """Owns the clock, the AXI-Stream source/sink, a cycle counter and the error-pulse monitor."""

    def __init__(self, dut):
        self.dut = dut
        self.net = load_network(os.environ["SPIKEFLOW_TB_NET"])
        self.n_frames = int(os.environ.get("SPIKEFLOW_TB_FRAMES", "8"))
        self.ppb = int(os.environ.get("SPIKEFLOW_TB_PPB", "1"))
        self.rng = np.random.default_rng(int(os.environ.get("SPIKEFLOW_TB_SEED", "1")))
        self.rand = random.Random(int(os.environ.get("SPIKEFLOW_TB_SEED", "1")))
        self.fmt = stream_format(self.net, self.ppb)
        self.frame_beats = self.fmt.beats_per_frame
        self.out_values = self.fmt.values_per_frame
        default_budget = self.frame_beats * self.ppb * 40 + 20000
        self.frame_budget = int(os.environ.get("SPIKEFLOW_TB_FRAME_CYCLES", default_budget))
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst)
        self.source.log.setLevel(logging.WARNING)
        self.sink.log.setLevel(logging.WARNING)
        self.cycle = 0
        self.error_pulses = 0
        self.frame_done_cycles: list[int] = []
        cocotb.start_soon(self._monitor())

    async def _monitor(self):
        while True:
            await RisingEdge(self.dut.clk)
            self.cycle += 1
            if self.dut.rst.value == 0 and self.dut.status_frame_error.value == 1:
                self.error_pulses += 1
            if (self.dut.m_axis_tvalid.value == 1 and self.dut.m_axis_tready.value == 1
                    and self.dut.m_axis_tlast.value == 1):
                self.frame_done_cycles.append(self.cycle)

    def set_idle(self, on: bool):
        if on:
            self.source.set_pause_generator(itertools.cycle([self.rand.random() < 0.3 for _ in range(997)]))
        else:
            self.source.clear_pause_generator()

    def set_backpressure(self, on: bool):
        if on:
            self.sink.set_pause_generator(itertools.cycle([self.rand.random() < 0.4 for _ in range(1009)]))
        else:
            self.sink.clear_pause_generator()

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.source.clear()
        self.sink.clear()
        self.dut.rst.value = 0
        await ClockCycles(self.dut.clk, 2)

    def random_frames(self, n: int) -> np.ndarray:
        return self.rng.integers(0, 256, size=(n, *self.net.input_shape), dtype=np.uint8)

    def expected(self, frames: np.ndarray) -> list[np.ndarray]:
        """Each frame's output values in stream order (several heads: one after the other, as on m_axis)."""
        v = run_counts_heads(self.net, frames) if self.fmt.heads else run_counts(self.net, frames)
        return list(self.fmt.pack_values(v))

    def payload(self, frame: np.ndarray) -> bytes:
        return self.fmt.pack_frames(frame)

    async def send(self, payload: bytes):
        await self.source.send(AxiStreamFrame(payload))

    async def check_outputs(self, expected: list[np.ndarray], timeout_cycles: int | None = None):
        """In-order checker: one TLAST-delimited output frame per expected frame, integers equal."""
        budget = timeout_cycles or self.frame_budget
        for i, exp in enumerate(expected):
            frame = await with_timeout(self.sink.recv(), budget * 10, "ns")
            got = values_from_payload(bytes(frame.tdata), self.fmt.out_width)
            assert len(got) == self.out_values, f"frame {i}: {len(got)} values, expected {self.out_values}"
            if not np.array_equal(got, exp):
                bad = np.flatnonzero(got != exp)
                raise AssertionError(f"frame {i}: {len(bad)} values differ, first at {bad[0]}: "
                                     f"got {got[bad[0]]}, expected {exp[bad[0]]}")

    async def expect_quiet(self, cycles: int = 2000):
        await ClockCycles(self.dut.clk, cycles)
        assert self.sink.empty(), "unexpected extra output frame"
        assert self.dut.m_axis_tvalid.value == 0, "output still valid: a partial extra frame"


async def _stream(dut, idle: bool, backpressure: bool):
    tb = TB(dut)
    await tb.reset()
    tb.set_idle(idle)
    tb.set_backpressure(backpressure)
    frames = tb.random_frames(tb.n_frames)
    for f in frames:
        await tb.send(tb.payload(f))
    await tb.check_outputs(tb.expected(frames))
    await tb.expect_quiet(500)
    assert int(dut.status_error_count.value) == 0 and tb.error_pulses == 0
    return tb


@cocotb.test()
async def test_back_to_back(dut):
    """Frames back-to-back, no pauses: bit-exact; logs steady-state cycles per frame."""
    tb = await _stream(dut, idle=False, backpressure=False)
    done = tb.frame_done_cycles
    if len(done) >= 3:
        steady = (done[-1] - done[1]) / (len(done) - 2)
        dut._log.info("cycles per frame (steady state): %.1f; first frame done at cycle %d", steady, done[0])
        out = os.environ.get("SPIKEFLOW_TB_REPORT")
        if out:
            Path(out).write_text(f"{steady}\n{done[0]}\n")


@cocotb.test()
async def test_idle_and_backpressure(dut):
    """Random idle cycles on the input and random back-pressure on the output."""
    await _stream(dut, idle=True, backpressure=True)


@cocotb.test()
async def test_malformed_frames(dut):
    """Early TLAST -> zero-padded frame; missing TLAST -> frame ends at its last beat; nothing shifts."""
    tb = TB(dut)
    await tb.reset()
    tb.set_backpressure(True)
    good = tb.random_frames(5)
    cut = max(1, tb.frame_beats // 3)
    short = padded_frame(tb.fmt, good[1], cut)
    beat_bytes = tb.fmt.beat_bytes
    await tb.send(tb.payload(good[0]))
    await tb.send(tb.payload(good[1])[:cut * beat_bytes])           # early TLAST
    await tb.send(tb.payload(good[2]))
    await tb.send(tb.payload(good[3]) + tb.payload(good[4]))      # good[3] without TLAST
    await tb.send(tb.payload(good[0]))
    expected = tb.expected(np.stack([good[0], short, good[2], good[3], good[4], good[0]]))
    await tb.check_outputs(expected)
    await tb.expect_quiet(500)
    assert int(dut.status_error_count.value) == 2, f"error count {int(dut.status_error_count.value)}"
    assert tb.error_pulses == 2


@cocotb.test()
async def test_reset_mid_frame(dut):
    """A reset in the middle of a frame: the following frames are correct and nothing else comes out."""
    tb = TB(dut)
    await tb.reset()
    frames = tb.random_frames(4)
    await tb.send(tb.payload(frames[0]))
    await tb.check_outputs(tb.expected(frames[:1]))
    await tb.send(tb.payload(frames[1]))
    await tb.send(tb.payload(frames[2]))
    # frame 1 is complete inside the pipeline, frame 2 half sent
    while tb.source.count() > 0 or tb.source.active is False:
        await RisingEdge(dut.clk)
    await ClockCycles(dut.clk, tb.frame_beats // 2)
    await tb.reset()
    assert int(dut.status_error_count.value) == 0
    tb.set_idle(True)
    tb.set_backpressure(True)
    for f in frames[1:]:
        await tb.send(tb.payload(f))
    await tb.check_outputs(tb.expected(frames[1:]))
    await tb.expect_quiet(500)


@cocotb.test(skip="SPIKEFLOW_TB_INPUT" not in os.environ)
async def run_frames(dut):
    """Given frames with random idle cycles and back-pressure; saves every output value it collects
    (spikeflow.backends.rtl.run_cocotb_network compares them with the golden model, not this test)."""
    tb = TB(dut)
    await tb.reset()
    tb.set_idle(True)
    tb.set_backpressure(True)
    frames = np.load(os.environ["SPIKEFLOW_TB_INPUT"])
    for f in frames:
        await tb.send(tb.payload(f))
    collected = []
    for i in range(len(frames)):
        frame = await with_timeout(tb.sink.recv(), tb.frame_budget * 10, "ns")
        got = values_from_payload(bytes(frame.tdata), tb.fmt.out_width)
        assert len(got) == tb.out_values, f"frame {i}: {len(got)} values, expected {tb.out_values}"
        collected.append(got)
    np.save(os.environ["SPIKEFLOW_TB_OUTPUT"], np.stack(collected).astype(np.int64))
    await tb.expect_quiet(500)
    assert int(dut.status_error_count.value) == 0 and tb.error_pulses == 0
