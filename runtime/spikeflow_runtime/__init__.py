"""spikeflow_runtime: everything that runs next to a spikeflow accelerator, on numpy alone.

The stream format, the head's decode and NMS, the letterbox, frame sources, result writers, the pipelined
streaming loop and the device back ends (pynq, alveo, replay). It installs on a board's own Python (>= 3.8, numpy
>= 1.21) by itself; the spikeflow flow depends on it and imports from it, never the other way round.
"""

__version__ = "0.1.0"
