"""Count mode: each FewdIF layer as one integer convolution and a threshold count. Fast and vectorised."""

from __future__ import annotations

import numpy as np

from spikeflow.golden.ops import check_frames, conv2d_int, magnitude_bound, maxpool_int
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork


def fire_counts(v: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of per-channel thresholds that V reaches: V [N,K,H,W], thresholds [K,T] -> counts uint8."""
    counts = np.zeros(v.shape, dtype=np.uint8)
    for j in range(thresholds.shape[1]):
        counts += v >= thresholds[None, :, j, None, None]
    return counts


def run_counts(net: FewdIFNetwork, frames: np.ndarray, batch: int = 16,
               collect: list[np.ndarray] | None = None) -> np.ndarray:
    """Head membrane V (int64 [N, K, Gh, Gw]) for uint8 frames [N, C, H, W].

    If `collect` is given, the spike counts of every firing layer are appended to it (for statistics).
    """
    frames = check_frames(net, frames)
    outs = []
    for start in range(0, len(frames), batch):
        x: np.ndarray = frames[start:start + batch]
        for layer in net.layers:
            if isinstance(layer, FewdIFConv):
                bound = magnitude_bound(layer.weights, layer.bias, layer.in_max)
                v = conv2d_int(x, layer.weights, layer.bias, layer.stride, layer.padding, bound)
                x = fire_counts(v, layer.thresholds)
                if collect is not None:
                    collect.append(x)
            elif isinstance(layer, FewdIFMaxPool):
                x = maxpool_int(x, layer.kernel, layer.stride)
            elif isinstance(layer, FewdIFHead):
                bound = magnitude_bound(layer.weights, layer.bias, layer.in_max)
                x = conv2d_int(x, layer.weights, layer.bias, layer.stride, layer.padding, bound)
        outs.append(x)
    return np.concatenate(outs)


def dequantize(net: FewdIFNetwork, v: np.ndarray) -> np.ndarray:
    """Float head output, as the QONNX graph computes it: V times the per-channel output scale."""
    return v.astype(np.float64) * net.head.out_scale[None, :, None, None]
