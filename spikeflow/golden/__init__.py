"""Integer-only numpy model of a FewdIF network: count mode (vectorised) and spike mode (timestep by timestep)."""

from spikeflow.golden.count import run_counts
from spikeflow.golden.spike import run_spikes

__all__ = ["run_counts", "run_spikes"]
