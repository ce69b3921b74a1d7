"""Count mode: each FewdIF layer as one integer convolution and a threshold count. Fast and vectorised."""

from __future__ import annotations

import numpy as np

from spikeflow.golden.ops import check_frames, conv2d_nhwc, exact_dtype, magnitude_bound, maxpool_nhwc
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFMaxPool, FewdIFNetwork


def fire_counts(v: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of per-channel thresholds that V reaches: V [N,K,H,W], thresholds [K,T] -> counts uint8."""
    counts = np.zeros(v.shape, dtype=np.uint8)
    for j in range(thresholds.shape[1]):
        counts += v >= thresholds[None, :, j, None, None]
    return counts


def fire_counts_nhwc(v: np.ndarray, thresholds: np.ndarray, bound: int) -> np.ndarray:
    """Counts (same float dtype as V) for channels-last V [N,H,W,K] and integer thresholds [K,T].

    Thresholds are clipped to [-bound-1, bound+1] first: V never leaves [-bound, bound], so the comparisons
    are unchanged, and the clipped thresholds are exact in V's dtype.
    """
    th = np.clip(thresholds.astype(np.int64), -bound - 1, bound + 1).astype(v.dtype)
    counts = np.zeros(v.shape, dtype=v.dtype)
    for j in range(th.shape[1]):
        counts += v >= th[:, j]
    return counts


def run_counts(net: FewdIFNetwork, frames: np.ndarray, batch: int = 16,
               collect: list[np.ndarray] | None = None) -> np.ndarray:
    """Head membrane V (int64 [N, K, Gh, Gw]) for uint8 frames [N, C, H, W].

    If `collect` is given, the spike counts of every firing layer are appended to it (for statistics).
    Internally channels-last, integer values held exactly in float32 (float64 where a layer needs it).
    """
    frames = check_frames(net, frames)
    outs = []
    plan = []
    for layer in net.layers:
        if isinstance(layer, FewdIFConv | FewdIFHead):
            bound = magnitude_bound(layer.weights, layer.bias, layer.in_max)
            plan.append((layer, bound, exact_dtype(bound)))
        else:
            plan.append((layer, 0, None))
    for start in range(0, len(frames), batch):
        x: np.ndarray = frames[start:start + batch].transpose(0, 2, 3, 1)
        for layer, bound, dtype in plan:
            if isinstance(layer, FewdIFConv):
                v = conv2d_nhwc(x.astype(dtype, copy=False), layer.weights, layer.bias, layer.stride,
                                layer.padding, dtype)
                x = fire_counts_nhwc(v, layer.thresholds, bound)
                if collect is not None:
                    collect.append(x.transpose(0, 3, 1, 2).astype(np.uint8))
            elif isinstance(layer, FewdIFMaxPool):
                x = maxpool_nhwc(x, layer.kernel, layer.stride)
            elif isinstance(layer, FewdIFHead):
                v = conv2d_nhwc(x.astype(dtype, copy=False), layer.weights, layer.bias, layer.stride,
                                layer.padding, dtype)
                x = np.rint(v).astype(np.int64)
        outs.append(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    return np.concatenate(outs)


def dequantize(net: FewdIFNetwork, v: np.ndarray) -> np.ndarray:
    """Float head output, as the QONNX graph computes it: V times the per-channel output scale."""
    return v.astype(np.float64) * net.head.out_scale[None, :, None, None]
