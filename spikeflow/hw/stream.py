"""The stream contract of the accelerator's ports: defined once in the runtime (spikeflow_runtime.stream, which
runs on the board), built here from an IR. See that module for the formats."""

from __future__ import annotations

from spikeflow_runtime.stream import (
    MAX_BUS_WIDTH,
    MIN_BUS_WIDTH,
    OUT_WIDTH,
    STATUS_WIDTH,
    StreamFormat,
    bus_width,
    pack_fields,
    unpack_fields,
    values_from_payload,
)

from spikeflow.errors import ConfigError
from spikeflow.ir import PIXEL_BITS, FewdIFNetwork

__all__ = ["MAX_BUS_WIDTH", "MIN_BUS_WIDTH", "OUT_WIDTH", "STATUS_WIDTH", "StreamFormat", "bus_width", "pack_fields",
           "stream_format", "unpack_fields", "values_from_payload"]


def stream_format(net: FewdIFNetwork, pixels_per_beat: int = 1) -> StreamFormat:
    """The stream format of `net` with `pixels_per_beat` pixels per input beat."""
    c, h, w = net.input_shape
    k, gh, gw = net.output_shape
    if pixels_per_beat < 1 or (h * w) % pixels_per_beat:
        raise ConfigError(f"pixels_per_beat={pixels_per_beat} must divide the {h * w} pixels of a frame")
    if net.head.acc_bits > OUT_WIDTH:
        raise ConfigError(f"head {net.head.name}: acc_bits {net.head.acc_bits} exceeds the {OUT_WIDTH}-bit output "
                          f"stream")
    return StreamFormat(c, h, w, pixels_per_beat, k, gh, gw, net.head.acc_bits, pixel_bits=PIXEL_BITS)
