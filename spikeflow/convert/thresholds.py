"""Exact FewdIF thresholds from quantizer scales, with rational arithmetic.

A quantized ReLU computes y = clip(round(relu(S * V) / s_a), 0, T) with round half to even, where V is the
integer membrane and S = s_in * s_w the scale of the accumulator. y >= j exactly when V >= tau_j.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


def threshold(j: int, ratio: Fraction) -> int:
    """Smallest integer V with round_half_even(ratio * V) >= j, for j >= 1 and ratio = S / s_a > 0."""
    boundary = (Fraction(2 * j - 1, 2)) / ratio  # ratio * V = j - 1/2
    if boundary.denominator == 1:
        # Exactly on the tie: half to even rounds up to j only when j is even.
        return int(boundary) if j % 2 == 0 else int(boundary) + 1
    return math.ceil(boundary)


def channel_thresholds(acc_scale: np.ndarray, act_scale: float, timesteps: int) -> np.ndarray:
    """Thresholds int64 [K, T] for accumulator scales S_k [K] and activation scale s_a (both exact floats)."""
    s_a = Fraction(float(act_scale))
    out = np.empty((len(acc_scale), timesteps), dtype=np.int64)
    for k, s in enumerate(acc_scale):
        ratio = Fraction(float(s)) / s_a
        for j in range(1, timesteps + 1):
            out[k, j - 1] = threshold(j, ratio)
    return out
