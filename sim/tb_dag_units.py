"""cocotb testbenches of the DAG building blocks (upsample, broadcast, concat, the neuron's residual input, the head
merge) against numpy, with random idle on every input and random back-pressure on every output.

The runner (tests/backends/rtl/test_rtl_dag_units.py) sets SPIKEFLOW_PARAMS (JSON of the module parameters) and,
for the residual neuron, SPIKEFLOW_NEURON_NPZ (windows, shortcut counts, weights, bias, thresholds, shifts).
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

sys.path.insert(0, str(Path(__file__).resolve().parent))
import models  # noqa: E402


async def _start(dut) -> None:
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 2)


def _bits(signal, i: int) -> int:
    return (int(signal.value) >> i) & 1


async def drive(dut, data, valid, ready, words: list[int], rand: random.Random) -> None:
    """Drive `words` on one stream, one per beat, with random idle."""
    for w in words:
        while rand.random() < 0.3:
            await RisingEdge(dut.clk)
        data.value = w
        valid.value = 1
        while True:
            await RisingEdge(dut.clk)
            if int(ready.value) == 1:
                break
        valid.value = 0


async def collect(dut, data, valid, ready, n: int, rand: random.Random, lane: int | None = None, width: int = 0,
                  timeout_cycles: int = 100000) -> list[int]:
    """Take `n` words with random back-pressure. lane/width: one stream of a packed multi-stream port."""
    out: list[int] = []
    for _ in range(timeout_cycles):
        take = int(rand.random() < 0.7)
        if lane is None:
            ready.value = take
        else:
            ready.value = (int(ready.value) & ~(1 << lane)) | (take << lane)
        await RisingEdge(dut.clk)
        fired = (_bits(valid, lane) and _bits(ready, lane)) if lane is not None else \
            (int(valid.value) == 1 and int(ready.value) == 1)
        if fired:
            word = int(data.value)
            out.append((word >> (lane * width)) & ((1 << width) - 1) if lane is not None else word)
            if len(out) == n:
                if lane is None:
                    ready.value = 0
                return out
    raise AssertionError(f"timeout after {len(out)} of {n} outputs")


@cocotb.test()
async def test_upsample(dut):
    p = json.loads(os.environ["SPIKEFLOW_PARAMS"])
    rng, rand = np.random.default_rng(7), random.Random(7)
    f = p["FACTOR"]
    imgs = rng.integers(0, 1 << p["PIX_W"], size=(3, p["IN_H"], p["IN_W"]))  # three frames back to back
    expected = [int(v) for img in imgs for v in img.repeat(f, axis=0).repeat(f, axis=1).reshape(-1)]
    dut.s_axis_tvalid.value = 0
    dut.m_axis_tready.value = 0
    await _start(dut)
    cocotb.start_soon(drive(dut, dut.s_axis_tdata, dut.s_axis_tvalid, dut.s_axis_tready,
                            [int(v) for v in imgs.reshape(-1)], rand))
    got = await collect(dut, dut.m_axis_tdata, dut.m_axis_tvalid, dut.m_axis_tready, len(expected), rand)
    assert got == expected
    await ClockCycles(dut.clk, 30)
    assert int(dut.m_axis_tvalid.value) == 0, "extra output"


@cocotb.test()
async def test_broadcast(dut):
    p = json.loads(os.environ["SPIKEFLOW_PARAMS"])
    rng, rand = np.random.default_rng(8), random.Random(8)
    n, width = p["N"], p["WIDTH"]
    words = [int(v) for v in rng.integers(0, 1 << width, size=200)]
    dut.s_axis_tvalid.value = 0
    dut.m_axis_tready.value = 0
    await _start(dut)
    cocotb.start_soon(drive(dut, dut.s_axis_tdata, dut.s_axis_tvalid, dut.s_axis_tready, words, rand))
    # every consumer with its own random back-pressure (one coroutine drives all the ready bits)
    seen: list[list[int]] = [[] for _ in range(n)]
    for _ in range(20000):
        dut.m_axis_tready.value = sum(int(rand.random() < 0.6) << i for i in range(n))
        await RisingEdge(dut.clk)
        for i in range(n):
            if _bits(dut.m_axis_tvalid, i) and _bits(dut.m_axis_tready, i):
                seen[i].append((int(dut.m_axis_tdata.value) >> (i * width)) & ((1 << width) - 1))
        if all(len(s) == len(words) for s in seen):
            break
    for i, s in enumerate(seen):
        assert s == words, f"consumer {i} saw {len(s)} items, or a different sequence"


@cocotb.test()
async def test_concat(dut):
    p = json.loads(os.environ["SPIKEFLOW_PARAMS"])
    widths = p["WIDTHS"]
    rng, rand = np.random.default_rng(9), random.Random(9)
    count = 150
    streams = [[int(v) for v in rng.integers(0, 1 << w, size=count)] for w in widths]
    offsets = [int(o) for o in np.concatenate([[0], np.cumsum(widths)[:-1]])]
    expected = [sum(s[j] << o for s, o in zip(streams, offsets, strict=True)) for j in range(count)]
    dut.s_axis_tvalid.value = 0
    dut.s_axis_tdata.value = 0
    dut.m_axis_tready.value = 0
    await _start(dut)
    cocotb.start_soon(_drive_inputs(dut, streams, offsets, random.Random(20)))
    got = await collect(dut, dut.m_axis_tdata, dut.m_axis_tvalid, dut.m_axis_tready, count, rand)
    assert got == expected


async def _drive_inputs(dut, streams: list[list[int]], offsets: list[int], rand: random.Random) -> None:
    """Drive every input of a packed multi-stream port, each with its own random idle (one coroutine)."""
    pos = [0] * len(streams)
    while any(p < len(s) for p, s in zip(pos, streams, strict=True)):
        data, valid = 0, 0
        for i, (s, o) in enumerate(zip(streams, offsets, strict=True)):
            if pos[i] < len(s) and rand.random() < 0.7:
                data |= s[pos[i]] << o
                valid |= 1 << i
        dut.s_axis_tdata.value = data
        dut.s_axis_tvalid.value = valid
        await RisingEdge(dut.clk)
        for i in range(len(streams)):
            if (valid >> i) & 1 and _bits(dut.s_axis_tready, i):
                pos[i] += 1
    dut.s_axis_tvalid.value = 0


@cocotb.test()
async def test_neuron_residual(dut):
    p = json.loads(os.environ["SPIKEFLOW_PARAMS"])
    data = np.load(os.environ["SPIKEFLOW_NEURON_NPZ"])
    win, sc = data["windows"], data["shortcut"]
    v = win.astype(np.int64) @ data["weights"].astype(np.int64).T + data["bias"].astype(np.int64)[None]
    v = v + (sc.astype(np.int64) << data["shifts"].astype(np.int64)[None])
    ref = (v[:, :, None] >= data["thresholds"][None]).sum(axis=2)
    expected = [models.pack_fields(r, p["OUT_BITS"]) for r in ref]
    rand = random.Random(11)
    dut.s_axis_tvalid.value = 0
    dut.r_axis_tvalid.value = 0
    dut.m_axis_tready.value = 0
    await _start(dut)
    cocotb.start_soon(drive(dut, dut.s_axis_tdata, dut.s_axis_tvalid, dut.s_axis_tready,
                            [models.pack_fields(x, p["IN_BITS"]) for x in win], rand))
    cocotb.start_soon(drive(dut, dut.r_axis_tdata, dut.r_axis_tvalid, dut.r_axis_tready,
                            [models.pack_fields(s, p["RES_BITS"]) for s in sc], random.Random(12)))
    got = await collect(dut, dut.m_axis_tdata, dut.m_axis_tvalid, dut.m_axis_tready, len(expected), rand)
    bad = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
    assert not bad, f"{len(bad)} of {len(expected)} windows differ, first at {bad[0]}"


async def _trunk(dut, items: list[tuple[int, int, int]], width: int, rand: random.Random, progress: list[int]) -> None:
    """A model of the shared trunk in front of spikeflow_head_merge: the items (input, value, last) in one order,
    each offered on its input until taken, the next only after it (as a fork hands an item to all its branches
    before the next). progress[0] counts the items taken."""
    for lane, value, last in items:
        while rand.random() < 0.2:
            await RisingEdge(dut.clk)
        dut.s_axis_tdata.value = value << (lane * width)
        dut.s_axis_tlast.value = last << lane
        dut.s_axis_tvalid.value = 1 << lane
        while True:
            await RisingEdge(dut.clk)
            if _bits(dut.s_axis_tready, lane):
                break
        progress[0] += 1
        dut.s_axis_tvalid.value = 0


@cocotb.test()
async def test_head_merge(dut):
    """Frames of two heads in the worst order a shared trunk can give: head 0's values but its last, then all of
    head 1's, then head 0's last. The output must be head 0's frame, then head 1's, TLAST on head 1's last value.
    SPIKEFLOW_EXPECT=deadlock (a FIFO one value short of head 1's frame): the trunk must stall for good."""
    p = json.loads(os.environ["SPIKEFLOW_PARAMS"])
    width, v0, v1, frames = p["DATA_WIDTH"], p["V0"], p["V1"], 3
    rng, rand = np.random.default_rng(10), random.Random(10)
    heads = [[[int(x) for x in rng.integers(0, 1 << width, size=v)] for v in (v0, v1)] for _ in range(frames)]
    items = []
    for h0, h1 in heads:
        items += [(0, x, 0) for x in h0[:-1]] + [(1, x, int(i == v1 - 1)) for i, x in enumerate(h1)] + [(0, h0[-1], 1)]
    expected = []
    for h0, h1 in heads:
        expected += [(x, 0) for x in h0] + [(x, int(i == v1 - 1)) for i, x in enumerate(h1)]
    dut.s_axis_tvalid.value = 0
    dut.s_axis_tlast.value = 0
    dut.s_axis_tdata.value = 0
    dut.m_axis_tready.value = 0
    await _start(dut)
    progress = [0]
    cocotb.start_soon(_trunk(dut, items, width, random.Random(13), progress))
    got: list[tuple[int, int]] = []
    idle = 0
    mask = (1 << width) - 1
    while len(got) < len(expected) and idle < 20 * (v0 + v1) + 200:
        dut.m_axis_tready.value = int(rand.random() < 0.7)
        await RisingEdge(dut.clk)
        before = progress[0]
        if int(dut.m_axis_tvalid.value) and int(dut.m_axis_tready.value):
            got.append((int(dut.m_axis_tdata.value) & mask, int(dut.m_axis_tlast.value)))
            idle = 0
        else:
            idle = idle + 1 if progress[0] == before else 0
    if os.environ.get("SPIKEFLOW_EXPECT") == "deadlock":
        assert len(got) < len(expected), "no deadlock with a FIFO one value short of a frame"
        assert progress[0] < len(items), "the trunk finished"
        assert got == expected[:len(got)] and len(got) == v0 - 1, \
            f"stuck after {len(got)} outputs, expected after head 0's first {v0 - 1}"
        return
    assert got == expected, f"{len(got)} of {len(expected)} outputs, or different values or TLASTs"
