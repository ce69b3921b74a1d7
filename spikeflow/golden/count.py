"""Count mode: each FewdIF layer as one integer convolution and a threshold count, over the IR's DAG. Fast and
vectorised."""

from __future__ import annotations

import numpy as np

from spikeflow.golden.graph import walk
from spikeflow.golden.ops import check_frames, conv2d_nhwc, exact_dtype, magnitude_bound, maxpool_nhwc
from spikeflow.ir import (
    FewdIFConcat,
    FewdIFConv,
    FewdIFHead,
    FewdIFMaxPool,
    FewdIFNetwork,
    Layer,
)


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


def _conv_plan(layer: FewdIFConv | FewdIFHead) -> tuple[int, type[np.floating]]:
    """The layer's magnitude bound (the shortcut's largest contribution included) and the exact dtype for it."""
    bound = magnitude_bound(layer.weights, layer.bias, layer.in_max)
    if isinstance(layer, FewdIFConv) and layer.has_residual:
        bound += int(layer.residual_max().max())
    return bound, exact_dtype(bound)


def run_counts_heads(net: FewdIFNetwork, frames: np.ndarray, batch: int = 16,
                     collect: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """Every head's membrane V (int64 [N, K, Gh, Gw], in the IR's head order) for uint8 frames [N, C, H, W].

    Evaluates the layers in IR (topological) order, each on the tensors it names: a conv with a shortcut adds
    the shortcut's counts shifted by its per-channel `residual_shift`, a concat joins channels, an upsample
    repeats each count on a factor x factor block. If `collect` is given, the spike counts of every firing layer
    are appended to it (for statistics). Internally channels-last, integer values held exactly in float32
    (float64 where a layer needs it).
    """
    frames = check_frames(net, frames)
    plans = {layer.name: _conv_plan(layer) for layer in net.layers if isinstance(layer, FewdIFConv | FewdIFHead)}

    def step(layer: Layer, xs: list[np.ndarray]) -> np.ndarray:
        if isinstance(layer, FewdIFConv | FewdIFHead):
            bound, dtype = plans[layer.name]
            v = conv2d_nhwc(xs[0].astype(dtype, copy=False), layer.weights, layer.bias, layer.stride,
                            layer.padding, dtype)
            if isinstance(layer, FewdIFHead):
                return np.ascontiguousarray(np.rint(v).astype(np.int64).transpose(0, 3, 1, 2))
            if layer.has_residual:
                scale = np.left_shift(1, np.asarray(layer.residual_shift, dtype=np.int64)).astype(dtype)
                v += xs[1].astype(dtype, copy=False) * scale
            y = fire_counts_nhwc(v, layer.thresholds, bound)
            if collect is not None:
                collect.append(y.transpose(0, 3, 1, 2).astype(np.uint8))
            return y
        if isinstance(layer, FewdIFMaxPool):
            return maxpool_nhwc(xs[0], layer.kernel, layer.stride)
        if isinstance(layer, FewdIFConcat):
            return np.concatenate([x.astype(np.float32, copy=False) for x in xs], axis=-1)
        return xs[0].repeat(layer.factor, axis=1).repeat(layer.factor, axis=2)  # upsample

    outs = [walk(net, frames[start:start + batch].transpose(0, 2, 3, 1), step)
            for start in range(0, len(frames), batch)]
    return [np.concatenate([o[h.name] for o in outs]) for h in net.heads]


def run_counts(net: FewdIFNetwork, frames: np.ndarray, batch: int = 16,
               collect: list[np.ndarray] | None = None) -> np.ndarray:
    """Head membrane V (int64 [N, K, Gh, Gw]) of a single-head network for uint8 frames [N, C, H, W].

    If `collect` is given, the spike counts of every firing layer are appended to it (for statistics).
    Networks with several heads: run_counts_heads.
    """
    net.head  # noqa: B018 - raises IRError naming the heads when there are several
    return run_counts_heads(net, frames, batch, collect)[0]


def dequantize(net: FewdIFNetwork, v: np.ndarray) -> np.ndarray:
    """Float head output, as the QONNX graph computes it: V times the per-channel output scale."""
    return v.astype(np.float64) * net.head.out_scale[None, :, None, None]
