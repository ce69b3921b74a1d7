"""The FewdIF intermediate representation: the one hand-off that every back end reads."""

from spikeflow.ir.network import (
    FLOAT32_EXACT_BITS,
    IR_JSON,
    IR_NPZ,
    IR_VERSION,
    PIXEL_BITS,
    PIXEL_SCALE,
    FewdIFConv,
    FewdIFHead,
    FewdIFMaxPool,
    FewdIFNetwork,
    IRMeta,
    Layer,
    accumulator_range,
    conv_out,
    load_network,
    signed_bits,
)

__all__ = [
    "FLOAT32_EXACT_BITS",
    "IR_JSON",
    "IR_NPZ",
    "IR_VERSION",
    "PIXEL_BITS",
    "PIXEL_SCALE",
    "FewdIFConv",
    "FewdIFHead",
    "FewdIFMaxPool",
    "FewdIFNetwork",
    "IRMeta",
    "Layer",
    "accumulator_range",
    "conv_out",
    "load_network",
    "signed_bits",
]
