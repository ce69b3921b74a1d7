"""Per-layer spike statistics of a FewdIF network: firing rate and mean spikes per neuron, as JSON and a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spikeflow.ir import FewdIFConv, FewdIFNetwork


def spike_statistics(net: FewdIFNetwork, counts: list[np.ndarray]) -> list[dict[str, Any]]:
    """Statistics from the spike counts that `run_counts(..., collect=counts)` gathered (batch by batch, each
    batch holding one array per firing layer)."""
    convs = [layer for layer in net.layers if isinstance(layer, FewdIFConv)]
    rows = []
    for i, layer in enumerate(convs):
        c = np.concatenate(counts[i::len(convs)])
        mean = float(c.mean())
        rows.append({"layer": layer.name, "neurons": int(np.prod(layer.out_shape)),
                     "mean_spikes_per_neuron": mean, "firing_rate": mean / net.timesteps,
                     "silent_fraction": float((c == 0).mean()), "saturated_fraction": float((c == net.timesteps)
                                                                                             .mean()),
                     "spikes_per_frame": float(c.reshape(len(c), -1).sum(axis=1).mean())})
    return rows


def plot_spike_statistics(rows: list[dict[str, Any]], path: str | Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = [r["layer"] for r in rows]
    ax.bar(names, [r["firing_rate"] for r in rows], color="tab:orange", label="firing rate (spikes / T)")
    ax.plot(names, [r["silent_fraction"] for r in rows], "o-", color="tab:blue", label="silent neurons")
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
