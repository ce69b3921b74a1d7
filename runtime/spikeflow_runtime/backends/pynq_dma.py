"""The pynq back end (Zynq: PYNQ-Z2, ZCU104): the Overlay from the .bit and .hwh, an AXI DMA moving a whole batch
of frames per transfer between pynq.allocate buffers and the accelerator's streams (as FINN's driver does), and the
status block's counters, checked per batch.

Names, widths and offsets come from the bitstream step's driver.json (spikeflow/backends/bitstream/zynq.py): the
DMA's name, the padded bus words, the status block's address window and register table. A batch of n frames is
packed straight into a device buffer, BATCH = n is written to the status block (the shell then ends the output
packet after n frames: rtl/spikeflow_dma_shell.v), a receive of n frames' values is programmed into a buffer filled
with a sentinel, and ONE send moves the n frames. When both channels are idle the batch is checked: S2MM_LENGTH is
n frames' bytes (else a short transfer), FRAMES_OUT rose by exactly n (else results out of sequence), ERRORS did not
move (else malformed frames), no sentinel is left; CYCLES gives the device's cycles per frame.

Two batches in flight, one on the DMA (spikeflow_runtime.backends.slots): the AXI DMA in simple (direct register)
mode takes a new transfer on a channel only when that channel is idle (PG021; pynq's transfer() raises "DMA
channel not idle"), and the shell's BATCH register must not change while a batch runs, so a second batch cannot be
queued behind the first on the DMA. What overlaps instead: `max_in_flight` = 2 lets the caller submit batch k+1
before it collects batch k; submit packs it into the second buffer slot while batch k computes, and collect(k)
starts it on the DMA the moment batch k's checks pass, before returning, so the device computes batch k+1 while
the host decodes batch k. The device idles only for the host's poll interval and the accelerator's pipeline fill
between batches. A batch larger than the buffers (`max_batch` frames) or than the DMA's `max_transfer_bytes` runs
as several transfers, one after the other.
"""

from __future__ import annotations

import time

import numpy as np

from spikeflow_runtime.backends.slots import Folders, SlotBatch, SlottedAccelerator
from spikeflow_runtime.board import SENTINEL, wait_until
from spikeflow_runtime.errors import DriverError
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings

S2MM_LENGTH = 0x58  # AXI DMA (PG021) S2MM_LENGTH: after a transfer, the bytes actually written
STATUS_ID = 0x53504B46  # "SPKF", the status block's ID (rtl/spikeflow_axil_status.v; the flow imports it)
STATUS_REGISTERS = ("ID", "STREAM", "FRAMES_IN", "FRAMES_OUT", "ERRORS", "CYCLES", "CONTROL", "BATCH")
DEFAULT_BATCH = 32  # frames per DMA transfer
WORD = 0xFFFFFFFF  # the status counters are 32 bits and wrap


class PynqAccelerator(SlottedAccelerator):
    name = "pynq"
    default_batch = DEFAULT_BATCH

    def __init__(self, model: DeployedModel, decode: DecodeSettings | None = None, folder: Folders = None,
                 board: str | None = None, max_batch: int = DEFAULT_BATCH):
        super().__init__(model, decode, folder, board, max_batch)
        cfg, where = self.cfg, self.board_folder
        bitstream = where / cfg["bitstream"]
        self.reg = {r["name"]: int(r["offset"]) for r in cfg["status_registers"]}
        missing = [r for r in STATUS_REGISTERS if r not in self.reg]
        if missing:
            raise DriverError(f"{where / 'driver.json'}: the status block has no {', '.join(missing)} register: the "
                              f"bitstream predates batch transfers; rebuild it ('spikeflow bitstream BUILD --board "
                              f"{where.name}')")
        self.overlay = self.pynq.Overlay(str(bitstream))
        self.dma = getattr(self.overlay, cfg["dma"]["ip"])
        window = cfg["address_map"]["status"]
        self.status = self.pynq.MMIO(int(window["base"]), int(window["range"]))
        fmt = self.fmt
        ident = self._read("ID")
        widths = self._read("STREAM")
        if ident != STATUS_ID or widths != (fmt.out_width << 16 | fmt.in_width):
            raise DriverError(f"{bitstream}: the status block reads ID 0x{ident:08X}, stream widths 0x{widths:08X}; "
                              f"expected 0x{STATUS_ID:08X} and in {fmt.in_width} / out {fmt.out_width} bits: is this "
                              f"overlay the build's bitstream?")
        self.in_bytes = fmt.bus_frame_bytes  # one frame of padded bus words
        self.out_bytes = fmt.output_frame_bytes
        limit = int(cfg["dma"]["max_transfer_bytes"]) // max(self.in_bytes, self.out_bytes)
        if limit < 1:
            raise DriverError(f"a frame of {max(self.in_bytes, self.out_bytes)} bytes exceeds the DMA's "
                              f"{cfg['dma']['max_transfer_bytes']}-byte transfers")
        self._init_slots(min(max_batch, limit))

    def _read(self, name: str) -> int:
        return int(self.status.read(self.reg[name]))

    def _counters(self) -> str:
        return ", ".join(f"{k} {self._read(k)}" for k in ("FRAMES_IN", "FRAMES_OUT", "ERRORS", "BATCH"))

    def _stage_run(self, batch: SlotBatch, run: int) -> None:
        return None  # the send moves the packed frames

    def _start_run(self, batch: SlotBatch, run: int) -> None:
        """Counters cleared, BATCH written, the receive of the run's values programmed, then one send."""
        count = batch.runs[run][1]
        t0 = time.perf_counter()
        self.status.write(self.reg["CONTROL"], 1)  # clear FRAMES_IN, FRAMES_OUT and CYCLES: nothing is in flight
        batch.device = self._read("ERRORS")
        self.status.write(self.reg["BATCH"], count)
        out = self.out_bufs[batch.slot]
        out[:count * self.fmt.values_per_frame] = SENTINEL
        out.flush()  # no dirty cache line may overwrite what the DMA writes
        self.dma.recvchannel.transfer(out, 0, count * self.out_bytes)
        self.dma.sendchannel.transfer(self.in_bufs[batch.slot], 0, count * self.in_bytes)
        self.times.add("transfer", time.perf_counter() - t0)

    def _finish_run(self, batch: SlotBatch, run: int) -> tuple[np.ndarray, float]:
        first, count = batch.runs[run]
        dma = self.dma
        t0 = time.perf_counter()
        wait_until(lambda: dma.recvchannel.idle and dma.sendchannel.idle, self.timeout_s(count),
                   lambda: f"pynq: DMA of {batch.describe(run)} ({self._counters()})")
        dma.sendchannel.wait()
        dma.recvchannel.wait()  # pynq: raises on a DMA error, invalidates the receive buffer's cache lines
        t1 = time.perf_counter()
        self.times.add("compute", t1 - t0)
        errors = (self._read("ERRORS") - batch.device) & WORD
        if errors:
            raise DriverError(f"pynq: the accelerator counted {errors} malformed input frame(s) in "
                              f"{batch.describe(run)}: check the packing against driver.json ({self._counters()})")
        got = int(dma.read(S2MM_LENGTH))
        expected = count * self.out_bytes
        if got != expected:
            raise DriverError(f"pynq: short transfer: {batch.describe(run)} came back with {got} of {expected} "
                              f"bytes ({self._counters()})")
        frames_out = self._read("FRAMES_OUT")
        if frames_out != count:
            raise DriverError(f"pynq: {batch.describe(run)} received, but the device counts {frames_out} frame(s) "
                              f"out for the {count} sent: results out of sequence ({self._counters()})")
        values = self.out_bufs[batch.slot][:count * self.fmt.values_per_frame]
        if np.any(values == SENTINEL):
            frame = int(np.argmax(values == SENTINEL)) // self.fmt.values_per_frame
            raise DriverError(f"pynq: {batch.describe(run)}: the output buffer was not fully written (frame "
                              f"{first + frame} of the batch)")
        cycles = self._read("CYCLES")
        self.intervals.extend([cycles // count] * count)  # the status block's cycles per frame (incl. host polls)
        self.times.add("transfer", time.perf_counter() - t1)
        return values, cycles / (self.model.clock_mhz * 1e6)
