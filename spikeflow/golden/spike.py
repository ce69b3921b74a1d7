"""Spike mode: binary spike trains timestep by timestep, IF neurons with reset by subtraction.

Spikes are in thermometer order: a neuron that fires y times fires in the first y output timesteps.
"""

from __future__ import annotations

import numpy as np

from spikeflow.golden.graph import walk
from spikeflow.golden.ops import check_frames, conv2d_int, magnitude_bound, maxpool_int
from spikeflow.ir import (
    FewdIFConcat,
    FewdIFConv,
    FewdIFHead,
    FewdIFMaxPool,
    FewdIFNetwork,
    Layer,
)


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


def run_spikes_heads(net: FewdIFNetwork, frames: np.ndarray, batch: int = 8) -> list[np.ndarray]:
    """Every head's membrane V (int64 [N, K, Gh, Gw], in the IR's head order), computed timestep by timestep
    with binary spike trains: a shortcut's spikes enter the membrane at each input timestep, weighted
    2^residual_shift; concat and upsample act on each timestep's spikes."""
    frames = check_frames(net, frames)

    def step(layer: Layer, xs: list[np.ndarray]) -> np.ndarray:  # trains [T_in, N, C, H, W]
        if isinstance(layer, FewdIFHead):
            return integrate(xs[0], layer)
        if isinstance(layer, FewdIFConv):
            v = integrate(xs[0], layer)
            if layer.has_residual:
                scale = np.left_shift(1, np.asarray(layer.residual_shift, dtype=np.int64))[None, :, None, None]
                for s_t in xs[1]:
                    v = v + s_t.astype(np.int64) * scale
            return fire_trains(v, layer.thresholds)
        if isinstance(layer, FewdIFMaxPool):
            return np.stack([maxpool_int(s_t, layer.kernel, layer.stride) for s_t in xs[0]])
        if isinstance(layer, FewdIFConcat):
            return np.concatenate(xs, axis=2)
        return xs[0].repeat(layer.factor, axis=3).repeat(layer.factor, axis=4)  # upsample

    # direct encoding: the frame is one input timestep
    outs = [walk(net, frames[None, start:start + batch], step) for start in range(0, len(frames), batch)]
    return [np.concatenate([o[h.name] for o in outs]) for h in net.heads]


def run_spikes(net: FewdIFNetwork, frames: np.ndarray, batch: int = 8) -> np.ndarray:
    """Head membrane V (int64 [N, K, Gh, Gw]) of a single-head network, computed timestep by timestep with binary
    spikes. Networks with several heads: run_spikes_heads."""
    net.head  # noqa: B018 - raises IRError naming the heads when there are several
    return run_spikes_heads(net, frames, batch)[0]
