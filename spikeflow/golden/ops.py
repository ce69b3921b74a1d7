"""Integer building blocks shared by both golden modes: frame checks, convolution, pooling."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from spikeflow.errors import FrameError
from spikeflow.ir import FewdIFNetwork

FLOAT32_EXACT = 1 << 24


def check_frames(net: FewdIFNetwork, frames: np.ndarray) -> np.ndarray:
    """Return frames as uint8 [N, C, H, W]; raise FrameError naming the problem otherwise."""
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or tuple(frames.shape[1:]) != tuple(net.input_shape):
        raise FrameError(f"network {net.name!r} takes frames of shape [N, {', '.join(map(str, net.input_shape))}]"
                         f" (uint8 CHW), got {list(frames.shape)}")
    if frames.dtype != np.uint8:
        if not np.issubdtype(frames.dtype, np.integer) or frames.min() < 0 or frames.max() > 255:
            raise FrameError(f"frames must be 8-bit pixels (uint8 0..255), got dtype {frames.dtype}")
        frames = frames.astype(np.uint8)
    return frames


def conv2d_int(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int, padding: int,
               magnitude_bound: int) -> np.ndarray:
    """Integer convolution of x [N,C,H,W] with weights [K,C,k,k] plus bias; returns int64 [N,K,Ho,Wo].

    Uses float32 BLAS when every partial sum is below 2^24 in magnitude (then exact), float64 otherwise.
    """
    k = weights.shape[-1]
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dtype = np.float32 if magnitude_bound < FLOAT32_EXACT else np.float64
    win = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]  # N,C,Ho,Wo,k,k
    n, c, ho, wo = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k).astype(dtype)
    w = weights.reshape(weights.shape[0], -1).astype(dtype)
    out = cols @ w.T  # [N*Ho*Wo, K]
    out = out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)
    return np.rint(out).astype(np.int64) + bias.astype(np.int64)[None, :, None, None]


def maxpool_int(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    win = sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    return win.max(axis=(-2, -1))


def magnitude_bound(weights: np.ndarray, bias: np.ndarray, in_max: int) -> int:
    """Bound on |partial sum| of the convolution, bias included."""
    w = np.abs(weights.reshape(weights.shape[0], -1).astype(np.int64)).sum(axis=1) * in_max
    return int((w + np.abs(bias.astype(np.int64))).max())
