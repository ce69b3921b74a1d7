"""Bitstream targets by board kind, looked up by name ("zynq", "alveo"), not chosen with if chains."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

from spikeflow.errors import ConfigError

if TYPE_CHECKING:
    from spikeflow.backends.bitstream.plan import BitstreamPlan
    from spikeflow.flow.builddir import BuildDir
    from spikeflow.flow.config import BuildConfig


class BitstreamTarget(Protocol):
    """Writes a build's scripts, file list and constraints (prepare), and reads back what the tools made
    (collect: reports)."""

    kind: str

    def prepare(self, build: BuildDir, cfg: BuildConfig) -> BitstreamPlan: ...

    def collect(self, plan: BitstreamPlan, build: BuildDir, cfg: BuildConfig) -> dict[str, Any]:
        """Reports of the run into report/; returns the timing values (empty when there were none)."""
        ...


_TARGETS: dict[str, str] = {
    "zynq": "spikeflow.backends.bitstream.zynq:ZynqTarget",
    "alveo": "spikeflow.backends.bitstream.alveo:AlveoTarget",
    "ecp5": "spikeflow.backends.pnr.target:Ecp5Target",  # says that the pnr step makes ECP5 bitstreams
}


def register_target(kind: str, target: str) -> None:
    """Register a target class, as "module:Class", for boards of `kind`."""
    _TARGETS[kind] = target


def get_target(kind: str) -> BitstreamTarget:
    if kind not in _TARGETS:
        raise ConfigError(f"no bitstream target for boards of kind {kind!r} (known: {', '.join(_TARGETS)})")
    module, cls = _TARGETS[kind].split(":")
    return getattr(importlib.import_module(module), cls)()
