"""The pynq back end (Zynq: PYNQ-Z2, ZCU104): the Overlay from the .bit and .hwh, an AXI DMA moving one frame per
transfer between pynq.allocate buffers and the accelerator's streams, and the status block's counters.

Names, widths and offsets come from the bitstream step's driver.json (spikeflow/backends/bitstream/zynq.py): the
DMA's name, the padded bus words, the status block's address window and register table. Double buffering: frame
n+1 is packed, then sent while frame n is computed; frame n's output is read while frame n+1 streams in.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from spikeflow.backends.bitstream.registers import STATUS_ID
from spikeflow.driver.accelerator import Accelerator, DeviceOutput
from spikeflow.driver.board import SENTINEL, find_driver_config, import_pynq, wait_until
from spikeflow.driver.model import DriverModel
from spikeflow.driver.settings import DecodeSettings
from spikeflow.errors import DriverError

S2MM_LENGTH = 0x58  # AXI DMA (PG021) S2MM_LENGTH: after a transfer, the bytes actually written


class PynqAccelerator(Accelerator):
    name = "pynq"
    default_batch = 8
    bus_padded = True

    def __init__(self, model: DriverModel, decode: DecodeSettings | None = None, board: str | None = None):
        cfg, folder = find_driver_config(model, "pynq", board)
        super().__init__(replace(model, clock_mhz=float(cfg["clock_mhz"])), decode)
        pynq = import_pynq()
        self.cfg = cfg
        self.overlay = pynq.Overlay(str(folder / cfg["bitstream"]))
        self.dma = getattr(self.overlay, cfg["dma"]["ip"])
        window = cfg["address_map"]["status"]
        self.status = pynq.MMIO(int(window["base"]), int(window["range"]))
        self.reg = {r["name"]: int(r["offset"]) for r in cfg["status_registers"]}
        fmt = self.fmt
        ident = self.status.read(self.reg["ID"])
        widths = self.status.read(self.reg["STREAM"])
        if ident != STATUS_ID or widths != (fmt.out_width << 16 | fmt.in_width):
            raise DriverError(f"{folder / cfg['bitstream']}: the status block reads ID 0x{ident:08X}, stream widths "
                              f"0x{widths:08X}; expected 0x{STATUS_ID:08X} and in {fmt.in_width} / out "
                              f"{fmt.out_width} bits: is this overlay the build's bitstream?")
        self.in_bytes = fmt.beats_per_frame * fmt.bus_in_bytes  # one frame of padded bus words
        self.out_bytes = fmt.values_per_frame * fmt.value_bytes
        if max(self.in_bytes, self.out_bytes) > int(cfg["dma"]["max_transfer_bytes"]):
            raise DriverError(f"a frame of {self.in_bytes} bytes exceeds the DMA's {cfg['dma']['max_transfer_bytes']}"
                              f"-byte transfers")
        self.in_bufs = [pynq.allocate(shape=(self.in_bytes,), dtype=np.uint8) for _ in range(2)]
        self.out_bufs = [pynq.allocate(shape=(fmt.values_per_frame,), dtype=np.dtype(fmt.value_dtype))
                         for _ in range(2)]

    def close(self) -> None:
        for buf in (*getattr(self, "in_bufs", ()), *getattr(self, "out_bufs", ())):
            buf.freebuffer()
        self.in_bufs, self.out_bufs = [], []

    def _read(self, name: str) -> int:
        return int(self.status.read(self.reg[name]))

    def _send(self, payload: bytes, n: int, slot: int) -> None:
        buf = self.in_bufs[slot]
        buf[:] = np.frombuffer(payload, np.uint8, self.in_bytes, n * self.in_bytes)
        self.dma.sendchannel.transfer(buf)

    def _receive(self, slot: int) -> None:
        self.out_bufs[slot][:] = SENTINEL
        self.out_bufs[slot].flush()  # no dirty cache line may overwrite what the DMA writes
        self.dma.recvchannel.transfer(self.out_bufs[slot])

    def _execute(self, frames: np.ndarray, payload: bytes) -> DeviceOutput:
        n = len(frames)
        timeout = self.timeout_s(1)
        errors0 = self._read("ERRORS")
        self.status.write(self.reg["CONTROL"], 1)  # clear FRAMES_IN, FRAMES_OUT, CYCLES
        out = bytearray()
        transfer = compute = 0.0
        t0 = time.perf_counter()
        self._receive(0)
        self._send(payload, 0, 0)
        transfer += time.perf_counter() - t0
        for i in range(n):
            slot = i % 2
            t0 = time.perf_counter()
            wait_until(lambda: self.dma.sendchannel.idle, timeout, lambda i=i: self._where("send", i))
            self.dma.sendchannel.wait()
            if i + 1 < n:
                self._send(payload, i + 1, 1 - slot)  # frame i+1 streams in while frame i is computed
            t1 = time.perf_counter()
            wait_until(lambda: self.dma.recvchannel.idle, timeout, lambda i=i: self._where("receive", i))
            self.dma.recvchannel.wait()
            t2 = time.perf_counter()
            got = int(self.dma.read(S2MM_LENGTH))
            if got != self.out_bytes:
                raise DriverError(f"pynq: short transfer: frame {i} of the batch came back with {got} of "
                                  f"{self.out_bytes} bytes ({self._counters()})")
            frames_out = self._read("FRAMES_OUT")
            if frames_out != i + 1:
                raise DriverError(f"pynq: frame {i} of the batch received, but the device counts {frames_out} "
                                  f"frame(s) out: results out of sequence ({self._counters()})")
            result = self.out_bufs[slot]
            if i + 1 < n:
                self._receive(1 - slot)
            if np.any(result == SENTINEL):
                raise DriverError(f"pynq: frame {i}: the output buffer was not fully written")
            out += result.tobytes()
            transfer += (t1 - t0) + (time.perf_counter() - t2)
            compute += t2 - t1
        errors = self._read("ERRORS") - errors0
        if errors:
            raise DriverError(f"pynq: the accelerator counted {errors} malformed input frame(s) in this batch of {n}: "
                              f"check the packing against driver.json ({self._counters()})")
        cycles = self._read("CYCLES")
        self.intervals.extend([cycles // n] * n)  # the status block's cycles per frame (includes host waits)
        self.times.add("transfer", transfer)
        self.times.add("compute", compute)
        return DeviceOutput(bytes(out), frames_out=self._read("FRAMES_OUT"))

    def _counters(self) -> str:
        return ", ".join(f"{k} {self._read(k)}" for k in ("FRAMES_IN", "FRAMES_OUT", "ERRORS"))

    def _where(self, channel: str, i: int) -> str:
        return f"pynq: DMA {channel} of frame {i} of the batch ({self._counters()})"
