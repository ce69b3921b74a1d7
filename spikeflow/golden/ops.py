"""Integer building blocks shared by both golden modes: frame checks, convolution, pooling."""

from __future__ import annotations

import numpy as np

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


def exact_dtype(magnitude_bound: int) -> type[np.floating]:
    """float32 when every partial sum is below 2^24 in magnitude (then float32 sums are exact), else float64."""
    return np.float32 if magnitude_bound < FLOAT32_EXACT else np.float64


def conv2d_nhwc(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int, padding: int,
                dtype: type[np.floating]) -> np.ndarray:
    """Integer-valued convolution in channels-last layout: x [N,H,W,C] -> V [N,Ho,Wo,K] in `dtype`, bias added.

    Exact when `dtype` is exact for the layer's magnitude bound (see `exact_dtype`): every product and partial
    sum is an integer below the float mantissa limit. im2col gathers k*k shifted slices (contiguous in C),
    then one BLAS matrix product.
    """
    n, h, w, c = x.shape
    kout, _, k, _ = weights.shape
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    if padding:
        xp = np.zeros((n, h + 2 * padding, w + 2 * padding, c), dtype)
        xp[:, padding:padding + h, padding:padding + w] = x
    else:
        xp = x.astype(dtype, copy=False)
    wmat = weights.transpose(2, 3, 1, 0).reshape(k * k * c, kout).astype(dtype)  # (dy, dx, c) x K
    if k == 1 and stride == 1:
        cols = xp.reshape(n * ho * wo, c)
    else:
        cols = np.empty((n, ho, wo, k * k, c), dtype)
        for dy in range(k):
            for dx in range(k):
                cols[:, :, :, dy * k + dx] = xp[:, dy:dy + stride * (ho - 1) + 1:stride,
                                                dx:dx + stride * (wo - 1) + 1:stride]
        cols = cols.reshape(n * ho * wo, k * k * c)
    out = cols @ wmat
    out += bias.astype(dtype)
    return out.reshape(n, ho, wo, kout)


def conv2d_int(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int, padding: int,
               magnitude_bound: int) -> np.ndarray:
    """Integer convolution of x [N,C,H,W] with weights [K,C,k,k] plus bias; returns int64 [N,K,Ho,Wo].

    Uses float32 BLAS when every partial sum is below 2^24 in magnitude (then exact), float64 otherwise.
    """
    dtype = exact_dtype(magnitude_bound)
    out = conv2d_nhwc(x.transpose(0, 2, 3, 1).astype(dtype), weights, bias, stride, padding, dtype)
    return np.rint(out).astype(np.int64).transpose(0, 3, 1, 2)


def maxpool_nhwc(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """Max-pool (no padding) of channels-last x [N,H,W,C]."""
    n, h, w, c = x.shape
    ho, wo = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    if kernel == stride:
        return x[:, :ho * kernel, :wo * kernel].reshape(n, ho, kernel, wo, kernel, c).max(axis=(2, 4))
    out = None
    for dy in range(kernel):
        for dx in range(kernel):
            s = x[:, dy:dy + stride * (ho - 1) + 1:stride, dx:dx + stride * (wo - 1) + 1:stride]
            out = s.copy() if out is None else np.maximum(out, s, out=out)
    return out


def maxpool_int(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    return maxpool_nhwc(x.transpose(0, 2, 3, 1), kernel, stride).transpose(0, 3, 1, 2)


def magnitude_bound(weights: np.ndarray, bias: np.ndarray, in_max: int) -> int:
    """Bound on |partial sum| of the convolution, bias included."""
    w = np.abs(weights.reshape(weights.shape[0], -1).astype(np.int64)).sum(axis=1) * in_max
    return int((w + np.abs(bias.astype(np.int64))).max())
