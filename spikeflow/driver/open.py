"""Opening a build's accelerator on a back end, on the host: `open_accelerator(build_dir, backend)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spikeflow_runtime.accelerator import Accelerator
from spikeflow_runtime.settings import DecodeSettings

from spikeflow.driver.model import DriverModel
from spikeflow.driver.registry import FLOW_BACKENDS, get_backend


def open_accelerator(build_dir: str | Path, backend: str = "golden", decode: DecodeSettings | None = None,
                     **options: Any) -> Accelerator:
    """The build's accelerator on `backend` (golden, rtlsim, replay, pynq, alveo). The board back ends look for
    driver.json in the build's deploy/BOARD/ and bitstream/BOARD/."""
    cls = get_backend(backend)
    model = DriverModel.of(build_dir)
    if backend in FLOW_BACKENDS:
        return cls(model.deployed, decode, driver_model=model, **options)
    return cls(model.deployed, decode, folder=[model.build.deploy, model.build.bitstream], **options)
