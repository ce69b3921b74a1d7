"""RTL back end: generates a streaming FewdIF accelerator (Verilog) from the IR, plus simulation helpers."""

from spikeflow.rtl.generator import LayerFolding, RtlBuild, default_folding, generate_rtl
from spikeflow.rtl.simulate import run_cocotb_network, simulate_frames
from spikeflow.rtl.tools import find_verilator, use_verilator, verilator_env

__all__ = ["LayerFolding", "RtlBuild", "default_folding", "generate_rtl", "find_verilator", "use_verilator",
           "verilator_env", "simulate_frames", "run_cocotb_network"]
