"""The golden back end: the numpy FewdIF model as the device. It reads the packed input stream and writes the
output stream exactly as the hardware does (StreamFormat), so the whole host data path is exercised."""

from __future__ import annotations

import time

import numpy as np

from spikeflow.driver.accelerator import Accelerator, DeviceOutput
from spikeflow.golden import run_counts


class GoldenAccelerator(Accelerator):
    name = "golden"
    default_batch = 16

    def _execute(self, frames: np.ndarray, payload: bytes) -> DeviceOutput:
        t0 = time.perf_counter()
        seen = self.fmt.unpack_frames(payload)  # the device's view of the input stream
        t1 = time.perf_counter()
        v = run_counts(self.model.net, seen)
        t2 = time.perf_counter()
        out = self.fmt.pack_values(v).astype(self.fmt.value_dtype).tobytes()
        self.times.add("transfer", (t1 - t0) + (time.perf_counter() - t2))
        self.times.add("compute", t2 - t1)
        return DeviceOutput(out)
