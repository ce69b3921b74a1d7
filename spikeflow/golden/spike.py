"""Spike mode: binary spike trains timestep by timestep, IF neurons with reset by subtraction.

Spikes are in thermometer order: a neuron that fires y times fires in the first y output timesteps.
"""

from __future__ import annotations

import numpy as np

from spikeflow.golden.ops import check_frames, conv2d_int, magnitude_bound, maxpool_int
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork


def integrate(trains: np.ndarray, layer: FewdIFConv | FewdIFHead) -> np.ndarray:
    """V = bias + sum over input timesteps of W * s_t. trains: [T_in, N, C, H, W] (pixels: T_in = 1)."""
    bound = magnitude_bound(layer.weights, layer.bias, layer.in_max)
    zero = np.zeros_like(layer.bias)
    v = None
    for s_t in trains:
        step = conv2d_int(s_t, layer.weights, zero, layer.stride, layer.padding, bound)
        v = step if v is None else v + step
    return v + layer.bias.astype(np.int64)[None, :, None, None]


def fire_trains(v: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """IF neuron with reset by subtraction over T output timesteps; returns uint8 trains [T, N, K, H, W].

    The potential starts at V - tau_1; it fires when the potential is >= 0, and each spike j subtracts the
    gap tau_{j+1} - tau_j. So the neuron fires exactly once for each threshold that V reaches.
    """
    t_out = thresholds.shape[1]
    tau = thresholds.astype(np.int64)[None, :, :, None, None]  # 1,K,T,1,1
    u = v - tau[:, :, 0]
    trains = np.zeros((t_out,) + v.shape, dtype=np.uint8)
    for j in range(t_out):
        spike = u >= 0
        trains[j] = spike
        if j + 1 < t_out:
            u = u - np.where(spike, tau[:, :, j + 1] - tau[:, :, j], 0)
    return trains


def run_spikes(net: FewdIFNetwork, frames: np.ndarray, batch: int = 8) -> np.ndarray:
    """Head membrane V (int64 [N, K, Gh, Gw]), computed timestep by timestep with binary spikes."""
    frames = check_frames(net, frames)
    outs = []
    for start in range(0, len(frames), batch):
        trains: np.ndarray = frames[None, start:start + batch]  # direct encoding: one input timestep
        for layer in net.layers:
            if isinstance(layer, FewdIFConv):
                trains = fire_trains(integrate(trains, layer), layer.thresholds)
            elif isinstance(layer, FewdIFMaxPool):
                trains = np.stack([maxpool_int(s_t, layer.kernel, layer.stride) for s_t in trains])
            elif isinstance(layer, FewdIFHead):
                trains = integrate(trains, layer)
        outs.append(trains)
    return np.concatenate(outs)
