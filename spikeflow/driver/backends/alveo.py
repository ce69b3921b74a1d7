"""The alveo back end (U50, U250): the .xclbin through pynq's XRT path. Batches of frames in device buffers, the
kernel started with its arguments in kernel.xml's order (driver.json `arguments`) and waited on with a deadline.
Double buffering: batch k+1 is packed and synced to the card while batch k runs.

The kernel is ap_ctrl_hs (spikeflow/backends/bitstream/alveo.py, rtl/spikeflow_kernel.v); its `errors` register
counts malformed frames. Output buffers are filled with a sentinel no head value can take, so a short write shows.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from spikeflow.driver.accelerator import Accelerator, DeviceOutput
from spikeflow.driver.board import SENTINEL, find_driver_config, import_pynq, wait_until
from spikeflow.driver.model import DriverModel
from spikeflow.driver.settings import DecodeSettings
from spikeflow.errors import DriverError

DEFAULT_BATCH = 64  # frames per kernel run


class AlveoAccelerator(Accelerator):
    name = "alveo"
    default_batch = DEFAULT_BATCH
    bus_padded = True

    def __init__(self, model: DriverModel, decode: DecodeSettings | None = None, board: str | None = None,
                 max_batch: int = DEFAULT_BATCH):
        cfg, folder = find_driver_config(model, "alveo", board)
        super().__init__(replace(model, clock_mhz=float(cfg["clock_mhz"])), decode)
        pynq = import_pynq()
        self.cfg = cfg
        self.overlay = pynq.Overlay(str(folder / cfg["xclbin"]))
        self.kernel = getattr(self.overlay, cfg["kernel"])
        self.arg_names = [a["name"] for a in cfg["arguments"]]
        if sorted(self.arg_names) != ["frames", "input", "output"]:
            raise DriverError(f"{folder / 'driver.json'}: kernel arguments {self.arg_names}, expected frames, input, "
                              f"output")
        self.reg = {r["name"]: int(r["offset"]) for r in cfg["registers"]}
        fmt = self.fmt
        self.max_batch = max_batch
        self.in_bytes = fmt.beats_per_frame * fmt.bus_in_bytes
        self.in_bufs = [pynq.allocate(shape=(max_batch * self.in_bytes,), dtype=np.uint8) for _ in range(2)]
        self.out_bufs = [pynq.allocate(shape=(max_batch * fmt.values_per_frame,), dtype=np.dtype(fmt.value_dtype))
                         for _ in range(2)]

    def close(self) -> None:
        for buf in (*getattr(self, "in_bufs", ()), *getattr(self, "out_bufs", ())):
            buf.freebuffer()
        self.in_bufs, self.out_bufs = [], []

    def _stage(self, payload: bytes, first: int, count: int, slot: int) -> None:
        buf = self.in_bufs[slot]
        buf[:count * self.in_bytes] = np.frombuffer(payload, np.uint8, count * self.in_bytes, first * self.in_bytes)
        buf.sync_to_device()
        out = self.out_bufs[slot]
        out[:] = SENTINEL
        out.sync_to_device()

    def _start(self, count: int, slot: int) -> Any:
        args = {"frames": count, "input": self.in_bufs[slot], "output": self.out_bufs[slot]}
        return self.kernel.start(*[args[name] for name in self.arg_names])

    def _execute(self, frames: np.ndarray, payload: bytes) -> DeviceOutput:
        n = len(frames)
        chunks = [(i, min(self.max_batch, n - i)) for i in range(0, n, self.max_batch)]
        values = self.fmt.values_per_frame
        errors0 = int(self.kernel.read(self.reg["errors"]))
        out = bytearray()
        transfer = compute = 0.0
        t0 = time.perf_counter()
        self._stage(payload, *chunks[0], 0)
        handle = self._start(chunks[0][1], 0)
        transfer += time.perf_counter() - t0
        for k, (first, count) in enumerate(chunks):
            slot = k % 2
            t0 = time.perf_counter()
            if k + 1 < len(chunks):
                self._stage(payload, *chunks[k + 1], 1 - slot)  # the next batch goes to the card while this runs
            t1 = time.perf_counter()
            wait_until(lambda h=handle: h.done, self.timeout_s(count),
                       lambda a=first, b=first + count - 1: f"alveo: kernel run of frames {a}..{b}")
            t2 = time.perf_counter()
            if k + 1 < len(chunks):
                handle = self._start(chunks[k + 1][1], 1 - slot)
            result = self.out_bufs[slot]
            result.sync_from_device()
            got = result[:count * values]
            if np.any(got == SENTINEL):
                written = int(np.argmax(got == SENTINEL)) // values
                raise DriverError(f"alveo: short transfer: the kernel wrote {written} of the {count} frame(s) of "
                                  f"frames {first}..{first + count - 1}")
            out += got.tobytes()
            transfer += (t1 - t0) + (time.perf_counter() - t2)
            compute += t2 - t1
        errors = int(self.kernel.read(self.reg["errors"])) - errors0
        if errors:
            raise DriverError(f"alveo: the kernel counted {errors} malformed input frame(s) in these {n}: check the "
                              f"packing against driver.json")
        self.times.add("transfer", transfer)
        self.times.add("compute", compute)
        return DeviceOutput(bytes(out))
