"""Throughput of a generated accelerator: measured cycles per frame from RTL simulation, and the estimate."""

from __future__ import annotations

from dataclasses import dataclass

from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork

# The part each board name targets, with the clock the flow assumes for it (MHz).
PARTS: dict[str, tuple[str, float]] = {
    "zcu104": ("xczu7ev-ffvc1156-2-e", 200.0),
    "pynq-z2": ("xc7z020clg400-1", 100.0),
    "u250": ("xcu250-figd2104-2L-e", 250.0),
}
DEFAULT_BOARD = "zcu104"


@dataclass
class LayerCycles:
    layer: str
    positions: int  # window positions the stage steps through per frame (padded input raster)
    cycles_per_position: int
    cycles: int


def estimate_cycles(net: FewdIFNetwork, cycles_per_window: dict[str, int]) -> list[LayerCycles]:
    """Per-stage cycles per frame: a stage walks its padded input raster one position per cycle and spends
    `cycles_per_window` cycles on each output window. The slowest stage sets the frame interval."""
    rows = []
    for layer in net.layers:
        _, h, w = layer.in_shape
        if isinstance(layer, FewdIFConv | FewdIFHead):
            p = layer.padding
            raster = (h + 2 * p) * (w + 2 * p)
            _, oh, ow = layer.out_shape
            cpw = int(cycles_per_window.get(layer.name, 1))
            cycles = raster + oh * ow * (cpw - 1)
            rows.append(LayerCycles(layer.name, raster, cpw, cycles))
        elif isinstance(layer, FewdIFMaxPool):
            rows.append(LayerCycles(layer.name, h * w, 1, h * w))
    return rows


def plot_layer_cycles(rows: list[LayerCycles], measured: float | None, path, title: str):
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
