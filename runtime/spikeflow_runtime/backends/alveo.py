"""The alveo back end (U50, U250): the .xclbin through pynq's XRT path. A batch of frames is packed straight into a
device buffer and synced to the card, the kernel started with its arguments in kernel.xml's order (driver.json
`arguments`) and waited on with a deadline.

Double buffering (spikeflow_runtime.backends.slots): the kernel is ap_ctrl_hs (spikeflow/backends/bitstream/alveo.py,
rtl/spikeflow_kernel.v) and runs one batch at a time, so batch k+1 is packed and synced to the card while batch k
runs, and started the moment batch k is checked. The kernel's `errors` register counts malformed frames. Output
buffers are filled with a sentinel no head value can take before a run, so a short write shows.
"""

from __future__ import annotations

import time

import numpy as np

from spikeflow_runtime.backends.slots import Folders, SlotBatch, SlottedAccelerator
from spikeflow_runtime.board import SENTINEL, wait_until
from spikeflow_runtime.errors import DriverError
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings

DEFAULT_BATCH = 64  # frames per kernel run
WORD = 0xFFFFFFFF  # the errors register is 32 bits and wraps


class AlveoAccelerator(SlottedAccelerator):
    name = "alveo"
    default_batch = DEFAULT_BATCH

    def __init__(self, model: DeployedModel, decode: DecodeSettings | None = None, folder: Folders = None,
                 board: str | None = None, max_batch: int = DEFAULT_BATCH):
        super().__init__(model, decode, folder, board, max_batch)
        cfg = self.cfg
        self.arg_names = [a["name"] for a in cfg["arguments"]]
        if sorted(self.arg_names) != ["frames", "input", "output"]:
            raise DriverError(f"{self.board_folder / 'driver.json'}: kernel arguments {self.arg_names}, expected "
                              f"frames, input, output")
        self.reg = {r["name"]: int(r["offset"]) for r in cfg["registers"]}
        self.overlay = self.pynq.Overlay(str(self.board_folder / cfg["xclbin"]))
        self.kernel = getattr(self.overlay, cfg["kernel"])
        self._init_slots(max_batch)

    def _errors(self) -> int:
        return int(self.kernel.read(self.reg["errors"]))

    def _stage_run(self, batch: SlotBatch, run: int) -> None:
        """The packed frames and a sentinel-filled output buffer to the card (while the batch before runs)."""
        t0 = time.perf_counter()
        self.in_bufs[batch.slot].sync_to_device()
        out = self.out_bufs[batch.slot]
        out[:batch.runs[run][1] * self.fmt.values_per_frame] = SENTINEL
        out.sync_to_device()
        self.times.add("transfer", time.perf_counter() - t0)

    def _start_run(self, batch: SlotBatch, run: int) -> None:
        errors0 = self._errors()
        args = {"frames": batch.runs[run][1], "input": self.in_bufs[batch.slot], "output": self.out_bufs[batch.slot]}
        batch.device = (errors0, self.kernel.start(*[args[name] for name in self.arg_names]))

    def _finish_run(self, batch: SlotBatch, run: int) -> tuple[np.ndarray, float | None]:
        count = batch.runs[run][1]
        errors0, handle = batch.device
        t0 = time.perf_counter()
        wait_until(lambda: handle.done, self.timeout_s(count), lambda: f"alveo: kernel run of {batch.describe(run)}")
        t1 = time.perf_counter()
        self.times.add("compute", t1 - t0)
        errors = (self._errors() - errors0) & WORD
        if errors:
            raise DriverError(f"alveo: the kernel counted {errors} malformed input frame(s) in {batch.describe(run)}: "
                              f"check the packing against driver.json")
        result = self.out_bufs[batch.slot]
        result.sync_from_device()
        values = result[:count * self.fmt.values_per_frame]
        if np.any(values == SENTINEL):
            written = int(np.argmax(values == SENTINEL)) // self.fmt.values_per_frame
            raise DriverError(f"alveo: short transfer: the kernel wrote {written} of the {count} frame(s) of "
                              f"{batch.describe(run)}")
        self.times.add("transfer", time.perf_counter() - t1)
        return values, None
