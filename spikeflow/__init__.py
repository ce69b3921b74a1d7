"""spikeflow: an FPGA deployment flow for spiking (FewdIF) object detectors."""

__version__ = "0.1.0"
