"""The host driver: one Accelerator interface over the golden model, the RTL harness and the boards."""

from spikeflow.driver.accelerator import (
    Accelerator,
    DeviceOutput,
    FrameResult,
    backend_names,
    get_backend,
    register_backend,
)
from spikeflow.driver.detections import DecodeSettings, Detection
from spikeflow.driver.sources import SourceFrame, open_source

__all__ = ["Accelerator", "DecodeSettings", "Detection", "DeviceOutput", "FrameResult", "SourceFrame",
           "backend_names", "get_backend", "open_source", "register_backend"]
