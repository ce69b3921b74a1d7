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
    """The stream format of `net` with `pixels_per_beat` pixels per input beat. Several heads share the one output
    stream, head after head in IR order (see spikeflow_runtime.stream); their values are as wide as the widest
    head's accumulator."""
    c, h, w = net.input_shape
    heads = net.heads
    if pixels_per_beat < 1 or (h * w) % pixels_per_beat:
        raise ConfigError(f"pixels_per_beat={pixels_per_beat} must divide the {h * w} pixels of a frame")
    for head in heads:
        if head.acc_bits > OUT_WIDTH:
            raise ConfigError(f"head {head.name}: acc_bits {head.acc_bits} exceeds the {OUT_WIDTH}-bit output "
                              f"stream")
    if len(heads) == 1:
        net.head  # noqa: B018  (a single head must be the last layer)
    shapes = tuple(tuple(head.out_shape) for head in heads)
    return StreamFormat(c, h, w, pixels_per_beat, *shapes[0], max(head.acc_bits for head in heads),
                        pixel_bits=PIXEL_BITS, heads=shapes if len(shapes) > 1 else ())
