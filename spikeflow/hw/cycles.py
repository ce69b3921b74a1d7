"""The analytical cycle model of the streaming accelerator: cycles per frame of every pipeline stage.

Every stage is its own pipeline stage and frames stream back to back, so the slowest stage sets the frame
interval (cycles per frame in the steady state).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeflow.hw.folding import Folding, conv_cycles, cycles_per_window
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork


@dataclass
class LayerCycles:
    layer: str
    positions: int  # positions the stage steps through per frame (padded input raster, beats, values)
    cycles_per_position: int
    cycles: int


def estimate_cycles(net: FewdIFNetwork, folding: Folding) -> list[LayerCycles]:
    """Per-stage cycles per frame.

    - input: one beat of `pixels_per_beat` pixels per cycle;
    - conv/head: the stage walks its padded input raster one position per cycle and spends
      `cycles_per_window` cycles on each output window, which a strided layer's walk overlaps
      (spikeflow.hw.folding.conv_cycles);
    - max-pool: one input position per cycle;
    - concat: one position per cycle; upsampler: one output position per cycle;
    - output: one head value per beat; several heads share the one output stream (spikeflow_runtime.stream), so
      its row counts every head's values. While the RTL's head merge (rtl/spikeflow_head_merge.v) drains the
      other heads' values, head 0's stage runs on into its output buffers (the neuron unit's output FIFO, the
      output adapter); measured, a slow head 0 still sets the interval at its own cycles
      (tests/backends/rtl/test_rtl_heads.py).
    A fork adds no stage: its branches run in parallel, each at its own stages' pace.
    """
    c, h, w = net.input_shape
    ppb = folding.pixels_per_beat
    rows = [LayerCycles("input", h * w // ppb, 1, h * w // ppb)]
    for layer in net.layers:
        _, lh, lw = layer.in_shape
        if isinstance(layer, FewdIFConv | FewdIFHead):
            p = layer.padding
            raster = (lh + 2 * p) * (lw + 2 * p)
            f = folding[layer.name]
            rows.append(LayerCycles(layer.name, raster, cycles_per_window(layer, f), conv_cycles(layer, f)))
        elif isinstance(layer, FewdIFMaxPool):
            rows.append(LayerCycles(layer.name, lh * lw, 1, lh * lw))
        else:  # concat, upsample: one output position per cycle
            _, oh, ow = layer.out_shape
            rows.append(LayerCycles(layer.name, oh * ow, 1, oh * ow))
    heads = net.heads
    values = [int(np.prod(head.out_shape)) for head in heads]
    rows.append(LayerCycles("output", sum(values), 1, sum(values)))  # one value per beat, all heads on one stream
    return rows


def cycles_per_frame(rows: list[LayerCycles]) -> int:
    """The estimated frame interval: the slowest stage's cycles per frame."""
    return max(r.cycles for r in rows)


def pixels_per_beat_note(net: FewdIFNetwork, folding: Folding) -> str | None:
    """Why more than one pixel per beat does not shorten the frame, or None at one pixel per beat: the first layer's
    window generator (or max-pool) walks its padded input raster one position per cycle, at least the frame's
    H*W pixels, so only the input stage gets shorter."""
    ppb = folding.pixels_per_beat
    if ppb <= 1:
        return None
    rows = estimate_cycles(net, folding)
    first = rows[1]
    return (f"pixels_per_beat={ppb} shortens only the input stage ({rows[0].cycles:,} cycles per frame): "
            f"{first.layer} walks its padded input raster one position per cycle ({first.positions:,} positions), "
            f"so no frame takes fewer than {first.positions:,} cycles at any pixels per beat")


def plot_layer_cycles(rows: list[LayerCycles], measured: float | None, path: str | Path, title: str) -> Path:
    """Bar chart of estimated cycles per frame for each stage, with the measured frame interval as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar([r.layer for r in rows], [r.cycles for r in rows], color="tab:green", label="estimated cycles / frame")
    if measured:
        ax.axhline(measured, color="tab:red", linestyle="--", label=f"measured interval {measured:,.0f}")
    ax.set_ylabel("cycles per frame")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


CYCLE_SLACK = 4  # simulation limits allow this many times the estimated cycles per frame ...
CYCLE_MARGIN = 100_000  # ... plus this many cycles (pipeline fill, back-pressure and idle cycles)


@dataclass(frozen=True)
class CycleLimits:
    """How long a simulation may run before it is declared stuck, derived from the estimated cycles per frame
    (so a legal slow folding always simulates to the end)."""

    per_frame: int
    run: int


def limits_from_estimate(estimated_cycles_per_frame: int, frames: int) -> CycleLimits:
    per_frame = CYCLE_SLACK * estimated_cycles_per_frame + CYCLE_MARGIN
    return CycleLimits(per_frame=per_frame, run=(frames + 2) * per_frame)


def cycle_limits(net: FewdIFNetwork, folding: Folding, frames: int) -> CycleLimits:
    return limits_from_estimate(cycles_per_frame(estimate_cycles(net, folding)), frames)
