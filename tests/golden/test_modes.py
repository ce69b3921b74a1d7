import numpy as np
import pytest

from spikeflow.errors import FrameError
from spikeflow.golden import run_counts, run_spikes
from spikeflow.golden.count import fire_counts
from spikeflow.golden.spike import fire_trains
from spikeflow.ir.random import random_network


@pytest.mark.parametrize("act_bits", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spike_mode_equals_count_mode(act_bits: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    net = random_network(rng, act_bits=act_bits, channels=(4, 6, 8), pool_after=(True, False, True))
    frames = rng.integers(0, 256, size=(5, *net.input_shape), dtype=np.uint8)
    assert np.array_equal(run_counts(net, frames), run_spikes(net, frames))


def test_fire_trains_are_thermometer_and_count_thresholds() -> None:
    thresholds = np.array([[5, 5, 9], [-3, 0, 0]])
    v = np.arange(-6, 14).reshape(1, 1, 20, 1).repeat(2, axis=1)
    trains = fire_trains(v, thresholds)
    counts = fire_counts(v, thresholds)
    assert np.array_equal(trains.sum(axis=0), counts)
    assert np.all(np.diff(trains.astype(int), axis=0) <= 0)  # first y timesteps


def test_bad_frame_shape_is_named() -> None:
    net = random_network(np.random.default_rng(0))
    with pytest.raises(FrameError, match=r"\[N, 3, 16, 16\]"):
        run_counts(net, np.zeros((2, 3, 8, 8), np.uint8))
    with pytest.raises(FrameError, match="8-bit"):
        run_counts(net, np.full((1, 3, 16, 16), 300))
