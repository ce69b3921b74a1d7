"""Driver back ends by name: the runtime's (pynq, alveo, replay) and the flow's simulated devices (golden, rtlsim),
registered here. Importing this imports no back end, no torch and no pynq."""

from __future__ import annotations

from spikeflow_runtime.registry import backend_names, get_backend, register_backend

__all__ = ["FLOW_BACKENDS", "backend_names", "get_backend", "register_backend"]

# back ends that run the build's IR (or RTL) on this machine, and the flow's replay that records with the golden
FLOW_BACKENDS = {
    "golden": "spikeflow.driver.backends.golden:GoldenAccelerator",
    "rtlsim": "spikeflow.driver.backends.rtlsim:RtlsimAccelerator",
    "replay": "spikeflow.driver.backends.replay:GoldenReplayAccelerator",
}
for _name, _target in FLOW_BACKENDS.items():
    register_backend(_name, _target)
