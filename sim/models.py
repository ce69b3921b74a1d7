"""Reference models and stream packing for the RTL testbenches; importable without a simulator."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def frame_bytes(frame: np.ndarray) -> bytes:
    """uint8 [C,H,W] -> AXI-Stream payload: raster order, channels interleaved, channel 0 first."""
    return np.ascontiguousarray(np.asarray(frame, dtype=np.uint8).transpose(1, 2, 0)).tobytes()


def output_values(v: np.ndarray) -> np.ndarray:
    """Head V [K,Gh,Gw] -> the output stream order (positions row-major, channel fastest)."""
    return np.asarray(v, dtype=np.int64).transpose(1, 2, 0).reshape(-1)


def values_from_bytes(data: bytes) -> np.ndarray:
    """Output stream payload (32-bit little-endian beats) -> int64 values."""
    return np.frombuffer(bytes(data), dtype="<i4").astype(np.int64)


def padded_frame(frame: np.ndarray, beats: int, pixels_per_beat: int) -> np.ndarray:
    """What the input adapter makes of a frame cut short after `beats` beats: the rest zero-padded."""
    c, h, w = frame.shape
    flat = np.asarray(frame).transpose(1, 2, 0).reshape(h * w, c).copy()
    flat[beats * pixels_per_beat:] = 0
    return flat.reshape(h, w, c).transpose(2, 0, 1)


def pack(values: np.ndarray, bits: int) -> int:
    """Unsigned fields (field 0 in the low bits) -> one integer."""
    out = 0
    for i, v in enumerate(np.asarray(values).reshape(-1).tolist()):
        out |= (int(v) & ((1 << bits) - 1)) << (i * bits)
    return out


def unpack(word: int, bits: int, n: int, signed: bool = False) -> np.ndarray:
    vals = [(int(word) >> (i * bits)) & ((1 << bits) - 1) for i in range(n)]
    if signed:
        vals = [v - (1 << bits) if v >> (bits - 1) else v for v in vals]
    return np.array(vals, dtype=np.int64)


def windows(image: np.ndarray, kernel: int, stride: int, padding: int) -> np.ndarray:
    """image [C,H,W] -> windows [Ho*Wo, k*k*C] in raster order, element (i*k+j)*C + c (as spikeflow_window)."""
    x = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(x, (kernel, kernel), axis=(1, 2))[:, ::stride, ::stride]  # C,Ho,Wo,k,k
    c, ho, wo = win.shape[:3]
    return win.transpose(1, 2, 3, 4, 0).reshape(ho * wo, kernel * kernel * c)


def neuron(win: np.ndarray, weights: np.ndarray, bias: np.ndarray, thresholds: np.ndarray | None) -> np.ndarray:
    """win [N, n], weights [K, n] (window element order) -> counts [N, K] (or V when thresholds is None)."""
    v = win.astype(np.int64) @ weights.astype(np.int64).T + bias.astype(np.int64)[None]
    if thresholds is None:
        return v
    return (v[:, :, None] >= thresholds[None]).sum(axis=2)


def maxpool(image: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """image [C,H,W] -> pooled pixels [Ho*Wo, C]."""
    win = sliding_window_view(image, (kernel, kernel), axis=(1, 2))[:, ::stride, ::stride]
    pooled = win.max(axis=(-2, -1))  # C,Ho,Wo
    return pooled.transpose(1, 2, 0).reshape(-1, image.shape[0])
