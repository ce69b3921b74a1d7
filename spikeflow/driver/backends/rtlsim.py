"""The rtlsim back end: the build's RTL in the fast Verilator harness as a simulated device. Its cycle count gives
the frame rate the board would reach at the build's clock; a run longer than the cycle limit derived from the
estimated cycles, or than the wall-clock timeout, raises DeviceTimeoutError."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from spikeflow_runtime.accelerator import Accelerator, DeviceOutput
from spikeflow_runtime.model import DeployedModel
from spikeflow_runtime.settings import DecodeSettings

from spikeflow.backends.rtl.generator import load_rtl
from spikeflow.backends.rtl.rtlsim import RtlSim
from spikeflow.backends.rtl.tools import find_verilator
from spikeflow.driver.model import DriverModel
from spikeflow.hw.cycles import limits_from_estimate

MIN_SIM_CYCLES_PER_SECOND = 20_000  # the slowest harness speed the wall-clock timeout allows for
SIM_START_SECONDS = 30.0  # process start and file I/O


class RtlsimAccelerator(Accelerator):
    name = "rtlsim"
    default_batch = 16  # frames per harness run: amortises the process start, and gives the steady state

    def __init__(self, model: DeployedModel, decode: DecodeSettings | None = None, *, driver_model: DriverModel,
                 max_cycles: int | None = None, **_: Any):
        super().__init__(model, decode)
        find_verilator()
        self.sim = RtlSim(load_rtl(driver_model.build.rtl, driver_model.net))
        self.sim.compile()
        self.max_cycles = max_cycles  # override of the cycle limit (tests of the timeout)

    def _execute(self, frames: np.ndarray, payload: np.ndarray) -> DeviceOutput:
        n = len(frames)
        limit = self.max_cycles or limits_from_estimate(self.model.estimated_cycles_per_frame, n).run
        t0 = time.perf_counter()
        v, done = self.sim.run_heads(frames, max_cycles=limit,
                                     timeout_s=SIM_START_SECONDS + limit / MIN_SIM_CYCLES_PER_SECOND)
        total = time.perf_counter() - t0
        self.times.add("compute", self.sim.last_seconds)
        self.times.add("transfer", max(total - self.sim.last_seconds, 0.0))
        out = self.fmt.pack_values(v).astype(self.fmt.value_dtype)
        return DeviceOutput(out, done_cycles=[int(d) for d in done])
