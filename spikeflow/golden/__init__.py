"""Integer-only numpy model of a FewdIF network: count mode (vectorised) and spike mode (timestep by timestep)."""

from spikeflow.golden.count import run_counts, run_counts_heads
from spikeflow.golden.spike import run_spikes, run_spikes_heads

__all__ = ["run_counts", "run_counts_heads", "run_spikes", "run_spikes_heads"]
