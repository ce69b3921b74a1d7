"""RTL back end: generates a streaming FewdIF accelerator (Verilog) from the IR, plus simulation helpers."""

from spikeflow.backends.rtl.generator import RtlBuild, generate_rtl, load_rtl
from spikeflow.backends.rtl.simulate import run_cocotb_network, simulate_frames
from spikeflow.backends.rtl.tools import find_verilator, use_verilator, verilator_env

__all__ = ["RtlBuild", "generate_rtl", "load_rtl", "find_verilator", "use_verilator", "verilator_env",
           "simulate_frames", "run_cocotb_network"]
