"""The golden back end: the numpy FewdIF model as the device. It reads the packed input stream and writes the
output stream exactly as the hardware does (StreamFormat: several heads one after the other per frame), so the
whole host data path is exercised."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from spikeflow_runtime.accelerator import Accelerator, DeviceOutput
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings

from spikeflow.driver.model import DriverModel
from spikeflow.golden import run_counts, run_counts_heads


class GoldenAccelerator(Accelerator):
    name = "golden"
    default_batch = 16

    def __init__(self, model: DeployedModel, decode: DecodeSettings | None = None, *,
                 driver_model: DriverModel, **_: Any):
        super().__init__(model, decode)
        self.net = driver_model.net

    def _execute(self, frames: np.ndarray, payload: np.ndarray) -> DeviceOutput:
        t0 = time.perf_counter()
        seen = self.fmt.unpack_frames(payload)  # the device's view of the input stream
        t1 = time.perf_counter()
        v = run_counts_heads(self.net, seen) if self.fmt.heads else run_counts(self.net, seen)
        t2 = time.perf_counter()
        out = self.fmt.pack_values(v).astype(self.fmt.value_dtype)
        self.times.add("transfer", (t1 - t0) + (time.perf_counter() - t2))
        self.times.add("compute", t2 - t1)
        return DeviceOutput(out)
