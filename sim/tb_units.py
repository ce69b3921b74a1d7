"""cocotb testbenches of the library modules against the small models in models.py.

The runner (tests/rtl/test_rtl_units.py) sets SPIKEFLOW_UNIT (which module), SPIKEFLOW_PARAMS (JSON of the
module parameters) and, for the neuron unit, SPIKEFLOW_NEURON_NPZ (weights, bias, thresholds, windows).
"""

from __future__ import annotations

import itertools
import json
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
import models  # noqa: E402


class UnitTB:
    """Clock, reset, AXI-Stream source/sink with random idle and back-pressure; one beat per value."""

    def __init__(self, dut, axis_in: bool = False, axis_out: bool = False):
        self.dut = dut
        self.p = json.loads(os.environ["SPIKEFLOW_PARAMS"])
        self.rand = random.Random(3)
        self.rng = np.random.default_rng(3)
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
        if axis_in:
            self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst)
            self.source.log.setLevel(logging.WARNING)
        if axis_out:
            self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst)
            self.sink.log.setLevel(logging.WARNING)

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst.value = 0
        await ClockCycles(self.dut.clk, 2)

    def pauses(self):
        self.source.set_pause_generator(itertools.cycle([self.rand.random() < 0.3 for _ in range(331)]))
        self.sink.set_pause_generator(itertools.cycle([self.rand.random() < 0.3 for _ in range(337)]))

    async def drive_words(self, words: list[int]):
        """Drive raw words (one per beat) on s_axis without the byte-lane machinery."""
        dut = self.dut
        for w in words:
            dut.s_axis_tdata.value = w
            dut.s_axis_tvalid.value = 1
            while True:
                await RisingEdge(dut.clk)
                if dut.s_axis_tready.value == 1:
                    break
            dut.s_axis_tvalid.value = 0
            if self.rand.random() < 0.3:
                await ClockCycles(dut.clk, self.rand.randint(1, 3))

    async def collect_words(self, n: int, timeout_cycles: int = 200000) -> list[int]:
        dut = self.dut
        out = []
        cycles = 0
        while len(out) < n:
            dut.m_axis_tready.value = int(self.rand.random() < 0.7)
            await RisingEdge(dut.clk)
            cycles += 1
            assert cycles < timeout_cycles, f"timeout after {len(out)} of {n} outputs"
            if dut.m_axis_tvalid.value == 1 and dut.m_axis_tready.value == 1:
                out.append(int(dut.m_axis_tdata.value))
        return out


async def _words_test(dut, words_in: list[int], expected: list[int]):
    tb = UnitTB(dut)
    dut.s_axis_tvalid.value = 0
    dut.m_axis_tready.value = 0
    await tb.reset()
    drv = cocotb.start_soon(tb.drive_words(words_in))
    got = await tb.collect_words(len(expected))
    await drv
    assert got == expected, f"first mismatch at {next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)}"
    await ClockCycles(dut.clk, 50)
    assert dut.m_axis_tvalid.value == 0, "extra output"


@cocotb.test()
async def test_unit(dut):
    unit = os.environ["SPIKEFLOW_UNIT"]
    p = json.loads(os.environ["SPIKEFLOW_PARAMS"])
    rng = np.random.default_rng(5)
    if unit == "window":
        c_bits = p["PIX_W"]
        imgs = rng.integers(0, 1 << c_bits, size=(3, 1, p["IN_H"], p["IN_W"]))  # 3 frames back-to-back
        words_in = [int(v) for img in imgs for v in img.reshape(-1)]
        expected = []
        for img in imgs:
            for win in models.windows(img, p["KERNEL"], p["STRIDE"], p["PADDING"]):
                expected.append(models.pack_fields(win, c_bits))
        await _words_test(dut, words_in, expected)
    elif unit == "maxpool":
        ch, bits = p["CHANNELS"], p["BITS"]
        imgs = rng.integers(0, 1 << bits, size=(3, ch, p["IN_H"], p["IN_W"]))
        words_in = [models.pack_fields(img[:, y, x], bits) for img in imgs for y in range(p["IN_H"])
                    for x in range(p["IN_W"])]
        expected = [models.pack_fields(px, bits) for img in imgs
                    for px in models.maxpool(img, p["KERNEL"], p["STRIDE"])]
        await _words_test(dut, words_in, expected)
    elif unit == "neuron":
        data = np.load(os.environ["SPIKEFLOW_NEURON_NPZ"])
        win, w, b = data["windows"], data["weights"], data["bias"]
        thr = data["thresholds"] if p["FIRE"] else None
        ref = models.neuron(win, w, b, thr)
        ob = p["OUT_BITS"] if p["FIRE"] else p["ACC_BITS"]
        words_in = [models.pack_fields(x, p["IN_BITS"]) for x in win]
        expected = [models.pack_fields(r, ob) for r in ref]
        await _words_test(dut, words_in, expected)
    elif unit == "fifo":
        words = [int(v) for v in rng.integers(0, 1 << p["DATA_WIDTH"], size=300)]
        await _words_test(dut, words, words)
    elif unit == "axis_output":
        k, vb, fp = p["CHANNELS"], p["VALUE_BITS"], p["FRAME_PIXELS"]
        tb = UnitTB(dut, axis_out=True)
        await tb.reset()
        tb.sink.set_pause_generator(itertools.cycle([tb.rand.random() < 0.4 for _ in range(101)]))
        vals = rng.integers(-(1 << (vb - 1)), 1 << (vb - 1), size=(2, fp, k))
        words = [models.pack_fields(px, vb) for fr in vals for px in fr]
        dut.s_axis_tvalid.value = 0
        drv = cocotb.start_soon(tb.drive_words(words))
        for fr in vals:
            frame = await with_timeout(tb.sink.recv(), 100000, "ns")
            assert np.array_equal(models.values_from_payload(bytes(frame.tdata)), fr.reshape(-1))
        await drv
    else:  # the input adapter has its own test, test_axis_input_frames
        raise AssertionError(f"test_unit has no model of unit {unit!r}")


@cocotb.test()
async def test_axis_input_frames(dut):
    """Input adapter: serialisation, early and missing TLAST handling (the runner selects this test for the
    axis_input unit only)."""
    assert os.environ["SPIKEFLOW_UNIT"] == "axis_input", "test_axis_input_frames runs on spikeflow_axis_input"
    p = json.loads(os.environ["SPIKEFLOW_PARAMS"])
    c, ppb, fp = p["CHANNELS"], p["PIXELS_PER_BEAT"], p["FRAME_PIXELS"]
    pixel_bits = p.get("PIXEL_BITS", 8)
    assert (c * pixel_bits) % 8 == 0, "the test drives whole bytes per pixel"
    pixel_bytes = c * pixel_bits // 8
    tb = UnitTB(dut, axis_in=True, axis_out=True)
    await tb.reset()
    tb.pauses()
    rng = np.random.default_rng(9)
    frames = [rng.integers(0, 256, size=fp * pixel_bytes, dtype=np.uint8).tobytes() for _ in range(4)]
    beat = ppb * pixel_bytes
    c = pixel_bytes  # bytes per pixel, below
    cut = (fp // ppb) // 2
    await tb.source.send(AxiStreamFrame(frames[0]))
    await tb.source.send(AxiStreamFrame(frames[1][:cut * beat]))        # early TLAST -> padded
    await tb.source.send(AxiStreamFrame(frames[2] + frames[3]))         # missing TLAST on frames[2]
    await tb.source.send(AxiStreamFrame(frames[0]))
    expected = frames[0] + frames[1][:cut * beat] + bytes(fp * c - cut * beat) + frames[2] + frames[3] + frames[0]
    got = bytearray()
    while len(got) < len(expected):
        f = await with_timeout(tb.sink.recv(), 1000000, "ns")
        got += bytes(f.tdata)
    assert bytes(got) == expected
    assert len(dut.status_error_count) == p.get("STATUS_WIDTH", 32)
    assert int(dut.status_error_count.value) == 2
