import numpy as np

from spikeflow.golden import run_counts
from spikeflow.ir.random import random_network
from spikeflow.verify.spikestats import spike_statistics


def test_statistics_cover_every_frame_across_batches() -> None:
    rng = np.random.default_rng(1)
    net = random_network(rng, channels=(4, 6))
    frames = rng.integers(0, 256, size=(20, *net.input_shape), dtype=np.uint8)
    batched: list[np.ndarray] = []
    run_counts(net, frames, batch=16, collect=batched)
    whole: list[np.ndarray] = []
    run_counts(net, frames, batch=20, collect=whole)
    assert spike_statistics(net, batched) == spike_statistics(net, whole)
    first = whole[0]
    assert spike_statistics(net, batched)[0]["mean_spikes_per_neuron"] == float(first.mean())
