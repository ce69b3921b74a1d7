"""Per-layer charts of a build: cycles, LUTs and BRAM side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_layer_resources(rows: list[dict[str, Any]], path: str | Path, title: str) -> Path:
    """Three bar panels per layer: estimated cycles per frame, LUTs and BRAM36 (from the resource estimate)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["layer"] for r in rows]
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    for ax, key, colour, label in ((axes[0], "cycles", "tab:green", "cycles / frame"),
                                   (axes[1], "LUT", "tab:blue", "LUT"), (axes[2], "BRAM36", "tab:orange", "BRAM36")):
        ax.bar(names, [r.get(key) or 0 for r in rows], color=colour)
        ax.set_ylabel(label)
    axes[0].set_title(title)
    axes[-1].tick_params(axis="x", rotation=30)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
