"""The host driver: the runtime's Accelerator (spikeflow_runtime) opened on a build folder, with the flow's
simulated devices (golden, rtlsim) and a replay device that records the golden model's outputs.

Names are imported on first use, so that `spikeflow.driver.registry` (which the command line reads) imports
neither torch nor any back end."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Accelerator": "spikeflow_runtime.accelerator", "DeviceOutput": "spikeflow_runtime.accelerator",
    "FrameResult": "spikeflow_runtime.accelerator", "DecodeSettings": "spikeflow_runtime.settings",
    "Detection": "spikeflow_runtime.detections", "SourceFrame": "spikeflow_runtime.sources",
    "open_source": "spikeflow_runtime.sources", "ArraySource": "spikeflow_runtime.sources",
    "backend_names": "spikeflow.driver.registry", "get_backend": "spikeflow.driver.registry",
    "register_backend": "spikeflow.driver.registry", "open_accelerator": "spikeflow.driver.open",
    "DriverModel": "spikeflow.driver.model",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'spikeflow.driver' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
