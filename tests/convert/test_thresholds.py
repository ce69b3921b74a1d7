from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spikeflow.convert.thresholds import channel_thresholds, threshold


def quantized_relu(v: int, ratio: Fraction, timesteps: int) -> int:
    x = ratio * v
    if x <= 0:
        return 0
    floor = x.numerator // x.denominator
    rest = x - floor
    rounded = floor + (1 if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1) else 0)
    return min(rounded, timesteps)


@given(st.fractions(min_value=Fraction(1, 4096), max_value=Fraction(4)), st.integers(1, 15))
def test_threshold_counts_equal_quantized_relu(ratio: Fraction, timesteps: int) -> None:
    taus = [threshold(j, ratio) for j in range(1, timesteps + 1)]
    probes = {-1, 0} | {t + d for t in taus for d in (-1, 0, 1)}
    for v in probes:
        assert sum(v >= t for t in taus) == quantized_relu(v, ratio, timesteps)


def test_half_to_even_ties() -> None:
    # ratio 1/2: V=1 -> 0.5 rounds to 0, V=3 -> 1.5 rounds to 2, V=5 -> 2.5 rounds to 2.
    taus = channel_thresholds(np.array([0.5]), 1.0, 3)[0]
    assert list(taus) == [2, 3, 6]
