"""The host driver: one Accelerator interface over the golden model, the RTL harness and the boards.

Names are imported on first use, so that `spikeflow.driver.registry` and `.settings` (which the command line reads)
import neither torch nor any back end."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Accelerator": "spikeflow.driver.accelerator", "DeviceOutput": "spikeflow.driver.accelerator",
    "FrameResult": "spikeflow.driver.accelerator", "DecodeSettings": "spikeflow.driver.settings",
    "Detection": "spikeflow.driver.detections", "SourceFrame": "spikeflow.driver.sources",
    "open_source": "spikeflow.driver.sources", "backend_names": "spikeflow.driver.registry",
    "get_backend": "spikeflow.driver.registry", "register_backend": "spikeflow.driver.registry",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'spikeflow.driver' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
