"""HLS back end: generates Vitis HLS C++ (a top over the header library in `hls/`) from the IR, C-simulates it
with g++, and runs Vitis HLS when it is installed."""

from spikeflow.backends.hls.generator import HlsBuild, HlsTarget, generate_hls

__all__ = ["HlsBuild", "HlsTarget", "generate_hls"]
