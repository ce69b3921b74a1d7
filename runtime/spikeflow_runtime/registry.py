"""Driver back ends by name, as "module:Class" (importing this imports no back end and no pynq). The flow adds its
simulated devices (golden, rtlsim) with `register_backend`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from spikeflow_runtime.errors import ConfigError

if TYPE_CHECKING:
    from spikeflow_runtime.accelerator import Accelerator

_BACKENDS: dict[str, str] = {
    "pynq": "spikeflow_runtime.backends.pynq_dma:PynqAccelerator",
    "alveo": "spikeflow_runtime.backends.alveo:AlveoAccelerator",
    "replay": "spikeflow_runtime.backends.replay:ReplayAccelerator",
}


def register_backend(name: str, target: str) -> None:
    """Register an Accelerator class, as "module:Class", under `name`."""
    _BACKENDS[name] = target


def backend_names() -> tuple[str, ...]:
    return tuple(_BACKENDS)


def get_backend(name: str) -> type[Accelerator]:
    if name not in _BACKENDS:
        raise ConfigError(f"unknown driver back end {name!r} (back ends: {', '.join(_BACKENDS)})")
    module, cls = _BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)
