"""What the board back ends (pynq, alveo) share: opening the board (driver.json, pynq), two buffer slots and a queue
of submitted batches, one of them on the device at a time.

Neither device takes a second batch while one runs (the AXI DMA in simple mode takes a transfer only on an idle
channel; the Alveo kernel is ap_ctrl_hs), so double buffering is done by the host: `submit` packs batch k+1 into the
free slot (and stages it: the Alveo card's memory) while batch k runs, and `collect(k)` starts batch k+1 as soon as
batch k is checked, before returning, so the device computes k+1 while the host decodes k. A batch larger than a
slot runs as several runs, one after the other in its slot, and its values are copied out of the buffer.

Values returned by `collect` are a view of the slot's output buffer: valid until two more batches are submitted.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np

from spikeflow_runtime.accelerator import Accelerator, DeviceOutput
from spikeflow_runtime.board import find_driver_config, import_pynq
from spikeflow_runtime.errors import ConfigError, DriverError, FrameError
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings

SLOTS = 2  # buffer pairs: the batch on the device and the next one, packed

Folders = Union[str, Path, Sequence[Union[str, Path]], None]


def deploy_folders(folder: Folders) -> list[Path]:
    """`folder` (a deploy folder, or a list of folders to look in for BOARD/driver.json) as a list of paths."""
    if folder is None:
        return [Path(".")]
    if isinstance(folder, (str, Path)):
        return [Path(folder)]
    return [Path(f) for f in folder]


@dataclass
class SlotBatch:
    """A submitted batch: its frames, its buffer slot and its runs on the device (first frame, count)."""

    index: int
    frames: np.ndarray  # [N,H,W,C], kept for the runs after the first
    slot: int
    runs: list[tuple[int, int]]
    started: int = 0  # runs started on the device
    staged: int = 0  # runs packed into the slot
    device: Any = None  # what the back end keeps of the current run (counters at its start, a kernel handle)
    parts: list[np.ndarray] = field(default_factory=list)  # values of finished runs (split batches)

    def describe(self, run: int) -> str:
        first, count = self.runs[run]
        part = f", run {run + 1} of {len(self.runs)}" if len(self.runs) > 1 else ""
        return f"batch {self.index} (frames {first}..{first + count - 1} of {len(self.frames)}{part})"


class SlottedAccelerator(Accelerator):
    """A board back end with two buffer slots. Subclasses check the board, call `_init_slots`, then implement
    `_stage_run` (after packing), `_start_run` and `_finish_run`."""

    max_in_flight = 2  # batches submitted and not collected: one on the device, the next packed
    bus_padded = True
    run_frames = 1  # frames per device run (the buffers' size)

    def __init__(self, model: DeployedModel, decode: DecodeSettings | None, folder: Folders, board: str | None,
                 max_batch: int):
        """driver.json of this back end (the build's clock replaces the model's) and the pynq module."""
        if max_batch < 1:
            raise ConfigError(f"max_batch must be >= 1, got {max_batch}")
        cfg, where = find_driver_config(deploy_folders(folder), self.name, model.stream, board)
        super().__init__(replace(model, clock_mhz=float(cfg["clock_mhz"])), decode)
        self.pynq = import_pynq()
        self.cfg = cfg
        self.board_folder = where
        self.max_batch = max_batch

    def _init_slots(self, run_frames: int) -> None:
        """Buffers for `run_frames` frames in each slot: padded input words, output values."""
        fmt = self.fmt
        self.run_frames = run_frames
        self.in_bufs = [self.pynq.allocate(shape=(run_frames * fmt.bus_frame_bytes,), dtype=np.uint8)
                        for _ in range(SLOTS)]
        self.out_bufs = [self.pynq.allocate(shape=(run_frames * fmt.values_per_frame,),
                                            dtype=np.dtype(fmt.value_dtype)) for _ in range(SLOTS)]
        self._queue: deque[SlotBatch] = deque()  # submitted, not collected; only the first may be on the device
        self._submitted = 0

    @abstractmethod
    def _stage_run(self, batch: SlotBatch, run: int) -> None:
        """The run's frames are packed into in_bufs[batch.slot]: get them (and the output buffer) ready."""

    @abstractmethod
    def _start_run(self, batch: SlotBatch, run: int) -> None:
        """Start the run on the device (nothing else runs there)."""

    @abstractmethod
    def _finish_run(self, batch: SlotBatch, run: int) -> tuple[np.ndarray, float | None]:
        """Wait for the run and check it: (its values, a view of out_bufs[batch.slot]; device seconds if known)."""

    def _submit(self, frames: np.ndarray) -> SlotBatch:
        if len(self._queue) >= self.max_in_flight:
            raise DriverError(f"{self.name}: batch {self._submitted} submitted while {len(self._queue)} are not "
                              f"collected (at most {self.max_in_flight}): collect one first")
        n = len(frames)
        if not n:
            raise FrameError(f"{self.name}: an empty batch")
        # the batch before it is in the other slot; the last one in this slot has been collected
        batch = SlotBatch(self._submitted, frames, self._submitted % SLOTS,
                          [(i, min(self.run_frames, n - i)) for i in range(0, n, self.run_frames)])
        self._submitted += 1
        self._pack_run(batch)
        self._queue.append(batch)
        if len(self._queue) == 1:
            self._start(batch)
        return batch

    def _pack_run(self, batch: SlotBatch) -> None:
        first, count = batch.runs[batch.staged]
        self.pack(batch.frames[first:first + count], out=self.in_bufs[batch.slot])
        self._stage_run(batch, batch.staged)
        batch.staged += 1

    def _start(self, batch: SlotBatch) -> None:
        if batch.staged <= batch.started:
            self._pack_run(batch)
        self._start_run(batch, batch.started)
        batch.started += 1

    def _collect(self, batch: SlotBatch) -> DeviceOutput:
        if not self._queue or self._queue[0] is not batch:
            raise DriverError(f"{self.name}: batch {batch.index} collected before the batches submitted ahead of it")
        seconds: float | None = None
        try:
            for run in range(len(batch.runs)):
                if batch.started <= run:
                    self._start(batch)
                values, busy = self._finish_run(batch, run)
                if busy is not None:
                    seconds = (seconds or 0.0) + busy
                if len(batch.runs) > 1:
                    batch.parts.append(values.copy())  # the next run reuses the buffer
        finally:
            self._queue.popleft()
        if self._queue:
            self._start(self._queue[0])  # the next batch computes while the caller decodes this one
        payload = np.concatenate(batch.parts) if batch.parts else values
        return DeviceOutput(payload, device_seconds=seconds)

    def close(self) -> None:
        for buf in (*getattr(self, "in_bufs", ()), *getattr(self, "out_bufs", ())):
            buf.freebuffer()
        self.in_bufs, self.out_bufs = [], []
